//! The live status page: `GET /status` (HTML) and `GET /status.json`, for an operator's first look.
//!
//! Services, replicas and endpoint counters come from a `$SRV.STATS` scatter-gather made when the
//! page asks (cached for a second, so many open pages cost one gather); the bridge's own rate and
//! p99 per route come from an in-process rolling window fed by every answered request.

mod collect;
mod window;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;

pub use collect::{Endpoint, Instance, Service};
pub use window::{RouteLoad, WINDOW_SECS, Windows};

/// The HTML page; it fetches `/status.json` every two seconds and draws it, with no external assets.
const PAGE: &str = include_str!("page.html");

/// How long one gather is reused before the next request triggers another.
const CACHE_FOR: Duration = Duration::from_secs(1);

/// What `/status.json` returns.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    /// RFC 3339 time the snapshot was taken.
    pub generated_at: String,
    /// `connected` or `disconnected`: the bridge's NATS connection.
    pub nats: &'static str,
    /// Why services could not be gathered, if they could not.
    pub error: Option<String>,
    /// Every service that answered STATS.
    pub services: Vec<Service>,
    /// Seconds behind every bridge rate and p99.
    pub window_secs: u64,
    /// The bridge's own load per route.
    pub bridge: Vec<RouteLoad>,
}

/// State behind the status page, one per bridge.
pub struct Status {
    windows: Windows,
    gather_window: Duration,
    cache: tokio::sync::Mutex<Option<(Instant, Bytes)>>,
}

impl Status {
    /// `gather_window` is how long STATS replies are collected (the discovery window fits).
    pub fn new(gather_window: Duration) -> Self {
        Self {
            windows: Windows::default(),
            gather_window,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    /// Records one answered request under its route template (never the raw path).
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.windows.observe(method, route, status, elapsed);
    }

    /// Answers `/status` and `/status.json`; `None` for every other path.
    pub async fn answer(
        &self,
        client: &async_nats::Client,
        path: &str,
    ) -> Option<(StatusCode, &'static str, Bytes)> {
        match path {
            "/status" => Some((
                StatusCode::OK,
                "text/html; charset=utf-8",
                Bytes::from_static(PAGE.as_bytes()),
            )),
            "/status.json" => Some((StatusCode::OK, "application/json", self.json(client).await)),
            _ => None,
        }
    }

    async fn json(&self, client: &async_nats::Client) -> Bytes {
        let mut cache = self.cache.lock().await;
        if let Some((taken, body)) = cache.as_ref()
            && taken.elapsed() < CACHE_FOR
        {
            return body.clone();
        }
        let body = Bytes::from(
            serde_json::to_vec(&self.snapshot(client).await).unwrap_or_else(|err| {
                format!(r#"{{"error":"cannot encode the status: {err}"}}"#).into_bytes()
            }),
        );
        *cache = Some((Instant::now(), body.clone()));
        body
    }

    /// Gathers STATS and reads the windows now.
    pub async fn snapshot(&self, client: &async_nats::Client) -> Snapshot {
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        let (services, error) = if connected {
            match collect::gather(client, self.gather_window).await {
                Ok(stats) => (collect::services(&stats, chrono::Utc::now()), None),
                Err(err) => (Vec::new(), Some(format!("cannot gather $SRV.STATS: {err}"))),
            }
        } else {
            (
                Vec::new(),
                Some("the bridge is not connected to NATS".into()),
            )
        };
        Snapshot {
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            nats: if connected {
                "connected"
            } else {
                "disconnected"
            },
            error,
            services,
            window_secs: WINDOW_SECS,
            bridge: self.windows.snapshot(),
        }
    }
}
