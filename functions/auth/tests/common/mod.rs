//! Shared set-up for the auth tests: real PostgreSQL and Redis, a private nats-server, the auth
//! service in-process, a key pair generated per run, and JSON calls over NATS.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use async_nats::HeaderMap;
use auth::{AuthState, Settings};
use harness::NatsServer;
use runtime::{ApiError, Config, Running};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password";
pub const SEED_API_KEY: &str = "seed-api-key-for-tests";
pub const PASSWORD: &str = "correct horse";

pub use harness::KeyPair;

/// The key pair the service under test signs with, shared by the tests of one binary.
pub fn keys() -> &'static KeyPair {
    static KEYS: OnceLock<KeyPair> = OnceLock::new();
    KEYS.get_or_init(|| harness::rsa_key_pair("auth_keys"))
}

/// Settings for a fresh database and Redis prefix, with the seed admin and API key.
pub fn settings() -> Settings {
    let keys = keys();
    let mut settings = Settings::local(
        harness::fresh_postgres_database(),
        harness::redis_url(),
        format!("{}:", harness::unique_name("auth")),
        &keys.private,
        &keys.public,
    );
    settings.seed_admin_email = Some(ADMIN_EMAIL.into());
    settings.seed_admin_password = Some(ADMIN_PASSWORD.into());
    settings.seed_api_key = Some(SEED_API_KEY.into());
    settings
}

/// A private NATS bus with auth replicas on it, all sharing one database and Redis prefix.
pub struct Auth {
    pub nats: NatsServer,
    pub client: async_nats::Client,
    pub settings: Settings,
    pub state: AuthState,
    pub replicas: Vec<Running>,
}

impl Auth {
    /// One replica serving every auth subject.
    pub async fn start() -> Self {
        Self::start_with(settings()).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let nats = NatsServer::start();
        let client = async_nats::connect(nats.url())
            .await
            .expect("connect to private nats-server");
        let state = AuthState::connect(&settings)
            .await
            .expect("auth state connects");
        let mut auth = Self {
            nats,
            client,
            settings,
            state,
            replicas: Vec::new(),
        };
        auth.add_replica(&["auth.>"]).await;
        auth
    }

    /// Starts another replica, with its own state, serving the subjects matching `only`.
    pub async fn add_replica(&mut self, only: &[&str]) {
        let state = AuthState::connect(&self.settings)
            .await
            .expect("replica state connects");
        let running = self.serve(state, only).await;
        self.replicas.push(running);
    }

    pub async fn serve(&self, state: AuthState, only: &[&str]) -> Running {
        let config = Config {
            only: only.iter().map(|s| s.to_string()).collect(),
            ..Config::with_nats_url(self.nats.url())
        };
        let client = async_nats::connect(self.nats.url())
            .await
            .expect("replica connects");
        auth::service()
            .config(config)
            .state(state)
            .authorizer(self.settings.guard.authorizer())
            .start(client)
            .await
            .expect("auth service starts")
    }

    /// Sends `body` to `subject` and decodes the reply as JSON or the typed error.
    pub async fn call(&self, subject: &str, body: Value) -> Result<Value, ApiError> {
        self.call_with(subject, HeaderMap::new(), body).await
    }

    /// Like [`Auth::call`], with `Authorization: Bearer token`.
    pub async fn call_as(
        &self,
        token: &str,
        subject: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert("Authorization", format!("Bearer {token}").as_str());
        self.call_with(subject, headers, body).await
    }

    pub async fn call_with(
        &self,
        subject: &str,
        headers: HeaderMap,
        body: Value,
    ) -> Result<Value, ApiError> {
        let reply = runtime::request(
            &self.client,
            subject,
            headers,
            serde_json::to_vec(&body).expect("json").into(),
            Duration::from_secs(15),
        )
        .await?;
        Ok(serde_json::from_slice(&reply).expect("replies are JSON"))
    }

    /// Signs up `email` with [`PASSWORD`]; returns the reply (`user`, `tokens`).
    pub async fn signup(&self, email: &str) -> Value {
        self.call(
            "auth.signup.basic",
            json!({"email": email, "password": PASSWORD, "name": "Ann Author"}),
        )
        .await
        .expect("signup succeeds")
    }

    /// Signs in and returns the reply (`user`, `tokens`).
    pub async fn signin(&self, email: &str, password: &str) -> Result<Value, ApiError> {
        self.call(
            "auth.signin.basic",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// An access token of the seeded admin.
    pub async fn admin_token(&self) -> String {
        let reply = self
            .signin(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("admin signs in");
        access(&reply)
    }

    /// Asks `auth.token.verify` about `token`.
    pub async fn verify(&self, token: &str) -> Result<Value, ApiError> {
        self.call("auth.token.verify", json!({"accessToken": token}))
            .await
    }

    pub async fn shutdown(self) {
        for running in self.replicas {
            running.shutdown().await.expect("drains");
        }
    }
}

pub fn access(reply: &Value) -> String {
    reply["tokens"]["accessToken"]
        .as_str()
        .expect("accessToken")
        .to_owned()
}

pub fn refresh(reply: &Value) -> String {
    reply["tokens"]["refreshToken"]
        .as_str()
        .expect("refreshToken")
        .to_owned()
}

/// Asserts an error with `code` whose message mentions `needle`.
#[track_caller]
pub fn assert_error(result: Result<Value, ApiError>, code: u16, needle: &str) {
    match result {
        Ok(value) => panic!("expected {code} mentioning '{needle}', got success {value}"),
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
