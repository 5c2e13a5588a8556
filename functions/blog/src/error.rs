//! Everything a blog request can fail with, each mapped to one status code here.

use runtime::ApiError;

/// Failures of the blog function.
#[derive(Debug, thiserror::Error)]
pub enum BlogError {
    /// Input breaks a rule (400).
    #[error("{0}")]
    Invalid(String),
    /// The caller may not touch this blog or comment (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such blog or comment, or not visible to the caller (404).
    #[error("{0}")]
    NotFound(String),
    /// The slug is already used by another blog (409).
    #[error("slug '{0}' is taken")]
    SlugTaken(String),
    /// The workflow does not allow this move from the blog's current state (400).
    #[error("{0}")]
    IllegalMove(String),
    /// MongoDB cannot be reached (503).
    #[error("the blog store is unavailable: {0}")]
    StoreDown(String),
    /// Anything else from MongoDB; logged, shown as 500.
    #[error("store error: {0}")]
    Store(String),
}

impl From<BlogError> for ApiError {
    fn from(err: BlogError) -> Self {
        let message = err.to_string();
        match err {
            BlogError::Invalid(_) | BlogError::IllegalMove(_) => ApiError::BadRequest(message),
            BlogError::Forbidden(_) => ApiError::Forbidden(message),
            BlogError::NotFound(_) => ApiError::NotFound(message),
            BlogError::SlugTaken(_) => ApiError::Conflict(message),
            BlogError::StoreDown(_) => {
                ApiError::Unavailable("the blog store is unavailable; retry shortly".into())
            }
            BlogError::Store(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<mongodb::error::Error> for BlogError {
    fn from(err: mongodb::error::Error) -> Self {
        use mongodb::error::ErrorKind;
        match *err.kind {
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. } => Self::StoreDown(err.to_string()),
            _ => Self::Store(err.to_string()),
        }
    }
}

/// Whether a MongoDB error is a unique-index violation (code 11000).
pub fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match &*err.kind {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == 11000,
        ErrorKind::Command(e) => e.code == 11000,
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .is_some_and(|w| w.iter().any(|e| e.code == 11000)),
        _ => {
            err.to_string().contains("E11000")
                || err.to_string().to_lowercase().contains("duplicate key")
        }
    }
}
