//! Serverless-style handler functions on NATS: write an `async fn`, put [`#[handler]`](handler) on
//! it, and the runtime serves it as an ADR-32 micro-service endpoint in a queue group.
//!
//! A complete function, `examples/greeter.rs` (`cargo run -p runtime --example greeter`):
//!
//! ```no_run
#![doc = include_str!("../examples/greeter.rs")]
//! ```
//!
//! - Every handler argument is an extractor: [`FromRequestParts`] for all but the last (shared
//!   [`State`], the request's [`Meta`], the service's [`Ctx`], a caller resolved by an
//!   [`Authorize`]), [`FromRequest`] for the last ([`Json`] input). What each needs is checked when
//!   the [`Service`] starts.
//! - A handler's error converts into [`ApiError`], which travels as ADR-32 error headers plus a
//!   JSON body ([`wire`]); [`request`] turns such a reply back into the typed error.
//! - Every replica of a service joins the same queue groups; run more to share the load.

#![deny(missing_docs)]

mod authorize;
mod config;
mod connect;
mod ctx;
mod drain;
mod durable;
mod encoded;
mod error;
mod excerpt;
mod extract;
mod hedge;
pub mod jetstream;
mod logging;
pub mod outbox;
mod registry;
mod reply;
mod request;
mod service;
pub mod telemetry;
pub mod wire;

pub use authorize::Authorize;
pub use config::{Config, LogFormat};
pub use connect::Connection;
pub use ctx::Ctx;
pub use drain::shutdown_signal;
pub use encoded::{Encoded, ToPayload};
pub use error::{ApiError, Error};
pub use extract::{EventId, FromRequest, FromRequestParts, Identity, Json, Need, Parts, State};
pub use hedge::{hedge_delay, in_progress, request_hedged};
pub use logging::init as init_logging;
pub use registry::{Access, Durable, HandlerDef, QueueGroup, handlers};
pub use reply::{decode, request, request_message};
pub use request::{Meta, new_request_id};
/// Registers an `async fn` as an endpoint of every [`Service`] in the binary.
///
/// Options: `subject` (required), `http = "METHOD /path/:param"` (the bridge's route),
/// `roles = [..]` (a caller needs one; ADMIN passes every check), `queue_group = ".."` or
/// `no_queue_group` (every replica hears every message), `timeout_ms` (504 past it) and
/// `concurrency` (503 at once past it), `durable = "name"` with `max_deliver = n` (consume the
/// subject's JetStream stream: ack after success, retries with back-off, then `dlq.<name>`). The doc comment is published as endpoint metadata.
///
/// ```
/// use runtime::{ApiError, Ctx, handler};
///
/// /// Evict this replica's cached copies; every replica hears it.
/// #[handler(subject = "catalog.events.changed", no_queue_group, timeout_ms = 1000)]
/// async fn changed(ctx: Ctx) -> Result<(), ApiError> {
///     tracing::info!(service = ctx.service(), "evicting");
///     Ok(())
/// }
/// # fn main() {}
/// ```
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
