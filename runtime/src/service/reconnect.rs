//! Reconnect hooks: while a replica is cut off from NATS it misses fan-out evictions and
//! revocations, so what it cached may be stale; the hooks empty those caches.

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use tokio::task::JoinHandle;

/// Something to forget when the connection drops and again when it is back.
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

/// How often the connection state is looked at; a disconnect shorter than this may go unseen,
/// which is why the hooks also run when the connection is seen to be back.
const POLL: Duration = Duration::from_millis(20);

/// Watches `client` and runs every hook on each change of its connection state.
pub(crate) fn watch(client: async_nats::Client, hooks: Vec<Hook>) -> Option<JoinHandle<()>> {
    if hooks.is_empty() {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut connected = true;
        loop {
            tokio::time::sleep(POLL).await;
            let now = matches!(client.connection_state(), State::Connected);
            if now != connected {
                if now {
                    tracing::info!("reconnected to NATS; emptying caches");
                } else {
                    tracing::warn!("lost NATS; emptying caches");
                }
                for hook in &hooks {
                    hook();
                }
                connected = now;
            }
        }
    }))
}
