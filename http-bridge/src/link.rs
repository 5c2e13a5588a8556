//! Whether a NATS connection has dropped or been replaced, looked at by one task per connection
//! for every request in flight on it.
//!
//! A request waiting for its reply must learn at once when its connection drops (see
//! [`crate::retry`]). Each request looking for itself every [`WATCH`] meant a short timer per
//! request, and a timer earlier than any other makes tokio wake its own driver through an eventfd
//! write: about one extra syscall per request on a busy worker. One looker per connection, with
//! requests waiting on its changes, costs a registration in a wait list instead.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::Client;
use async_nats::connection::State;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

/// How often a connection is looked at; a reply usually comes first.
pub(crate) const WATCH: Duration = Duration::from_millis(25);

/// What a request in flight needs to know of its connection: up or not, and which one it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    connected: bool,
    connects: u64,
}

/// Changes of one client's connection, for requests in flight on it.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    client: Client,
    seen: watch::Receiver<Seen>,
}

impl Link {
    /// Starts looking at `client` on the current runtime; the looker stops once every `Link` made
    /// from this one is dropped.
    pub(crate) fn watch(client: &Client) -> Self {
        let (seen, receiver) = watch::channel(look(client));
        let link = Self {
            client: client.clone(),
            seen: receiver,
        };
        let client = client.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH);
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = seen.closed() => return,
                }
                let now = look(&client);
                seen.send_if_modified(|last| std::mem::replace(last, now) != now);
            }
        });
        link
    }

    /// Resolves once the connection is down, or has been replaced, after this call: the
    /// connection is read here, before the caller sends its request, not on first poll.
    pub(crate) fn dropped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut seen = self.seen.clone();
        seen.borrow_and_update();
        // From the client itself: what the looker saw last may be up to a tick old.
        let at_start = look(&self.client);
        let client = self.client.clone();
        async move {
            if !at_start.connected {
                return;
            }
            let gone = |now: Seen| !now.connected || now.connects != at_start.connects;
            while seen.changed().await.is_ok() {
                if gone(*seen.borrow_and_update()) {
                    return;
                }
            }
            // The looker's runtime is shutting down: look for ourselves.
            loop {
                tokio::time::sleep(WATCH).await;
                if gone(look(&client)) {
                    return;
                }
            }
        }
    }
}

fn look(client: &Client) -> Seen {
    Seen {
        connected: client.connection_state() == State::Connected,
        connects: client.statistics().connects.load(Ordering::Relaxed),
    }
}
