//! The one error type a handler returns; each variant maps to one status code here and nowhere else.

use crate::wire::ErrorBody;

/// A failed request as the caller sees it: a status code and a message saying what was wrong.
///
/// A function keeps its own error enum and converts it here, in one place:
///
/// ```
/// use runtime::ApiError;
///
/// #[derive(Debug, thiserror::Error)]
/// enum ShopError {
///     #[error("item '{0}' is sold out")]
///     SoldOut(String),
///     #[error("database: {0}")]
///     Database(String),
/// }
///
/// impl From<ShopError> for ApiError {
///     fn from(err: ShopError) -> Self {
///         match err {
///             ShopError::SoldOut(_) => ApiError::Conflict(err.to_string()),
///             // The cause is logged; the caller sees only "internal error".
///             ShopError::Database(_) => ApiError::internal(err),
///         }
///     }
/// }
///
/// let err = ApiError::from(ShopError::SoldOut("mug".into()));
/// assert_eq!((err.code(), err.to_string()), (409, "item 'mug' is sold out".to_owned()));
/// assert_eq!(ApiError::from(ShopError::Database("down".into())).body().message, "internal error");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The input is malformed or breaks a rule (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials were presented (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The thing asked for does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with existing state, e.g. a taken email (409).
    #[error("{0}")]
    Conflict(String),
    /// The payload is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The input is well-formed but cannot be processed (422).
    #[error("{0}")]
    Unprocessable(String),
    /// The caller made too many attempts; retry after `retry_after_secs` (429, `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        /// What was refused, worded for the caller.
        message: String,
        /// Seconds until an attempt may succeed again.
        retry_after_secs: u64,
    },
    /// Something broke on our side; the cause is logged, the caller sees a generic message (500).
    #[error("internal error")]
    Internal(String),
    /// A dependency is down or this replica is saturated (503).
    #[error("{0}")]
    Unavailable(String),
    /// The work did not finish in time (504).
    #[error("{0}")]
    Timeout(String),
}

impl ApiError {
    /// Wraps an internal cause; only the log sees its text.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The HTTP-style status code carried in `Nats-Service-Error-Code`.
    pub fn code(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::PayloadTooLarge(_) => 413,
            Self::Unprocessable(_) => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Internal(_) => 500,
            Self::Unavailable(_) => 503,
            Self::Timeout(_) => 504,
        }
    }

    /// Rebuilds an error from a status code and message read off a reply.
    pub fn from_code(code: u16, message: impl Into<String>) -> Self {
        let message = message.into();
        match code {
            400 => Self::BadRequest(message),
            401 => Self::Unauthorized(message),
            403 => Self::Forbidden(message),
            404 => Self::NotFound(message),
            409 => Self::Conflict(message),
            413 => Self::PayloadTooLarge(message),
            422 => Self::Unprocessable(message),
            429 => Self::TooManyRequests {
                message,
                retry_after_secs: 1,
            },
            503 => Self::Unavailable(message),
            504 => Self::Timeout(message),
            _ => Self::Internal(message),
        }
    }

    /// Seconds the caller should wait before retrying, for the `Retry-After` header.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The wire body sent to the caller; internal causes never leave the process.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// Errors that stop a service from starting or running, as opposed to failing one request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two handlers in one binary claim the same subject.
    #[error("subject '{subject}' is registered twice: {first} and {second}")]
    DuplicateSubject {
        /// The contested subject.
        subject: &'static str,
        /// Where the first handler is written.
        first: &'static str,
        /// Where the second handler is written.
        second: &'static str,
    },
    /// A subject cannot be served (wildcards, empty tokens) or yields no valid endpoint name.
    #[error("subject '{0}' is not a valid endpoint subject: {1}")]
    InvalidSubject(&'static str, &'static str),
    /// The service name or version breaks the ADR-32 rules.
    #[error("invalid service definition: {0}")]
    InvalidService(String),
    /// `--only` selected nothing, which is almost certainly a typo.
    #[error("--only {0:?} matches no registered handler")]
    NothingSelected(Vec<String>),
    /// A selected handler reads a state type the service was never given.
    #[error(
        "handler '{subject}' ({location}) needs state {type_name}, which the service was never given"
    )]
    MissingState {
        /// The handler's subject.
        subject: &'static str,
        /// Where the handler is written.
        location: &'static str,
        /// The missing type.
        type_name: &'static str,
    },
    /// A selected handler needs a caller identity, but the service has no authorizer.
    #[error("handler '{subject}' ({location}) needs a caller, but the service has no authorizer")]
    NoAuthorizer {
        /// The handler's subject.
        subject: &'static str,
        /// Where the handler is written.
        location: &'static str,
    },
    /// Connecting or talking to NATS failed.
    #[error("nats: {0}")]
    Nats(String),
    /// A connection setting is missing, contradictory or names an unreadable file.
    #[error("nats settings: {0}")]
    Config(String),
    /// NATS refused our credentials; retrying would not help.
    #[error("bad NATS credentials: {0}")]
    BadCredentials(String),
    /// `--check` found no live instance of the service.
    #[error("health check failed: {0}")]
    Unhealthy(String),
    /// Start-up of the function's own dependencies failed (database, cache).
    #[error("{0}")]
    Startup(String),
}

impl Error {
    /// Wraps a start-up failure of a function's own dependency.
    pub fn startup(what: &str, cause: impl std::fmt::Display) -> Self {
        Self::Startup(format!("{what}: {cause}"))
    }
}
