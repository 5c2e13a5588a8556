//! Shared set-up for the runtime tests: a private nats-server, the demo service in-process, JSON calls.

#![allow(dead_code)]

use std::time::Duration;

use async_nats::HeaderMap;
use harness::NatsServer;
use runtime::{ApiError, Config, Running};
use serde_json::Value;

/// A private nats-server plus a client on it.
pub struct Bus {
    pub server: NatsServer,
    pub client: async_nats::Client,
}

impl Bus {
    pub async fn start() -> Self {
        let server = NatsServer::start();
        let client = async_nats::connect(server.url())
            .await
            .expect("connect to private nats-server");
        Self { server, client }
    }

    /// Starts one replica of the demo service serving the subjects matching `only` (all when empty).
    pub async fn replica(&self, only: &[&str]) -> Running {
        let config = Config {
            only: only.iter().map(|s| s.to_string()).collect(),
            ..Config::with_nats_url(self.server.url())
        };
        let client = async_nats::connect(self.server.url())
            .await
            .expect("replica connects");
        let guard = contracts::GuardSettings {
            auth_timeout_ms: 1_000,
            ..contracts::GuardSettings::default()
        };
        demo::service(&guard)
            .config(config)
            .start(client)
            .await
            .expect("demo service starts")
    }

    /// Sends `body` to `subject` and decodes the reply as JSON or the typed error.
    pub async fn call(&self, subject: &str, body: &str) -> Result<Value, ApiError> {
        self.call_with(subject, HeaderMap::new(), body).await
    }

    /// Like [`Bus::call`], with a bearer token.
    pub async fn call_as(&self, token: &str, subject: &str, body: &str) -> Result<Value, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {token}").as_str());
        self.call_with(subject, headers, body).await
    }

    pub async fn call_with(
        &self,
        subject: &str,
        headers: HeaderMap,
        body: &str,
    ) -> Result<Value, ApiError> {
        let reply = runtime::request(
            &self.client,
            subject,
            headers,
            body.to_owned().into(),
            Duration::from_secs(5),
        )
        .await?;
        Ok(serde_json::from_slice(&reply).expect("replies are JSON"))
    }

    /// Sends a discovery request and returns the JSON reply.
    pub async fn discover(&self, subject: &str) -> Value {
        let reply = self
            .client
            .request(subject.to_owned(), "".into())
            .await
            .expect("discovery answers");
        serde_json::from_slice(&reply.payload).expect("discovery replies are JSON")
    }
}
