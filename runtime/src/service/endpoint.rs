//! One endpoint at work: its subscription loop, limits, panic and timeout handling, and replies.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::{Message, PublishErrorKind, Subscriber};
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, Span};

use super::deadline;
use super::discovery::{DurableStats, EndpointInfo, EndpointStats};
use super::idempotency::{self, Begin};
use super::stats::Stats;
use crate::authorize::Authorize;
use crate::ctx::Ctx;
use crate::error::ApiError;
use crate::extract::Parts;
use crate::logging::{self, RequestScope};
use crate::registry::{Access, HandlerDef};
use crate::reply;
use crate::request::Meta;
use crate::telemetry;
use crate::wire::meta;

/// What every endpoint of one service instance shares.
pub(crate) struct Shared {
    pub client: async_nats::Client,
    pub ctx: Ctx,
    /// Resolves callers; present whenever a selected handler needs one (checked at start).
    pub authorizer: Option<Arc<dyn Authorize>>,
    pub tracker: TaskTracker,
    /// Stored replies for writes that carry an `Idempotency-Key`.
    pub idempotency: idempotency::Keys,
}

/// A registered handler bound to its limits and counters.
pub(crate) struct Endpoint {
    pub def: &'static HandlerDef,
    pub name: String,
    pub metadata: BTreeMap<String, String>,
    pub stats: Stats,
    /// Consumer counters, for a durable handler.
    pub durable: DurableCounters,
    limit: Arc<Semaphore>,
    timeout: Duration,
}

impl Endpoint {
    pub fn new(
        def: &'static HandlerDef,
        default_timeout: Duration,
        default_concurrency: usize,
    ) -> Self {
        let timeout = match def.timeout_ms {
            0 => default_timeout,
            ms => Duration::from_millis(ms),
        };
        let concurrency = match def.concurrency {
            0 => default_concurrency,
            n => n,
        };
        Self {
            def,
            name: def.endpoint_name(),
            metadata: metadata_of(def),
            stats: Stats::default(),
            durable: DurableCounters::default(),
            limit: Arc::new(Semaphore::new(concurrency)),
            timeout,
        }
    }

    /// How long one call may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn info(&self) -> EndpointInfo {
        EndpointInfo {
            name: self.name.clone(),
            subject: self.def.subject.to_owned(),
            queue_group: self.def.queue_group().map(str::to_owned),
            metadata: self.metadata.clone(),
        }
    }

    pub fn stats(&self) -> EndpointStats {
        let snapshot = self.stats.snapshot();
        EndpointStats {
            name: self.name.clone(),
            subject: self.def.subject.to_owned(),
            queue_group: self.def.queue_group().map(str::to_owned),
            num_requests: snapshot.requests,
            num_errors: snapshot.errors,
            average_processing_time: snapshot.average_nanos(),
            processing_time: snapshot.processing_nanos,
            last_error: snapshot.last_error,
            metadata: self.metadata.clone(),
            data: self.def.durable.map(|durable| DurableStats {
                durable: durable.name.to_owned(),
                pending: self.durable.pending.load(Ordering::Relaxed),
                redeliveries: self.durable.redeliveries.load(Ordering::Relaxed),
                dead_lettered: self.durable.dead_lettered.load(Ordering::Relaxed),
            }),
        }
    }
}

/// What a durable handler's consumer reports in STATS.
#[derive(Default)]
pub(crate) struct DurableCounters {
    pub pending: AtomicU64,
    pub redeliveries: AtomicU64,
    pub dead_lettered: AtomicU64,
}

fn metadata_of(def: &HandlerDef) -> BTreeMap<String, String> {
    let mut metadata = BTreeMap::new();
    if let Some((method, path)) = def.http {
        metadata.insert(meta::HTTP_METHOD.to_owned(), method.to_owned());
        metadata.insert(meta::HTTP_PATH.to_owned(), path.to_owned());
    }
    metadata.insert(meta::ROLES.to_owned(), def.roles.join(","));
    metadata.insert(meta::AUTH.to_owned(), def.access.as_str().to_owned());
    if !def.description.is_empty() {
        metadata.insert(meta::DESCRIPTION.to_owned(), def.description.to_owned());
    }
    metadata
}

/// Takes messages until `stop`, then drains the subscription so nothing already routed here is lost.
pub(crate) async fn serve(
    endpoint: Arc<Endpoint>,
    shared: Arc<Shared>,
    mut subscriber: Subscriber,
    stop: CancellationToken,
) {
    let mut draining = false;
    // One waiter for the whole loop: a fresh `cancelled()` per message would lock the token's
    // waiter list twice per request.
    let stopped = stop.cancelled();
    tokio::pin!(stopped);
    loop {
        let message = tokio::select! {
            biased;
            () = &mut stopped, if !draining => {
                draining = true;
                if let Err(err) = subscriber.drain().await {
                    tracing::warn!(subject = endpoint.def.subject, %err, "cannot drain subscription");
                    break;
                }
                continue;
            }
            message = subscriber.next() => message,
        };
        let Some(mut message) = message else { break };
        // An event stored in JetStream (it carries its id) names JetStream's acknowledgement as its
        // reply subject: an answer from here would reach the publisher in place of that ack.
        if message
            .headers
            .as_ref()
            .is_some_and(|headers| headers.get(crate::wire::EVENT_ID).is_some())
        {
            message.reply = None;
        }
        let arrived = Instant::now();
        match endpoint.limit.clone().try_acquire_owned() {
            Ok(permit) => {
                // Most handlers that answer from memory or a warm cache finish on their first poll:
                // answering those inline saves a task spawn and a cross-thread wake-up per request.
                // Anything that has to wait moves to its own task, so the loop keeps taking messages.
                let mut work = Box::pin(handle(
                    endpoint.clone(),
                    shared.clone(),
                    message,
                    arrived,
                    permit,
                ));
                if futures::poll!(work.as_mut()).is_pending() {
                    shared.tracker.spawn(work);
                }
            }
            Err(_) => {
                let busy = ApiError::Unavailable(format!(
                    "'{}' is at its concurrency limit on this replica; retry shortly",
                    endpoint.def.subject
                ));
                respond(&endpoint, &shared.client, message.reply, Err(busy), arrived).await;
            }
        }
    }
}

async fn handle(
    endpoint: Arc<Endpoint>,
    shared: Arc<Shared>,
    message: Message,
    arrived: Instant,
    _permit: OwnedSemaphorePermit,
) {
    let meta = Meta::from_headers(&message.subject, message.headers.as_ref());
    let scope = RequestScope {
        subject: endpoint.def.subject,
        request_id: meta.request_id.clone(),
    };
    // Without tracing, no span is made at all: this is the hot path of every request.
    let span = telemetry::enabled().then(|| {
        telemetry::handler_span(
            endpoint.def.subject,
            message.reply.is_some(),
            message.headers.as_ref(),
        )
    });
    let work = logging::scope(scope, async move {
        let budget = match deadline::budget(
            message.headers.as_ref(),
            endpoint.timeout,
            std::time::SystemTime::now(),
        ) {
            Ok(budget) => budget,
            Err(expired) => {
                respond(
                    &endpoint,
                    &shared.client,
                    message.reply,
                    Err(expired),
                    arrived,
                )
                .await;
                return;
            }
        };
        let claim = match idempotent(endpoint.def, &message) {
            None => None,
            Some(Err(refused)) => {
                respond(
                    &endpoint,
                    &shared.client,
                    message.reply,
                    Err(refused),
                    arrived,
                )
                .await;
                return;
            }
            Some(Ok(request)) => match shared.idempotency.begin(request, budget.limit).await {
                Ok(Begin::Run(claim)) => Some(claim),
                Ok(Begin::Replay(headers, payload)) => {
                    if let Some(reply_to) = message.reply
                        && let Err(err) = shared
                            .client
                            .publish_with_headers(reply_to, headers, payload)
                            .await
                    {
                        tracing::warn!(%err, "cannot send a replayed reply");
                    }
                    endpoint.stats.record(arrived.elapsed(), None);
                    return;
                }
                Err(refused) => {
                    respond(
                        &endpoint,
                        &shared.client,
                        message.reply,
                        Err(refused),
                        arrived,
                    )
                    .await;
                    return;
                }
            },
        };
        let work =
            AssertUnwindSafe(call(endpoint.def, &shared, meta, message.payload)).catch_unwind();
        tokio::pin!(work);
        // A handler that answers on its first poll needs no timer: arming one costs a runtime
        // handle clone and a timer entry on every warm read.
        let finished = match futures::poll!(work.as_mut()) {
            std::task::Poll::Ready(done) => Ok(done),
            std::task::Poll::Pending => tokio::time::timeout(budget.limit, work).await,
        };
        let outcome = match finished {
            Err(_) if budget.by_deadline => Err(ApiError::Timeout(format!(
                "'{}' was stopped at the caller's deadline",
                endpoint.def.subject
            ))),
            Err(_) => Err(ApiError::Timeout(format!(
                "'{}' did not finish within {} ms",
                endpoint.def.subject,
                endpoint.timeout.as_millis()
            ))),
            Ok(Err(panic)) => Err(ApiError::internal(format!(
                "handler panicked: {}",
                panic_text(&panic)
            ))),
            Ok(Ok(outcome)) => outcome,
        };
        if let Some(claim) = claim {
            claim.finish(&outcome).await;
        }
        respond(&endpoint, &shared.client, message.reply, outcome, arrived).await;
    });
    match span {
        None => work.await,
        Some(span) => work.instrument(span).await,
    }
}

/// Writes (anything but GET and HEAD) carrying an `Idempotency-Key`; `None` for everything else.
fn idempotent(
    def: &HandlerDef,
    message: &Message,
) -> Option<Result<idempotency::Request, ApiError>> {
    if matches!(def.http, Some(("GET" | "HEAD", _))) {
        return None;
    }
    idempotency::Request::read(message.headers.as_ref(), def.subject, &message.payload)
}

pub(crate) async fn call(
    def: &'static HandlerDef,
    shared: &Shared,
    meta: Meta,
    payload: Bytes,
) -> Result<Bytes, ApiError> {
    let identity = match (def.access, &shared.authorizer) {
        (Access::Public, _) | (_, None) => None,
        (_, Some(authorizer)) => authorizer.authorize(def, &meta).await?,
    };
    (def.call)(
        Parts {
            ctx: shared.ctx.clone(),
            meta,
            identity,
        },
        payload,
    )
    .await
}

/// Sends the reply and records the outcome; a reply that cannot be sent counts as an error.
async fn respond(
    endpoint: &Endpoint,
    client: &async_nats::Client,
    reply_to: Option<async_nats::Subject>,
    outcome: Result<Bytes, ApiError>,
    arrived: Instant,
) {
    let status = outcome.as_ref().map_or_else(ApiError::code, |_| 200);
    let mut error = outcome.as_ref().err().map(|err| {
        match err {
            ApiError::Internal(cause) => tracing::error!(code = 500, %cause, "request failed"),
            err if err.code() >= 500 => tracing::warn!(code = err.code(), %err, "request failed"),
            err => tracing::debug!(code = err.code(), %err, "request rejected"),
        }
        format!("{} {err}", err.code())
    });
    if let Some(reply_to) = reply_to {
        let (size, sent) = match outcome {
            Ok(payload) => (
                payload.len(),
                client.publish(reply_to.clone(), payload).await,
            ),
            Err(err) => {
                let (headers, payload) = reply::encode_error(&err);
                let size = payload.len();
                let sent = client
                    .publish_with_headers(reply_to.clone(), headers, payload)
                    .await;
                (size, sent)
            }
        };
        if let Err(err) = sent {
            tracing::warn!(%err, size, "cannot send reply");
            error = Some(format!("reply not sent: {err}"));
            if err.kind() == PublishErrorKind::MaxPayloadExceeded {
                // Tell the caller at once rather than leave it waiting for its timeout.
                let too_big = ApiError::PayloadTooLarge(format!(
                    "the reply ({size} bytes) is larger than the NATS server's max payload; ask for less"
                ));
                let (headers, payload) = reply::encode_error(&too_big);
                let _ = client
                    .publish_with_headers(reply_to, headers, payload)
                    .await;
            }
        }
    }
    if telemetry::enabled() {
        telemetry::record_status(&Span::current(), status);
    }
    endpoint.stats.record(arrived.elapsed(), error);
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic payload")
}
