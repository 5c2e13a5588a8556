//! Durable event handlers: a handler with `durable = ".."` reads its subject from the JetStream
//! stream that captures it through a shared pull consumer, so an event published while every
//! replica was away is applied when one comes back. Ack after success, retry with back-off,
//! and after the last delivery move the event with its error to `dlq.<durable>`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::pull};
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use crate::error::ApiError;
use crate::registry::Durable;
use crate::request::Meta;
use crate::service::endpoint::{self, Endpoint, Shared};
use crate::telemetry;

/// Header carrying the failing handler's error on a dead-lettered event.
pub const ERROR_HEADER: &str = "Dlq-Error";
/// Header carrying the subject the dead-lettered event was published on.
pub const SUBJECT_HEADER: &str = "Dlq-Subject";

/// Binds the durable consumer (waiting for the stream to exist) and applies its events until
/// `stop`; a lost consumer (server restart) is bound again.
pub(crate) async fn consume(
    endpoint: Arc<Endpoint>,
    shared: Arc<Shared>,
    durable: Durable,
    stop: CancellationToken,
) {
    let js = jetstream::new(shared.client.clone());
    loop {
        let run = async {
            let consumer = bind(&js, endpoint.def.subject, durable).await?;
            let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
            tracing::info!(
                durable = durable.name,
                subject = endpoint.def.subject,
                "durable consumer bound"
            );
            while let Some(message) = messages.next().await {
                match message {
                    Ok(message) => apply(&endpoint, &shared, durable, message).await,
                    Err(err) => tracing::warn!(durable = durable.name, %err, "pull failed"),
                }
            }
            Ok::<(), String>(())
        };
        tokio::select! {
            () = stop.cancelled() => return,
            outcome = run => if let Err(err) = outcome {
                tracing::warn!(durable = durable.name, subject = endpoint.def.subject, %err,
                    "durable consumer not bound yet; retrying");
            },
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn bind(
    js: &jetstream::Context,
    subject: &str,
    durable: Durable,
) -> Result<jetstream::consumer::Consumer<pull::Config>, String> {
    let name = js
        .stream_by_subject(subject)
        .await
        .map_err(|e| format!("no stream captures '{subject}': {e}"))?;
    let stream = js.get_stream(&name).await.map_err(|e| e.to_string())?;
    stream
        .get_or_create_consumer(
            durable.name,
            pull::Config {
                durable_name: Some(durable.name.to_owned()),
                filter_subject: subject.to_owned(),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                // One more than ours, so the server never drops an event before it is dead-lettered.
                max_deliver: i64::from(durable.max_deliver()) + 1,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())
}

async fn apply(
    endpoint: &Endpoint,
    shared: &Shared,
    durable: Durable,
    message: jetstream::Message,
) {
    let started = Instant::now();
    let (delivered, pending) = message
        .info()
        .map(|info| (info.delivered, info.pending))
        .unwrap_or((1, 0));
    endpoint.durable.pending.store(pending, Ordering::Relaxed);
    if delivered > 1 {
        endpoint
            .durable
            .redeliveries
            .fetch_add(1, Ordering::Relaxed);
    }
    let meta = Meta::from_headers(&message.subject, message.headers.as_ref());
    let span = if telemetry::enabled() {
        telemetry::handler_span(endpoint.def.subject, false, message.headers.as_ref())
    } else {
        Span::none()
    };
    let work = endpoint::call(endpoint.def, shared, meta, message.payload.clone());
    let timed = tokio::time::timeout(endpoint.timeout(), work)
        .instrument(span.clone())
        .await;
    telemetry::record_status(
        &span,
        match &timed {
            Ok(Ok(_)) => 200,
            Ok(Err(err)) => err.code(),
            Err(_) => 504,
        },
    );
    let outcome = match timed {
        Ok(outcome) => outcome.map(|_| ()).map_err(|err| describe(&err)),
        Err(_) => Err(format!(
            "'{}' did not finish within {} ms",
            endpoint.def.subject,
            endpoint.timeout().as_millis()
        )),
    };
    endpoint
        .stats
        .record(started.elapsed(), outcome.as_ref().err().cloned());
    let ack = match outcome {
        Ok(()) => AckKind::Ack,
        Err(err) if delivered >= i64::from(durable.max_deliver()) => {
            match dead_letter(shared, durable, &message, &err).await {
                Ok(()) => {
                    endpoint
                        .durable
                        .dead_lettered
                        .fetch_add(1, Ordering::Relaxed);
                    AckKind::Term
                }
                // Not parked: leave it to the server's redelivery rather than lose it.
                Err(publish) => {
                    tracing::error!(durable = durable.name, %publish, "dead-lettering failed");
                    AckKind::Nak(Some(backoff(delivered)))
                }
            }
        }
        Err(err) => {
            tracing::warn!(durable = durable.name, delivered, %err, "event failed; retrying");
            AckKind::Nak(Some(backoff(delivered)))
        }
    };
    if let Err(err) = message.ack_with(ack).await {
        tracing::warn!(durable = durable.name, %err, "ack failed; the event will come again");
    }
}

/// The error as operators read it on the dead-letter subject: the internal cause included, since
/// no caller sees it.
fn describe(err: &ApiError) -> String {
    match err {
        ApiError::Internal(cause) => format!("500 {cause}"),
        err => format!("{} {err}", err.code()),
    }
}

/// 100 ms doubled per delivery, at most 10 s.
fn backoff(delivered: i64) -> Duration {
    let exponent = u32::try_from(delivered.clamp(1, 8) - 1).unwrap_or(0);
    Duration::from_millis(100 * 2u64.pow(exponent)).min(Duration::from_secs(10))
}

async fn dead_letter(
    shared: &Shared,
    durable: Durable,
    message: &jetstream::Message,
    error: &str,
) -> Result<(), String> {
    let mut headers = message.headers.clone().unwrap_or_default();
    headers.insert(ERROR_HEADER, error);
    headers.insert(SUBJECT_HEADER, message.subject.as_str());
    shared
        .client
        .publish_with_headers(
            durable.dead_letter_subject(),
            headers,
            message.payload.clone(),
        )
        .await
        .map_err(|e| e.to_string())?;
    shared.client.flush().await.map_err(|e| e.to_string())
}
