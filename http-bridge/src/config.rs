//! Bridge settings from flags and env, with local defaults.

use std::net::SocketAddr;
use std::time::Duration;

/// Everything the bridge can be tuned by.
#[derive(Debug, Clone, clap::Parser)]
#[command(about = "REST in, NATS requests out")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BRIDGE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// How to reach NATS: servers, credentials, TLS (shared with the functions).
    #[command(flatten)]
    pub connection: runtime::connect::Connection,
    /// How long a handler may take before the client gets 504.
    #[arg(long, env = "BRIDGE_TIMEOUT_MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Largest request body accepted (413 past it).
    #[arg(long, env = "BRIDGE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Requests handled at once before new ones get 503 with Retry-After.
    #[arg(long, env = "BRIDGE_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// How often the route table is rebuilt from `$SRV.INFO`.
    #[arg(long, env = "BRIDGE_DISCOVERY_INTERVAL_MS", default_value_t = 2_000)]
    pub discovery_interval_ms: u64,
    /// How long to collect `$SRV.INFO` replies in one discovery round.
    #[arg(long, env = "BRIDGE_DISCOVERY_WINDOW_MS", default_value_t = 250)]
    pub discovery_window_ms: u64,
    /// How long a valid API key is remembered.
    #[arg(long, env = "APIKEY_CACHE_SECS", default_value_t = 10)]
    pub apikey_cache_secs: u64,
    /// `text` or `json` log lines.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = runtime::config::LogFormat::Text)]
    pub log_format: runtime::config::LogFormat,
}

impl Config {
    /// Defaults for tests: any free port, the given NATS, quick discovery.
    pub fn local(nats_url: impl Into<String>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            connection: runtime::connect::Connection::plain(nats_url),
            timeout_ms: 10_000,
            max_body_bytes: 1024 * 1024,
            max_in_flight: 1024,
            discovery_interval_ms: 200,
            discovery_window_ms: 100,
            apikey_cache_secs: 10,
            log_format: runtime::config::LogFormat::Text,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}
