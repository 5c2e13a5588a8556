//! The context a handler gets: its service's shared state and a NATS client.

use std::sync::Arc;

use serde::Serialize;
use tracing::Instrument;

use crate::error::ApiError;
use crate::telemetry;

/// Cheap-to-clone handle on what a service shares between requests.
#[derive(Clone)]
pub struct Ctx {
    inner: Arc<Inner>,
}

struct Inner {
    nats: async_nats::Client,
    state: http::Extensions,
    service: String,
}

impl Ctx {
    pub(crate) fn new(nats: async_nats::Client, state: http::Extensions, service: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                nats,
                state,
                service,
            }),
        }
    }

    /// Shared state registered with `Service::state`, for code that looks it up dynamically;
    /// handlers take a `State<T>` argument instead, which the service checks at start.
    pub fn try_state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.state.get::<T>()
    }

    /// The NATS connection, for handlers that call other functions.
    pub fn nats(&self) -> &async_nats::Client {
        &self.inner.nats
    }

    /// Name of the service serving this request.
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// Publishes an event (pub/sub, heard by every replica) as JSON.
    pub async fn publish<T: Serialize>(&self, subject: &str, event: &T) -> Result<(), ApiError> {
        let payload = serde_json::to_vec(event).map_err(ApiError::internal)?;
        let unavailable = |err: async_nats::PublishError| {
            ApiError::Unavailable(format!("cannot publish {subject}: {err}"))
        };
        if !telemetry::enabled() {
            return self
                .inner
                .nats
                .publish(subject.to_owned(), payload.into())
                .await
                .map_err(unavailable);
        }
        // The event carries the trace of the request that caused it to whoever applies it.
        async {
            let mut headers = async_nats::HeaderMap::new();
            telemetry::inject(&mut headers);
            self.inner
                .nats
                .publish_with_headers(subject.to_owned(), headers, payload.into())
                .await
                .map_err(unavailable)
        }
        .instrument(telemetry::publish_span(subject))
        .await
    }
}
