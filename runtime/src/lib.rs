//! Serverless-style handler functions on NATS: write an `async fn`, put `#[handler]` on it, and
//! the runtime serves it as an ADR-32 micro-service endpoint in a queue group.
//!
//! ```ignore
//! /// Create a draft owned by the caller.
//! #[runtime::handler(subject = "blog.author.create", http = "POST /blog/author", roles = ["AUTHOR"])]
//! async fn create(ctx: Ctx, caller: Caller, input: CreateBlog) -> Result<PrivateBlog, ApiError> { .. }
//! ```

pub mod authorize;
pub mod config;
pub mod connect;
pub mod ctx;
pub mod drain;
pub mod error;
pub mod extract;
pub mod logging;
pub mod registry;
pub mod reply;
pub mod request;
pub mod service;
pub mod wire;

pub use authorize::Authorize;
pub use config::Config;
pub use ctx::Ctx;
pub use error::{ApiError, Error};
pub use extract::{FromRequest, FromRequestParts, Identity, Json, Need, Parts, State};
pub use registry::{Access, HandlerDef};
pub use reply::request;
pub use request::Meta;
pub use runtime_macros::handler;
pub use service::{Running, Service};

/// What the `#[handler]` expansion refers to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::{access_of, needs_of};
    pub use crate::registry::{HANDLERS, QueueGroup};
    pub use crate::request::output;
    pub use bytes::Bytes;
    pub use futures::future::BoxFuture;
    pub use linkme;
}
