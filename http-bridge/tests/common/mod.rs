//! A private nats-server, stand-in handlers, the bridge in-process, and a small HTTP client.

#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use contracts::auth::{ApiKeyInfo, ApiKeyVerifyRequest};
use harness::NatsServer;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
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

/// A workspace binary next to the test executable; panics, naming the build command, when missing.
pub fn binary(name: &str) -> std::path::PathBuf {
    let deps = std::env::current_exe().expect("test path");
    let path = deps
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --bin {name}` (cargo test --workspace does)",
        path.display()
    );
    path
}

pub struct Setup {
    pub nats: NatsServer,
    pub client: async_nats::Client,
    pub bridge: Option<http_bridge::Running>,
    pub http: Client<HttpConnector, Full<Bytes>>,
}

impl Setup {
    /// A private NATS and a bridge on a free port (no handlers yet).
    pub async fn start(tune: impl FnOnce(&mut http_bridge::Config)) -> Self {
        let mut setup = Self::without_bridge().await;
        setup.start_bridge(tune).await;
        setup
    }

    /// A private NATS only; call [`Setup::start_bridge`] once handlers are up.
    pub async fn without_bridge() -> Self {
        let nats = NatsServer::start();
        let client = async_nats::connect(nats.url()).await.expect("connect");
        let http = Client::builder(TokioExecutor::new()).build_http();
        Self {
            nats,
            client,
            bridge: None,
            http,
        }
    }

    /// Starts the bridge on a free port with tuned settings.
    pub async fn start_bridge(&mut self, tune: impl FnOnce(&mut http_bridge::Config)) {
        let mut config = http_bridge::Config::local(self.nats.url());
        tune(&mut config);
        self.bridge = Some(
            http_bridge::Bridge::start(config, self.client.clone())
                .await
                .expect("bridge starts"),
        );
    }

    fn addr(&self) -> std::net::SocketAddr {
        self.bridge.as_ref().expect("bridge started").addr()
    }

    /// Starts a replica serving the subjects matching `only`.
    pub async fn replica(&self, only: &[&str]) -> Running {
        let config = runtime::Config {
            only: only.iter().map(|s| s.to_string()).collect(),
            ..runtime::Config::with_nats_url(self.nats.url())
        };
        let client = async_nats::connect(self.nats.url()).await.expect("connect");
        runtime::Service::new("standin", "0.1.0")
            .config(config)
            .authorizer(contracts::GuardSettings::default().authorizer())
            .start(client)
            .await
            .expect("stand-ins start")
    }

    /// Waits until the bridge routes `path` (discovery runs every 200 ms in tests).
    pub async fn wait_for_route(&self, path: &str) {
        for _ in 0..100 {
            let (_, body) = self.send(Method::GET, "/routes", None, &[]).await;
            if body["routes"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["path"] == path))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the bridge never learnt {path}");
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
        let (status, _, body) = self
            .send_raw(method, path, body.map(|b| b.to_owned()), headers)
            .await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, Bytes) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr()));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .expect("request");
        let response = self.http.request(request).await.expect("bridge answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, body)
    }
}
