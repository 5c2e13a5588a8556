//! Events that are never lost: a function stores each event beside the change it announces (in the
//! same transaction, or before the change), publishes it to JetStream right after, and forgets it
//! only once JetStream has acknowledged it. What a request could not publish (NATS down, JetStream
//! not ready, the process killed) the relay sends later, in the order it was stored.
//!
//! Each event keeps its id as `Nats-Msg-Id` on every attempt, so the stream stores a re-sent event
//! once (within its duplicate window) and consumers can tell a redelivery by [`EventId`](crate::EventId).

use std::future::Future;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use bytes::Bytes;
use serde::Serialize;
use tracing::Instrument;

/// How long a request waits for JetStream to acknowledge its events before leaving them to the relay.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the relay looks for events no request managed to publish.
const RELAY_EVERY: Duration = Duration::from_secs(1);
/// Events younger than this are left to the request that stored them.
const RELAY_AFTER: Duration = Duration::from_secs(3);
/// Events the relay publishes per pass.
const RELAY_BATCH: usize = 256;

/// An event stored beside its change, waiting for JetStream's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// Unique id, sent as `Nats-Msg-Id`.
    pub id: String,
    /// Subject it is published on (captured by a stream).
    pub subject: String,
    /// The encoded event.
    pub payload: Bytes,
}

impl Staged {
    /// A new event with a fresh id, encoded as JSON.
    pub fn json<T: Serialize>(subject: &str, event: &T) -> Self {
        Self {
            id: nuid::next().to_string(),
            subject: subject.to_owned(),
            // Serialising a plain event struct cannot fail; an empty object keeps it visible if it did.
            payload: serde_json::to_vec(event)
                .unwrap_or_else(|_| b"{}".to_vec())
                .into(),
        }
    }
}

/// Where a function keeps its staged events until they are acknowledged.
pub trait OutboxStore: Send + Sync + 'static {
    /// Events stored at least `older_than` ago, oldest first, at most `limit`.
    fn pending(
        &self,
        older_than: Duration,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Staged>, String>> + Send;

    /// Forgets events JetStream acknowledged.
    fn delivered(&self, ids: &[String]) -> impl Future<Output = Result<(), String>> + Send;
}

/// Publishes `events` in order, each with its id as `Nats-Msg-Id`, and waits (bounded) for
/// JetStream's acknowledgements; returns the ids acknowledged. Publishing stops at the first
/// failure so a later event never overtakes an earlier one of the same batch.
pub async fn publish(client: &async_nats::Client, events: &[Staged]) -> Vec<String> {
    let mut context = jetstream::new(client.clone());
    context.set_timeout(SEND_TIMEOUT);
    let mut pending = Vec::with_capacity(events.len());
    for event in events {
        let mut headers = HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, event.id.as_str());
        let published = async {
            // Sent by a request, the event carries its trace to whoever applies it; sent by
            // the relay, it starts its own.
            if crate::telemetry::enabled() {
                crate::telemetry::inject(&mut headers);
            }
            context
                .publish_with_headers(event.subject.clone(), headers, event.payload.clone())
                .await
        };
        let published = if crate::telemetry::enabled() {
            published
                .instrument(crate::telemetry::publish_span(&event.subject))
                .await
        } else {
            published.await
        };
        match published {
            Ok(ack) => pending.push((event, ack)),
            Err(err) => {
                tracing::warn!(%err, subject = %event.subject, "event not sent; the outbox keeps it");
                break;
            }
        }
    }
    let mut acked = Vec::with_capacity(pending.len());
    for (event, ack) in pending {
        match ack.await {
            Ok(_) => acked.push(event.id.clone()),
            Err(err) => {
                tracing::warn!(%err, subject = %event.subject, "event not acknowledged; the outbox keeps it");
                break;
            }
        }
    }
    acked
}

/// Publishes the events a request has just stored and forgets those acknowledged; the rest stay
/// for the relay. Written before the reply on the same connection, so whoever gets the reply can
/// rely on every subscriber having been sent the event first.
pub async fn send<S: OutboxStore>(client: &async_nats::Client, store: &S, events: &[Staged]) {
    if events.is_empty() {
        return;
    }
    let acked = publish(client, events).await;
    if acked.is_empty() {
        return;
    }
    if let Err(err) = store.delivered(&acked).await {
        // Harmless: the relay sends them again and the stream drops the duplicates.
        tracing::warn!(%err, "acknowledged events not cleared from the outbox");
    }
}

/// Publishes whatever events requests left behind, for as long as the service runs (every
/// replica relays; the stream drops what two of them both send).
pub(crate) async fn relay<S: OutboxStore>(client: async_nats::Client, store: S) {
    let mut ticker = tokio::time::interval(RELAY_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if client.connection_state() != async_nats::connection::State::Connected {
            continue;
        }
        match store.pending(RELAY_AFTER, RELAY_BATCH).await {
            Ok(events) if !events.is_empty() => {
                tracing::info!(events = events.len(), "relaying stored events");
                send(&client, &store, &events).await;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(%err, "cannot read the outbox"),
        }
    }
}
