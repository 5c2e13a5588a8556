//! Profiles: the caller's own, anyone's public one, and the internal user lookup.

use contracts::Caller;
use runtime::{Ctx, Json, State, handler};

use crate::AuthState;
use crate::dto::{IdInput, PrivateUser, ProfileUpdateInput, PublicUser};
use crate::error::AuthError;
use crate::model::User;
use crate::{events, validate};

/// The caller's private profile: email and roles included.
#[handler(subject = "auth.profile.mine", http = "GET /auth/profile/mine")]
pub async fn mine(State(auth): State<AuthState>, caller: Caller) -> Result<PrivateUser, AuthError> {
    Ok(find(&auth, caller.id()).await?.into())
}

/// Lets users change their own name or picture; the blog renames them on their blogs.
#[handler(subject = "auth.profile.update", http = "PUT /auth/profile")]
pub async fn update(
    ctx: Ctx,
    State(auth): State<AuthState>,
    caller: Caller,
    Json(input): Json<ProfileUpdateInput>,
) -> Result<PrivateUser, AuthError> {
    if input.name.is_none() && input.profile_pic_url.is_none() {
        return Err(AuthError::Invalid(
            "nothing to update: give name or profilePicUrl".into(),
        ));
    }
    let name = input.name.as_deref().map(validate::name).transpose()?;
    let picture = input
        .profile_pic_url
        .map(|url| validate::picture_url(Some(url)))
        .transpose()?;
    let id = validate::id("id", caller.id())?;
    let (user, changed) = auth
        .store
        .update_profile(id, name.as_deref(), picture.as_ref().map(Option::as_deref))
        .await?
        .ok_or_else(|| AuthError::NotFound(format!("no user has id '{id}'")))?;
    events::send(&ctx, &auth, &changed).await;
    Ok(user.into())
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
