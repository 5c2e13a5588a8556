//! Sign-up and sign-in with email and password.

use runtime::{Ctx, Json, Meta, State, handler};

use crate::dto::{SignedIn, SigninInput, SignupInput};
use crate::error::AuthError;
use crate::model::{NewUser, Role};
use crate::throttle::{UNKNOWN_CLIENT, retry_after_secs};
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
    let (user, created) = auth
        .store
        .insert_user(&new, &hash, &[Role::Learner])
        .await?;
    events::send(&ctx, &auth, &created).await;
    let tokens = auth.open_session(&user).await?;
    Ok(SignedIn {
        user: user.into(),
        tokens,
    })
}

/// Sign in with email and password; a wrong password takes as long as a right one.
///
/// Failures are throttled per account and per client address (`X-Client-Addr`, set by the
/// bridge): past the limit the answer is 429 with `Retry-After`, before the password is checked.
/// A success forgives the account's failures, not the address's, so one real account does not
/// let its holder guess at others without limit.
#[handler(subject = "auth.signin.basic", http = "POST /auth/signin/basic")]
pub async fn signin(
    State(auth): State<AuthState>,
    meta: Meta,
    Json(input): Json<SigninInput>,
) -> Result<SignedIn, AuthError> {
    let email = validate::email(&input.email)?;
    let client = meta.client_addr.as_deref().unwrap_or(UNKNOWN_CLIENT);
    for (throttle, key) in [
        (&auth.signin_accounts, &email[..]),
        (&auth.signin_addrs, client),
    ] {
        if let Err(wait) = throttle.check(key).await {
            return Err(AuthError::TooManyAttempts(retry_after_secs(wait)));
        }
    }
    let user = auth.store.user_by_email(&email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = auth.passwords.verify(input.password, hash).await?;
    let user = match user {
        Some(user) if matches => user,
        other => {
            let account = auth.signin_accounts.failed(&email).await;
            let address = auth.signin_addrs.failed(client).await;
            if let Some(wait) = account.max(address) {
                tracing::warn!(client, "sign-in failures locked out");
                return Err(AuthError::TooManyAttempts(retry_after_secs(wait)));
            }
            return Err(match other {
                Some(_) => AuthError::WrongPassword,
                None => AuthError::UnknownUser(email),
            });
        }
    };
    auth.signin_accounts.reset(&email).await;
    let tokens = auth.open_session(&user).await?;
    Ok(SignedIn {
        user: user.into(),
        tokens,
    })
}
