//! Access-token verification (for every service's guard), refresh and sign-out.

use contracts::Caller;
use contracts::auth::TokenVerifyRequest;
use runtime::{Ctx, Json, Meta, State, handler};

use crate::dto::{Message, RefreshInput, TokenPair};
use crate::error::AuthError;
use crate::session::{REUSED, Refreshed};
use crate::{AuthState, events};

/// Resolve an access token to its caller (user and roles); 401 when invalid, expired or revoked.
#[handler(subject = "auth.token.verify")]
pub async fn verify(
    ctx: Ctx,
    State(auth): State<AuthState>,
    Json(input): Json<TokenVerifyRequest>,
) -> Result<Caller, AuthError> {
    auth.cache.follow_revocations(ctx.nats()).await;
    auth.verify_access(&input.access_token).await
}

/// Swap a token pair for a new one; the old pair stops working, and replaying a used refresh
/// token revokes every pair of that sign-in.
#[handler(subject = "auth.token.refresh", http = "POST /auth/token/refresh")]
pub async fn refresh(
    ctx: Ctx,
    State(auth): State<AuthState>,
    meta: Meta,
    Json(input): Json<RefreshInput>,
) -> Result<TokenPair, AuthError> {
    let access = meta.token.ok_or_else(|| {
        AuthError::InvalidToken("the access token is required in the Authorization header".into())
    })?;
    match auth.refresh(&access, &input.refresh_token).await? {
        Refreshed::Pair(tokens, revoked) => {
            events::send(&ctx, &auth, &revoked).await;
            Ok(tokens)
        }
        Refreshed::Reused(revoked) => {
            events::send(&ctx, &auth, &revoked).await;
            Err(AuthError::InvalidToken(REUSED.into()))
        }
    }
}

/// Sign out: the caller's token pair stops working at once, on every service.
#[handler(subject = "auth.signout", http = "DELETE /auth/signout")]
pub async fn signout(
    ctx: Ctx,
    State(auth): State<AuthState>,
    caller: Caller,
) -> Result<Message, AuthError> {
    let revoked = auth.close_session(&caller.token_id).await?;
    events::send(&ctx, &auth, revoked.as_slice()).await;
    Ok(Message::new("signed out"))
}
