//! Everything an auth request can fail with; each variant maps to one status code, here only.

use runtime::ApiError;

/// A failed auth request as the caller sees it.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The input breaks a rule; the message names the field (400).
    #[error("{0}")]
    Invalid(String),
    /// Sign-up with an email that already has an account (409).
    #[error("email '{0}' is already registered")]
    EmailTaken(String),
    /// Sign-in with a password that does not match (401).
    #[error("wrong password")]
    WrongPassword,
    /// Sign-in with an email nobody registered (404, as gomicro answers).
    #[error("no user is registered with email '{0}'")]
    UnknownUser(String),
    /// A token that is malformed, forged, expired or revoked (401).
    #[error("{0}")]
    InvalidToken(String),
    /// No API key was presented (401).
    #[error("an API key is required")]
    MissingApiKey,
    /// The API key is unknown or revoked (403).
    #[error("the API key is invalid or revoked")]
    InvalidApiKey,
    /// Too many failed attempts from this caller; retry after the given seconds (429).
    #[error("too many failed attempts; retry in {0} s")]
    TooManyAttempts(u64),
    /// The thing asked for does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// PostgreSQL cannot be reached in time (503).
    #[error("the user database is unavailable, try again shortly")]
    Unavailable(String),
    /// A bug or unexpected failure on our side; the cause is logged, never shown (500).
    #[error("internal error")]
    Internal(String),
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let message = err.to_string();
        match err {
            AuthError::Invalid(_) => ApiError::BadRequest(message),
            AuthError::EmailTaken(_) => ApiError::Conflict(message),
            AuthError::WrongPassword | AuthError::InvalidToken(_) | AuthError::MissingApiKey => {
                ApiError::Unauthorized(message)
            }
            AuthError::InvalidApiKey => ApiError::Forbidden(message),
            AuthError::TooManyAttempts(retry_after_secs) => ApiError::TooManyRequests {
                message,
                retry_after_secs,
            },
            AuthError::UnknownUser(_) | AuthError::NotFound(_) => ApiError::NotFound(message),
            AuthError::Unavailable(cause) => {
                tracing::warn!(%cause, "postgres unavailable");
                ApiError::Unavailable(message)
            }
            AuthError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                AuthError::Unavailable(err.to_string())
            }
            sqlx::Error::Database(ref db) if db.code().as_deref() == Some("57P01") => {
                // admin_shutdown: the server is going away under us.
                AuthError::Unavailable(err.to_string())
            }
            other => AuthError::Internal(format!("postgres: {other}")),
        }
    }
}

impl From<tokio::task::JoinError> for AuthError {
    fn from(err: tokio::task::JoinError) -> Self {
        AuthError::Internal(format!("blocking task failed: {err}"))
    }
}
