//! Profiles: the caller's own, anyone's public one, and the internal user lookup.

use contracts::Caller;
use runtime::{Json, State, handler};

use crate::AuthState;
use crate::dto::{IdInput, PrivateUser, PublicUser};
use crate::error::AuthError;
use crate::model::User;
use crate::validate;

/// The caller's private profile: email and roles included.
#[handler(subject = "auth.profile.mine", http = "GET /auth/profile/mine")]
pub async fn mine(State(auth): State<AuthState>, caller: Caller) -> Result<PrivateUser, AuthError> {
    Ok(find(&auth, caller.id()).await?.into())
}

/// Anyone's public profile: name and picture.
#[handler(subject = "auth.profile.get", http = "GET /auth/profile/id/:id")]
pub async fn public(
    State(auth): State<AuthState>,
    Json(input): Json<IdInput>,
) -> Result<PublicUser, AuthError> {
    Ok(find(&auth, &input.id).await?.into())
}

/// A user's public fields, for other services (the blog copies author names).
#[handler(subject = "auth.user.get")]
pub async fn user(
    State(auth): State<AuthState>,
    Json(input): Json<IdInput>,
) -> Result<PublicUser, AuthError> {
    Ok(find(&auth, &input.id).await?.into())
}

async fn find(auth: &AuthState, id: &str) -> Result<User, AuthError> {
    let id = validate::id("id", id)?;
    auth.store
        .user_by_id(id)
        .await?
        .ok_or_else(|| AuthError::NotFound(format!("no user has id '{id}'")))
}
