//! Requests in flight when the NATS connection drops: answered at once instead of at their deadline.
//!
//! A reply cannot cross a dropped connection, so a request still waiting when it drops would only
//! time out. Safe requests (GET, HEAD) and writes carrying an `Idempotency-Key` are sent again on
//! the new connection, within the same deadline (again on a 503 while handlers come back, for up
//! to [`REJOIN_WAIT`]); anything else, a second drop, or no new connection within [`REJOIN_WAIT`],
//! is a 503 with `Retry-After`. A rolling restart of NATS nodes
//! relies on this to cost clients no failed requests.

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::connection::State;
use async_nats::{Client, HeaderMap, Message};
use bytes::Bytes;
use runtime::ApiError;
use tokio::time::Instant;

/// How often a waiting request looks at the connection; a reply usually comes first.
const WATCH: Duration = Duration::from_millis(25);
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
    subject: &str,
    headers: impl Fn() -> HeaderMap,
    payload: Bytes,
    timeout: Duration,
    resend: bool,
) -> Result<Message, ApiError> {
    let deadline = Instant::now() + timeout;
    // Set once the connection has dropped: until then, resending is over.
    let mut give_up: Option<Instant> = None;
    loop {
        let connects = client.statistics().connects.load(Ordering::Relaxed);
        let remaining = deadline.saturating_duration_since(Instant::now());
        let reply =
            runtime::request_message(client, subject, headers(), payload.clone(), remaining);
        let dropped_again = tokio::select! {
            reply = reply => match (reply, give_up) {
                // After a restart the handlers subscribe again a moment after the bridge: a 503
                // (no responders, or busy) means not carried out, so it is safe to send once more.
                (Err(err), Some(until)) if err.code() == 503 && Instant::now() + WATCH < until => {
                    tokio::time::sleep(WATCH).await;
                    continue;
                }
                (reply, _) => return reply,
            },
            () = dropped(client, connects) => give_up.is_some(),
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

/// Resolves once the connection is down, or has been replaced since `connects` was read.
async fn dropped(client: &Client, connects: u64) {
    let stats = client.statistics();
    loop {
        tokio::time::sleep(WATCH).await;
        if client.connection_state() != State::Connected
            || stats.connects.load(Ordering::Relaxed) != connects
        {
            return;
        }
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

fn lost(resend: bool) -> ApiError {
    ApiError::Unavailable(if resend {
        "the message bus connection dropped while the request was in flight; retry shortly".into()
    } else {
        "the message bus connection dropped while the request was in flight; it may or may not \
         have been carried out: retry with an Idempotency-Key to be safe"
            .into()
    })
}
