//! A private nats-server, stand-in handlers, the bridge in-process, and a small HTTP client.

#![allow(dead_code)]

pub mod platform;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use contracts::auth::{ApiKeyInfo, ApiKeyVerifyRequest};
use harness::{Http, World};
use http::{Method, StatusCode};
use runtime::{ApiError, Running, handler};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The one key the stand-in auth accepts.
pub const KEY: &str = "good-key";

/// Accepts [`KEY`] only, like `auth.apikey.verify`.
#[handler(subject = "auth.apikey.verify")]
async fn verify_key(
    runtime::Json(input): runtime::Json<ApiKeyVerifyRequest>,
) -> Result<ApiKeyInfo, ApiError> {
    if input.key != KEY {
        return Err(ApiError::Forbidden("unknown key".into()));
    }
    Ok(ApiKeyInfo {
        id: "k1".into(),
        permissions: vec!["GENERAL".into()],
    })
}

/// Input of the echo stand-in: whatever the bridge merged.
#[derive(Debug, Serialize, Deserialize)]
pub struct Anything(pub serde_json::Map<String, Value>);

/// Echo the merged input back, to show what the bridge sent.
#[handler(subject = "t.echo", http = "POST /t/echo/:id")]
async fn echo(runtime::Json(input): runtime::Json<Anything>) -> Result<Anything, ApiError> {
    Ok(input)
}

/// Always a conflict, to show error codes pass through.
#[handler(subject = "t.fail", http = "GET /t/fail")]
async fn fail() -> Result<(), ApiError> {
    Err(ApiError::Conflict("slug 'x' is taken".into()))
}

/// Input of the sleeping stand-in.
#[derive(Debug, Serialize, Deserialize)]
pub struct Nap {
    pub ms: u64,
}

/// Sleep, then answer, to show timeouts and saturation.
#[handler(subject = "t.sleep", http = "GET /t/sleep")]
async fn sleep(runtime::Json(input): runtime::Json<Nap>) -> Result<Nap, ApiError> {
    tokio::time::sleep(Duration::from_millis(input.ms)).await;
    Ok(input)
}

/// Input of the recording stand-in: which write this is.
#[derive(Debug, Serialize, Deserialize)]
pub struct Write {
    pub n: u64,
}

static RUNS: std::sync::Mutex<Vec<u64>> = std::sync::Mutex::new(Vec::new());

/// A write with a visible effect: every run is recorded, so a test can count duplicates.
#[handler(subject = "t.record", http = "POST /t/record/:id")]
async fn record(runtime::Json(input): runtime::Json<Write>) -> Result<Write, ApiError> {
    RUNS.lock().expect("runs").push(input.n);
    // A write that takes a while, so a crash of NATS finds some in flight.
    tokio::time::sleep(Duration::from_millis(30)).await;
    Ok(input)
}

/// How many times the recording stand-in ran write `n`.
pub fn runs_of(n: u64) -> usize {
    RUNS.lock()
        .expect("runs")
        .iter()
        .filter(|&&m| m == n)
        .count()
}

/// A handler only the "late" service serves, started after the bridge.
#[handler(subject = "late.hello", http = "GET /late/hello")]
async fn late() -> Result<&'static str, ApiError> {
    Ok("hello")
}

/// Caller-protected stand-in, for the OpenAPI security requirement.
#[handler(subject = "t.private", http = "GET /t/private", roles = ["AUTHOR"])]
async fn private(caller: contracts::Caller) -> Result<String, ApiError> {
    Ok(caller.user.id)
}

/// A private NATS, the stand-ins above served on it, the bridge in-process, and HTTP calls to it.
pub struct Setup {
    pub world: World,
    pub bridge: Option<http_bridge::Running>,
    pub http: Http,
    /// Services kept running for the whole test.
    pub services: Vec<Running>,
}

impl Setup {
    /// A private NATS and a bridge on a free port (no handlers yet).
    pub async fn start(tune: impl FnOnce(&mut http_bridge::Config)) -> Self {
        let mut setup = Self::without_bridge().await;
        setup.start_bridge(tune).await;
        setup
    }

    /// A bridge tuned by `tune` with every stand-in served, once it routes `path`.
    pub async fn serving(path: &str, tune: impl FnOnce(&mut http_bridge::Config)) -> Self {
        let mut setup = Self::start(tune).await;
        let stand_ins = setup.replica(&["t.>", "auth.>"]).await;
        setup.services.push(stand_ins);
        setup.wait_for_route(path).await;
        setup
    }

    /// A private NATS only; call [`Setup::start_bridge`] once handlers are up.
    pub async fn without_bridge() -> Self {
        Self::on(World::start().await)
    }

    fn on(world: World) -> Self {
        Self {
            world,
            bridge: None,
            http: Http::new(),
            services: Vec::new(),
        }
    }

    /// Starts the bridge on a free port with tuned settings: in-process on this runtime, or on
    /// `config.workers` threads.
    pub async fn start_bridge(&mut self, tune: impl FnOnce(&mut http_bridge::Config)) {
        let mut config = http_bridge::Config::local(self.world.nats.url());
        tune(&mut config);
        let client = self.world.client.clone();
        // `workers` set: the binary's way, worker threads each on a NATS connection of its own.
        let running = match config.workers {
            0 => http_bridge::Bridge::start(config, client).await,
            n => http_bridge::Bridge::start_workers(config, client, n).await,
        };
        self.bridge = Some(running.expect("bridge starts"));
    }

    pub fn addr(&self) -> SocketAddr {
        self.bridge.as_ref().expect("bridge started").addr()
    }

    /// Starts a replica of the stand-ins serving the subjects matching `only`.
    pub async fn replica(&self, only: &[&str]) -> Running {
        let standin = runtime::Service::new("standin", "0.1.0")
            .authorizer(contracts::GuardSettings::default().authorizer());
        self.world.serve(standin, only).await
    }

    /// Waits until the bridge routes `path` (discovery runs every 200 ms in tests).
    pub async fn wait_for_route(&self, path: &str) {
        wait_for_route(&self.http, self.addr(), path).await;
    }

    /// Sends a request with the valid API key.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        self.send(method, path, body, &[("x-api-key", KEY)]).await
    }

    /// Sends a request with exactly the given headers; returns status and JSON body (Null if not JSON).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let reply = self
            .http
            .send(
                method,
                &self.url(path),
                body.unwrap_or_default().to_owned(),
                headers,
            )
            .await;
        (reply.status, reply.json())
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, Bytes) {
        let reply = self
            .http
            .send(method, &self.url(path), body.unwrap_or_default(), headers)
            .await;
        (reply.status, reply.headers, reply.body)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }
}

/// Waits until the bridge at `bridge` routes `path`; panics after 30 s.
pub async fn wait_for_route(http: &Http, bridge: SocketAddr, path: &str) {
    let started = Instant::now();
    let routes = format!("http://{bridge}/routes");
    loop {
        let listed = http.send(Method::GET, &routes, "", &[]).await.json();
        if listed["routes"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["path"] == path))
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the bridge never learnt {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
