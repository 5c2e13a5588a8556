//! A private NATS with services on it, and JSON requests to them: what every service test starts from.
//!
//! What differs per function (its settings, its state, the users its tests sign in as) stays in that
//! function's `tests/common`, as a thin layer over [`World`].

use std::ffi::OsStr;
use std::fmt::Debug;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use futures::StreamExt;
use runtime::{ApiError, Config, Running, Service};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::nats::NatsServer;

/// How long a test waits for a reply before it counts as a 504 (argon2 on a busy debug build is slow).
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A private nats-server, a client on it, and the calls a test makes through that client.
pub struct World {
    /// The private nats-server; kill or restart it to test failures.
    pub nats: NatsServer,
    /// A client of the test's own, for requests, events and raw NATS traffic.
    pub client: async_nats::Client,
}

impl World {
    /// A fresh open nats-server (with JetStream, for durable handlers) on a free port and a
    /// client on it.
    pub async fn start() -> Self {
        let nats = NatsServer::jetstream();
        let client = async_nats::connect(nats.url())
            .await
            .expect("connect to the private nats-server");
        Self { nats, client }
    }

    /// Runtime settings for a replica on this server, serving the subjects matching `only`
    /// (every subject when empty).
    pub fn config(&self, only: &[&str]) -> Config {
        Config {
            only: only.iter().map(|s| s.to_string()).collect(),
            ..Config::with_nats_url(self.nats.url())
        }
    }

    /// Starts `service`, already configured, on a connection of its own, as a replica would.
    pub async fn start_service(&self, service: Service) -> Running {
        let client = async_nats::connect(self.nats.url())
            .await
            .expect("a replica connects");
        service.start(client).await.expect("the service starts")
    }

    /// Starts a replica of `service` serving the subjects matching `only` (every subject when empty).
    pub async fn serve(&self, service: Service, only: &[&str]) -> Running {
        self.start_service(service.config(self.config(only))).await
    }

    /// A command that runs a function binary against this server (`NATS_URL`), logging only warnings.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("NATS_URL", self.nats.url())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        command
    }

    /// Waits until a service named `name` answers `$SRV.PING.<name>`, which it does once all its
    /// endpoints are subscribed; panics after 20 s.
    pub async fn wait_for_service(&self, name: &str) {
        let started = Instant::now();
        let subject = format!("$SRV.PING.{name}");
        loop {
            let ping = self.client.request(subject.clone(), "".into());
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), ping).await {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{name} never answered {subject}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends `body` to `subject` and reads the reply as JSON, or as the typed error.
    pub async fn call(&self, subject: &str, body: impl Body) -> Result<Value, ApiError> {
        self.call_with(subject, HeaderMap::new(), body).await
    }

    /// Like [`World::call`], with `Authorization: Bearer <token>`.
    pub async fn call_as(
        &self,
        token: &str,
        subject: &str,
        body: impl Body,
    ) -> Result<Value, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {token}").as_str());
        self.call_with(subject, headers, body).await
    }

    /// Like [`World::call`], with exactly `headers`.
    pub async fn call_with(
        &self,
        subject: &str,
        headers: HeaderMap,
        body: impl Body,
    ) -> Result<Value, ApiError> {
        let reply = runtime::request(
            &self.client,
            subject,
            headers,
            body.into_bytes(),
            CALL_TIMEOUT,
        )
        .await?;
        Ok(serde_json::from_slice(&reply)
            .unwrap_or_else(|err| panic!("{subject} replied with something not JSON: {err}")))
    }

    /// Sends a discovery request (`$SRV.STATS.demo`, ...) and returns the JSON reply.
    pub async fn discover(&self, subject: &str) -> Value {
        let reply = self
            .client
            .request(subject.to_owned(), "".into())
            .await
            .unwrap_or_else(|err| panic!("{subject} is not answered: {err}"));
        serde_json::from_slice(&reply.payload).expect("discovery replies are JSON")
    }

    /// Answers requests on `subject` with `answer` on this world's client; see [`stand_in`].
    pub async fn stand_in<Q, A, F>(&self, subject: &str, answer: F)
    where
        Q: DeserializeOwned,
        A: Serialize,
        F: FnMut(Q) -> Result<A, ApiError> + Send + 'static,
    {
        stand_in(&self.client, subject, answer).await;
    }
}

/// Answers requests on `subject` with `answer`, as a service the test does not run would (auth's
/// `auth.token.verify` for the blog tests); an `Err` goes back as ADR-32 error headers. Returns
/// once the server has the subscription.
pub async fn stand_in<Q, A, F>(client: &async_nats::Client, subject: &str, mut answer: F)
where
    Q: DeserializeOwned,
    A: Serialize,
    F: FnMut(Q) -> Result<A, ApiError> + Send + 'static,
{
    let mut requests = client
        .subscribe(subject.to_owned())
        .await
        .expect("subscribe the stand-in");
    let replies = client.clone();
    let subject = subject.to_owned();
    tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let Some(reply_to) = message.reply else {
                continue;
            };
            let answered = serde_json::from_slice(&message.payload)
                .map_err(|err| ApiError::BadRequest(format!("{subject}: {err}")))
                .and_then(&mut answer)
                .and_then(|value| serde_json::to_vec(&value).map_err(ApiError::internal));
            let sent = match answered {
                Ok(body) => replies.publish(reply_to, body.into()).await,
                Err(err) => {
                    let (headers, body) = runtime::wire::encode_error(&err);
                    replies.publish_with_headers(reply_to, headers, body).await
                }
            };
            sent.expect("the stand-in replies");
        }
    });
    client.flush().await.expect("flush the subscription");
}

/// A request body: JSON values are serialised; text and bytes go as they are, so a test can send
/// JSON that is malformed.
pub trait Body {
    /// The payload bytes.
    fn into_bytes(self) -> Bytes;
}

impl Body for Value {
    fn into_bytes(self) -> Bytes {
        self.to_string().into()
    }
}

impl Body for &Value {
    fn into_bytes(self) -> Bytes {
        self.to_string().into()
    }
}

impl Body for &str {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl Body for String {
    fn into_bytes(self) -> Bytes {
        self.into()
    }
}

impl Body for &String {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl Body for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

/// Asserts an error with status `code` whose message mentions `needle` (case-insensitive).
#[track_caller]
pub fn assert_error<T: Debug>(result: Result<T, ApiError>, code: u16, needle: &str) {
    match result {
        Ok(value) => panic!("expected {code} mentioning '{needle}', got success {value:?}"),
        Err(err) => {
            assert_eq!(err.code(), code, "wrong status for {err:?}");
            assert!(
                err.to_string()
                    .to_lowercase()
                    .contains(&needle.to_lowercase()),
                "message '{err}' does not mention '{needle}'"
            );
        }
    }
}
