//! Waiting for the signal that starts a graceful drain.

use std::future::Future;

/// Resolves on SIGTERM (what orchestrators send) or Ctrl-C, listening from this call on.
///
/// Call it before serving starts and await it after: a process starts serving before its start
/// returns (one endpoint or worker is up while the next subscribes), and a SIGTERM in that window
/// must be a drain, not the default death by signal with requests in flight. A signal during
/// start-up is held until start returns (connecting gives up within its timeout). Call it inside
/// a Tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind)
                .inspect_err(|err| tracing::warn!(%err, "cannot listen for {name}"))
                .ok()
        };
        let term = listen(SignalKind::terminate(), "SIGTERM");
        let interrupt = listen(SignalKind::interrupt(), "SIGINT");
        async move {
            tokio::select! {
                () = received(term) => {}
                () = received(interrupt) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The first delivery of `signal`; never, when it could not be listened for.
#[cfg(unix)]
async fn received(signal: Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(mut signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}
