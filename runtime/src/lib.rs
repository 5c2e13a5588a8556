//! Serverless-style handler functions on NATS: write an `async fn`, put `#[handler]` on it, and
//! the runtime serves it as an ADR-32 micro-service endpoint in a queue group.
//!
//! ```ignore
//! /// Create a draft owned by the caller.
//! #[runtime::handler(subject = "blog.author.create", http = "POST /blog/author", roles = ["AUTHOR"])]
//! async fn create(ctx: Ctx, caller: Caller, input: CreateBlog) -> Result<PrivateBlog, ApiError> { .. }
//! ```

#![deny(missing_docs)]

mod authorize;
mod config;
mod connect;
mod ctx;
mod drain;
mod error;
mod extract;
mod logging;
mod registry;
mod reply;
mod request;
mod service;
pub mod wire;

pub use authorize::Authorize;
pub use config::{Config, LogFormat};
pub use connect::Connection;
pub use ctx::Ctx;
pub use drain::shutdown_signal;
pub use error::{ApiError, Error};
pub use extract::{FromRequest, FromRequestParts, Identity, Json, Need, Parts, State};
pub use logging::init as init_logging;
pub use registry::{Access, HandlerDef, QueueGroup, handlers};
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
