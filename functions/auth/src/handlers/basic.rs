//! Sign-up and sign-in with email and password.

use runtime::{Ctx, Json, State, handler};

use crate::dto::{SignedIn, SigninInput, SignupInput};
use crate::error::AuthError;
use crate::model::{NewUser, Role};
use crate::validate;
use crate::{AuthState, events};

/// Create an account (role LEARNER) and sign it in.
#[handler(subject = "auth.signup.basic", http = "POST /auth/signup/basic")]
pub async fn signup(
    ctx: Ctx,
    State(auth): State<AuthState>,
    Json(input): Json<SignupInput>,
) -> Result<SignedIn, AuthError> {
    let new = NewUser::try_from(input)?;
    // Cheap early answer for the common case; the unique index settles races.
    if auth.store.email_taken(&new.email).await? {
        return Err(AuthError::EmailTaken(new.email));
    }
    let hash = auth.passwords.hash(new.password.clone()).await?;
    let user = auth
        .store
        .insert_user(&new, &hash, &[Role::Learner])
        .await?;
    let tokens = auth.open_session(&user).await?;
    events::user_created(&ctx, &user).await;
    Ok(SignedIn {
        user: user.into(),
        tokens,
    })
}

/// Sign in with email and password; a wrong password takes as long as a right one.
#[handler(subject = "auth.signin.basic", http = "POST /auth/signin/basic")]
pub async fn signin(
    State(auth): State<AuthState>,
    Json(input): Json<SigninInput>,
) -> Result<SignedIn, AuthError> {
    let email = validate::email(&input.email)?;
    let user = auth.store.user_by_email(&email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = auth.passwords.verify(input.password, hash).await?;
    let user = user.ok_or(AuthError::UnknownUser(email))?;
    if !matches {
        return Err(AuthError::WrongPassword);
    }
    let tokens = auth.open_session(&user).await?;
    Ok(SignedIn {
        user: user.into(),
        tokens,
    })
}
