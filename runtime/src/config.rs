//! Runtime settings from flags and env, with defaults that work against a local NATS.

use std::time::Duration;

use crate::connect::Connection;

/// Settings every function binary shares; flatten into a function's own `clap::Parser`.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// How to reach NATS: servers, credentials, TLS.
    #[command(flatten)]
    pub connection: Connection,
    /// Serve only handlers whose subject matches one of these NATS patterns (e.g. `blog.list.*`).
    #[arg(long, env = "ONLY", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Default per-handler timeout in milliseconds (504 past it).
    #[arg(long, env = "HANDLER_TIMEOUT_MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Default per-handler cap on concurrent requests per replica (503 past it).
    #[arg(long, env = "HANDLER_CONCURRENCY", default_value_t = 256)]
    pub concurrency: usize,
    /// Seconds to finish in-flight requests after SIGTERM.
    #[arg(long, env = "DRAIN_GRACE_SECS", default_value_t = 30)]
    pub drain_grace_secs: u64,
    /// Copies of each JetStream stream this function makes (its event streams and the shared
    /// idempotency bucket): 1 on one server, 3 in a NATS cluster, so losing a node loses nothing.
    #[arg(long, env = "EVENTS_STREAM_REPLICAS", default_value_t = 1)]
    pub events_replicas: usize,
    /// `text` or `json` log lines.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Exit 0 if an instance of this service answers `$SRV.PING`, 1 otherwise (for health checks).
    #[arg(long)]
    pub check: bool,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            connection: Connection::default(),
            only: Vec::new(),
            timeout_ms: 10_000,
            concurrency: 256,
            drain_grace_secs: 30,
            events_replicas: 1,
            log_format: LogFormat::Text,
            check: false,
        }
    }
}

impl Config {
    /// Defaults pointed at `nats_url` without credentials, for tests and embedding.
    pub fn with_nats_url(nats_url: impl Into<String>) -> Self {
        Self {
            connection: Connection::plain(nats_url),
            ..Self::default()
        }
    }

    pub(crate) fn handler_timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub(crate) fn drain_grace(&self) -> Duration {
        Duration::from_secs(self.drain_grace_secs)
    }
}
