//! A request safe to run twice that has gone unanswered for a while is sent once more; the first
//! real answer wins.
//!
//! A request can vanish on its way to a replica that is draining: async-nats forgets a drained
//! subscription as soon as its UNSUB is written, not once the server has seen it, so a message the
//! server routed there in between is dropped on arrival (nats-io/nats.rs#1325). A subscriber's
//! full channel drops messages the same way. Neither end can tell; only a second copy can. Only
//! requests that may run twice are hedged: reads, and writes deduplicated by an `Idempotency-Key`,
//! whose second copy finds the first still running (409, not a replay) and so leaves the answer to
//! the first.

use std::time::Duration;

use async_nats::{Client, HeaderMap, Message};
use bytes::Bytes;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::wire;

/// How long a request waits for an answer before its second copy goes out: a quarter of its
/// budget, at most a second. Far above a healthy answer's time, so copies stay rare.
pub fn hedge_delay(timeout: Duration) -> Duration {
    (timeout / 4).min(Duration::from_secs(1))
}

/// As [`request_message`](crate::request_message), with a second copy after [`hedge_delay`]
/// without an answer. `headers` builds each copy's headers. Only for requests safe to run twice.
pub async fn request_hedged(
    client: &Client,
    subject: &str,
    mut headers: impl FnMut() -> HeaderMap,
    payload: Bytes,
    timeout: Duration,
) -> Result<Message, ApiError> {
    let deadline = Instant::now() + timeout;
    let first = crate::request_message(client, subject, headers(), payload.clone(), timeout);
    tokio::pin!(first);
    let delay = hedge_delay(timeout);
    tokio::select! {
        reply = &mut first => return reply,
        () = tokio::time::sleep(delay) => {}
    }
    tracing::info!(subject, ?delay, "no answer yet; sending a second copy");
    let remaining = deadline.saturating_duration_since(Instant::now());
    let second = crate::request_message(client, subject, headers(), payload, remaining);
    tokio::pin!(second);
    let (mut first_reply, mut second_done) = (None, false);
    loop {
        tokio::select! {
            reply = &mut first, if first_reply.is_none() => {
                if settles(&reply) {
                    return reply;
                }
                first_reply = Some(reply);
            }
            reply = &mut second, if !second_done => {
                if settles(&reply) {
                    return reply;
                }
                second_done = true;
            }
        }
        // Neither copy was answered for real: the first's outcome is what one copy would have had.
        if second_done && let Some(reply) = first_reply {
            return reply;
        }
    }
}

/// Whether a copy's outcome is the request's answer; otherwise the other copy may still bring it.
fn settles(reply: &Result<Message, ApiError>) -> bool {
    match reply {
        Ok(message) => !in_progress(message),
        // No responders, or silence: the other copy may still be answered.
        Err(err) => !matches!(err.code(), 503 | 504),
    }
}

/// A 409 that is not a replay: "this key's first attempt is still running", so its answer comes
/// from that attempt, not this one.
pub fn in_progress(message: &Message) -> bool {
    message.headers.as_ref().is_some_and(|h| {
        h.get(wire::ERROR_CODE_HEADER)
            .is_some_and(|code| code.as_str() == "409")
            && h.get(wire::IDEMPOTENT_REPLAYED).is_none()
    })
}
