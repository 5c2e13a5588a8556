//! The seam between the runtime and whoever knows callers: the runtime asks, it does not resolve.

use futures::future::BoxFuture;
use tokio::task::JoinHandle;

use crate::error::{ApiError, Error};
use crate::extract::Identity;
use crate::registry::HandlerDef;
use crate::request::Meta;

/// Resolves the caller of a request to a handler that is not public, and enforces its roles.
///
/// The runtime knows only the NATS services protocol; a function hands its service an
/// authorizer (`Service::authorizer`), and a service with a handler that needs an identity
/// refuses to start without one.
pub trait Authorize: Send + Sync + 'static {
    /// Starts what the authorizer runs beside the endpoints (e.g. a revocation listener); called
    /// once at start, only when a selected handler needs an identity. The task stops at shutdown.
    fn start(&self) -> BoxFuture<'_, Result<Option<JoinHandle<()>>, Error>> {
        Box::pin(async { Ok(None) })
    }

    /// Forgets every cached caller: the connection to NATS was lost, so revocations may have
    /// been missed. Called before the replica serves again.
    fn reset(&self) {}

    /// The caller of a request to `def` (`None` when the handler allows anonymous callers and
    /// none was presented), or why it may not proceed (401/403/503).
    fn authorize<'a>(
        &'a self,
        def: &'static HandlerDef,
        meta: &'a Meta,
    ) -> BoxFuture<'a, Result<Option<Identity>, ApiError>>;
}

/// Builds a service's authorizer once the service has its NATS connection.
pub(crate) type MakeAuthorizer =
    Box<dyn FnOnce(async_nats::Client) -> Box<dyn Authorize> + Send + 'static>;
