//! Requests in flight when the NATS connection drops: answered at once instead of at their deadline.
//!
//! A reply cannot cross a dropped connection, so a request still waiting when it drops would only
//! time out. Safe requests (GET, HEAD) and writes carrying an `Idempotency-Key` are sent again on
//! the new connection, within the same deadline (again on a 503 while handlers come back, for up
//! to [`REJOIN_WAIT`]); anything else, a second drop, or no new connection within [`REJOIN_WAIT`],
//! is a 503 with `Retry-After`. A resent keyed write that finds its first attempt still running
//! (409 from the function, not a replay) asks again until that attempt's reply is stored. While
//! the server has announced lame duck mode, a request that finds the connection down waits for the
//! move to another node rather than failing at once. A rolling restart of NATS nodes relies on
//! this to cost clients no failed requests. The same requests are also hedged
//! ([`runtime::request_hedged`]): a copy lost to a draining function replica is sent again while
//! the connection stays up, which a rolling restart of the functions relies on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::{Client, HeaderMap, Message};
use bytes::Bytes;
use runtime::ApiError;
use tokio::time::Instant;

use crate::link::{Link, WATCH};

/// Longest a request waits for a new connection before its one retry (a cluster peer takes
/// well under a second; a lone server that is down will not be back in time).
const REJOIN_WAIT: Duration = Duration::from_secs(2);

/// Whether a request may be sent twice: it is safe, or the function deduplicates it by its key.
pub(crate) fn may_resend(method: &http::Method, headers: &http::HeaderMap) -> bool {
    method == http::Method::GET
        || method == http::Method::HEAD
        || headers.contains_key(runtime::wire::IDEMPOTENCY_KEY)
}

/// Sends a request and waits for its reply until `timeout`, resending once after a dropped
/// connection when `resend` allows it. `headers` builds each attempt's headers, so the usual single
/// attempt costs no copy of them.
pub(crate) async fn request(
    client: &Client,
    link: &Link,
    subject: &str,
    headers: impl Fn() -> HeaderMap,
    payload: Bytes,
    timeout: Duration,
    resend: bool,
) -> Result<Message, ApiError> {
    let deadline = Instant::now() + timeout;
    let mut first = Some(headers());
    let keyed = first
        .as_ref()
        .is_some_and(|h| h.get(runtime::wire::IDEMPOTENCY_KEY).is_some());
    // Set once the connection has dropped: until then, resending is over.
    let mut give_up: Option<Instant> = None;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let reply = async {
            let mut copy = || first.take().unwrap_or_else(&headers);
            if resend {
                // A copy lost on its way to a draining replica is sent again while this one waits.
                runtime::request_hedged(client, subject, copy, payload.clone(), remaining).await
            } else {
                runtime::request_message(client, subject, copy(), payload.clone(), remaining).await
            }
        };
        let dropped_again = tokio::select! {
            reply = reply => match (reply, give_up) {
                // Our first attempt holds the key and is still running; its stored reply will be
                // replayed to a later ask.
                (Ok(message), Some(_)) if keyed && runtime::in_progress(&message) && Instant::now() + WATCH < deadline => {
                    tokio::time::sleep(WATCH).await;
                    continue;
                }
                // After a restart the handlers subscribe again a moment after the bridge: a 503
                // (no responders, or busy) means not carried out, so it is safe to send once more.
                (Err(err), Some(until)) if err.code() == 503 && Instant::now() + WATCH < until => {
                    tokio::time::sleep(WATCH).await;
                    continue;
                }
                (reply, _) => return reply,
            },
            () = link.dropped() => give_up.is_some(),
        };
        if !resend || dropped_again {
            return Err(lost(resend));
        }
        let until = deadline.min(Instant::now() + REJOIN_WAIT);
        if !rejoined(client, until).await {
            return Err(lost(resend));
        }
        give_up = Some(until);
        tracing::info!(
            subject,
            "NATS connection replaced; sending the request again"
        );
    }
}

/// Waits for a live connection until `until`.
async fn rejoined(client: &Client, until: Instant) -> bool {
    while client.connection_state() != State::Connected {
        if Instant::now() + WATCH >= until {
            return false;
        }
        tokio::time::sleep(WATCH).await;
    }
    true
}

/// Whether the server has announced lame duck mode since the connection was last made: its
/// coming disconnect is a move to another node of the cluster, not an outage.
#[derive(Debug, Clone, Default)]
pub struct LameDuck(Arc<AtomicBool>);

impl LameDuck {
    /// Follows the connection: set by the server's announcement, cleared once connected again.
    pub fn observe(&self, event: &async_nats::Event) {
        match event {
            async_nats::Event::LameDuckMode => self.0.store(true, Ordering::Relaxed),
            async_nats::Event::Connected => self.0.store(false, Ordering::Relaxed),
            _ => {}
        }
    }
}

/// Whether the connection is up, waiting for it up to [`REJOIN_WAIT`] when it is down because
/// a server in lame duck mode closed it; an outage fails at once.
pub(crate) async fn connected(client: &Client, lame_duck: &LameDuck) -> bool {
    client.connection_state() == State::Connected
        || (lame_duck.0.load(Ordering::Relaxed)
            && rejoined(client, Instant::now() + REJOIN_WAIT).await)
}

fn lost(resend: bool) -> ApiError {
    ApiError::Unavailable(if resend {
        "the message bus connection dropped while the request was in flight; retry shortly".into()
    } else {
        "the message bus connection dropped while the request was in flight; it may or may not \
         have been carried out: retry with an Idempotency-Key to be safe"
            .into()
    })
}
