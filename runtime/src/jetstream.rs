//! JetStream streams the functions own: one call at start makes sure a stream exists with the
//! shape the deployment wants, so publishers and durable consumers never depend on manual set-up.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// What a function wants of a stream it owns; anything unset keeps the server's default.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    /// Stream name, e.g. `AUTH_EVENTS`.
    pub name: String,
    /// Subjects it captures, e.g. `auth.events.>`.
    pub subjects: Vec<String>,
    /// Copies across the cluster (1 on a single server, 3 in the cluster of the deployment).
    pub replicas: usize,
    /// How long a message is kept; zero keeps it until `max_bytes` pushes it out.
    pub max_age: Duration,
    /// Bytes kept at most; `-1` for no limit.
    pub max_bytes: i64,
}

/// Why a stream could not be ensured.
#[derive(Debug, thiserror::Error)]
#[error("cannot ensure JetStream stream {name}: {source}")]
pub struct EnsureStreamError {
    name: String,
    #[source]
    source: jetstream::context::CreateStreamError,
}

/// Creates the stream, or updates it to `spec` when it exists (idempotent; every replica may call
/// it at start). File storage, so events survive a restart of nats-server.
pub async fn ensure_stream(
    client: &async_nats::Client,
    spec: &StreamSpec,
) -> Result<stream::Info, EnsureStreamError> {
    let context = jetstream::new(client.clone());
    context
        .create_or_update_stream(stream::Config {
            name: spec.name.clone(),
            subjects: spec.subjects.clone(),
            num_replicas: spec.replicas.max(1),
            max_age: spec.max_age,
            max_bytes: spec.max_bytes,
            storage: stream::StorageType::File,
            duplicate_window: duplicate_window(spec.max_age),
            ..Default::default()
        })
        .await
        .map_err(|source| EnsureStreamError {
            name: spec.name.clone(),
            source,
        })
}

/// Ensures `spec`, retrying every 2 s while JetStream is unreachable or refuses (logged), so a
/// function starts and serves even before its stream can be made.
pub(crate) async fn keep_ensured(client: async_nats::Client, spec: StreamSpec) {
    let mut logged = false;
    loop {
        match ensure_stream(&client, &spec).await {
            Ok(_) => {
                tracing::info!(stream = %spec.name, replicas = spec.replicas, "event stream ready");
                return;
            }
            Err(err) => {
                if !logged {
                    tracing::warn!(%err, "event stream not ready yet; retrying every 2 s");
                    logged = true;
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        }
    }
}

/// Publishers set `Nats-Msg-Id`; the server drops a re-sent event within this window, which may
/// not outlast the messages themselves.
fn duplicate_window(max_age: Duration) -> Duration {
    let window = Duration::from_secs(120);
    if max_age.is_zero() {
        window
    } else {
        window.min(max_age)
    }
}
