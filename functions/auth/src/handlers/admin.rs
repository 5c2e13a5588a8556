//! Administration: API keys and user roles (ADMIN only).

use runtime::{Ctx, Json, State, handler};

use crate::dto::{CreateApiKeyInput, CreatedApiKey, IdInput, Message, PrivateUser, SetRolesInput};
use crate::error::AuthError;
use crate::{AuthState, events, validate};

/// Create an API key; the plaintext key is in this reply only, the store keeps its hash.
#[handler(subject = "auth.admin.apikey.create", http = "POST /auth/admin/apikey", roles = ["ADMIN"])]
pub async fn create_api_key(
    State(auth): State<AuthState>,
    Json(input): Json<CreateApiKeyInput>,
) -> Result<CreatedApiKey, AuthError> {
    let comment = validate::comment(&input.comment)?;
    auth.create_api_key(&comment).await
}

/// Revoke an API key at once, cached checks included.
#[handler(subject = "auth.admin.apikey.revoke", http = "DELETE /auth/admin/apikey/id/:id", roles = ["ADMIN"])]
pub async fn revoke_api_key(
    ctx: Ctx,
    State(auth): State<AuthState>,
    Json(input): Json<IdInput>,
) -> Result<Message, AuthError> {
    let id = validate::id("id", &input.id)?;
    let revoked = auth.revoke_api_key(id).await?;
    events::send(&ctx, &auth, &[revoked]).await;
    Ok(Message::new("api key revoked"))
}

/// Set a user's roles; identities cached with the old roles are dropped everywhere.
#[handler(subject = "auth.admin.roles.set", http = "PUT /auth/admin/roles/id/:id", roles = ["ADMIN"])]
pub async fn set_roles(
    ctx: Ctx,
    State(auth): State<AuthState>,
    Json(input): Json<SetRolesInput>,
) -> Result<PrivateUser, AuthError> {
    let id = validate::id("id", &input.id)?;
    let roles = validate::roles(&input.roles)?;
    let (user, changed) = auth
        .store
        .set_roles(id, &roles)
        .await?
        .ok_or_else(|| AuthError::NotFound(format!("no user has id '{id}'")))?;
    auth.forget_user_sessions(id).await?;
    events::send(&ctx, &auth, &changed).await;
    Ok(user.into())
}
