//! Revocation events a cache must apply before it answers, shared by the guard and the bridge.
//!
//! Auth publishes a revocation before its reply, and the server queues it to every subscriber
//! before anything sent after that reply; the client reads its socket in order. So when a request
//! reaches a handler, every revocation published before it was sent already waits in the event
//! subscription. Applying those before a cache lookup refuses the very next request after a
//! revoking 200, on every replica, with no extra round trip.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use serde::de::DeserializeOwned;

/// How often events are applied while no request comes to apply them, so they never pile up.
const IDLE_DRAIN: Duration = Duration::from_millis(100);

/// A subscription to revocation events of type `E`, applied on demand; cheap to clone.
pub struct Revocations<E> {
    events: Arc<Mutex<Option<async_nats::Subscriber>>>,
    apply: Arc<dyn Fn(E) + Send + Sync>,
}

impl<E> Clone for Revocations<E> {
    fn clone(&self) -> Self {
        Self {
            events: self.events.clone(),
            apply: self.apply.clone(),
        }
    }
}

impl<E: DeserializeOwned + 'static> Revocations<E> {
    /// Not yet subscribed: [`Revocations::apply_pending`] does nothing until [`Revocations::listen`].
    pub fn new(apply: impl Fn(E) + Send + Sync + 'static) -> Self {
        Self {
            events: Arc::new(Mutex::new(None)),
            apply: Arc::new(apply),
        }
    }

    /// Subscribes to `subject`; the returned task applies events while idle, until the connection closes.
    pub async fn listen(
        &self,
        nats: &async_nats::Client,
        subject: &'static str,
    ) -> Result<tokio::task::JoinHandle<()>, async_nats::SubscribeError> {
        let subscriber = nats.subscribe(subject).await?;
        *self.events.lock().unwrap_or_else(|e| e.into_inner()) = Some(subscriber);
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(IDLE_DRAIN);
            while this.apply_pending() {
                tick.tick().await;
            }
        }))
    }

    /// Applies every event received so far, without waiting; false once the subscription ended.
    pub fn apply_pending(&self) -> bool {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let Some(subscriber) = events.as_mut() else {
            return true;
        };
        loop {
            match subscriber.next().now_or_never() {
                Some(Some(message)) => match serde_json::from_slice::<E>(&message.payload) {
                    Ok(event) => (self.apply)(event),
                    Err(err) => tracing::warn!(%err, "ignoring malformed revocation event"),
                },
                Some(None) => return false,
                None => return true,
            }
        }
    }
}
