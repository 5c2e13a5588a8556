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
    pub connection: runtime::Connection,
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
    /// Consecutive discovery rounds a service may be silent before its routes leave.
    #[arg(long, env = "BRIDGE_DISCOVERY_FORGET_ROUNDS", default_value_t = 15)]
    pub discovery_forget_rounds: u32,
    /// How long a client may take to send a request head; hyper also closes idle keep-alive connections after it.
    #[arg(long, env = "BRIDGE_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
    /// How long a client may take to send a request body (408 past it).
    #[arg(long, env = "BRIDGE_BODY_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_read_timeout_ms: u64,
    /// Connections open at once; more are answered 503 and closed.
    #[arg(long, env = "BRIDGE_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Largest unread body drained after an early error so the connection can be kept alive.
    #[arg(long, env = "BRIDGE_DRAIN_BYTES", default_value_t = 64 * 1024)]
    pub drain_bytes: usize,
    /// How long a valid API key is remembered.
    #[arg(long, env = "APIKEY_CACHE_SECS", default_value_t = 10)]
    pub apikey_cache_secs: u64,
    /// Request-serving threads, each with its own NATS connection (0: one per core).
    #[arg(long, env = "BRIDGE_WORKERS", default_value_t = 0, value_parser = worker_threads)]
    pub workers: usize,
    /// `text` or `json` log lines.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = runtime::LogFormat::Text)]
    pub log_format: runtime::LogFormat,
    /// Set while the NATS server has announced lame duck mode: feed it the connection's events
    /// ([`crate::LameDuck::observe`]) so requests wait for the move to another node.
    #[arg(skip)]
    pub lame_duck: crate::LameDuck,
}

impl Config {
    /// Defaults for tests: any free port, the given NATS, quick discovery.
    pub fn local(nats_url: impl Into<String>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            connection: runtime::Connection::plain(nats_url),
            timeout_ms: 10_000,
            max_body_bytes: 1024 * 1024,
            max_in_flight: 1024,
            discovery_interval_ms: 200,
            discovery_window_ms: 100,
            discovery_forget_rounds: 15,
            header_read_timeout_ms: 10_000,
            body_read_timeout_ms: 10_000,
            max_connections: 4096,
            drain_bytes: 64 * 1024,
            apikey_cache_secs: 10,
            workers: 0,
            log_format: runtime::LogFormat::Text,
            lame_duck: crate::LameDuck::default(),
        }
    }

    /// How many request-serving threads [`crate::Bridge::start_workers`] should get.
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => {
                std::thread::available_parallelism().map_or(1, |n| usize::from(n).min(MAX_WORKERS))
            }
            n => n,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub(crate) fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    pub(crate) fn body_read_timeout(&self) -> Duration {
        Duration::from_millis(self.body_read_timeout_ms)
    }
}

/// Most request-serving threads a bridge may be given. Each holds a NATS connection, so a typo
/// such as 1000 fails the start instead of opening a thousand connections.
pub const MAX_WORKERS: usize = 256;

fn worker_threads(value: &str) -> Result<usize, String> {
    let count: usize = value
        .trim()
        .parse()
        .map_err(|_| format!("'{value}' is not a whole number of threads"))?;
    if count > MAX_WORKERS {
        return Err(format!(
            "{count} is more than {MAX_WORKERS} threads; 0 gives one per core"
        ));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn workers(value: &str) -> Result<usize, String> {
        Config::try_parse_from(["http-bridge", "--workers", value])
            .map(|config| config.workers)
            .map_err(|err| err.to_string())
    }

    #[test]
    fn worker_threads_are_a_count_up_to_the_limit() {
        assert_eq!(workers("0"), Ok(0));
        assert_eq!(workers("256"), Ok(256));
        let too_many = workers("1000").expect_err("refused");
        assert!(too_many.contains("more than 256 threads"), "{too_many}");
        let not_a_number = workers("two").expect_err("refused");
        assert!(
            not_a_number.contains("not a whole number"),
            "{not_a_number}"
        );
        assert!(workers("-1").is_err());
    }
}
