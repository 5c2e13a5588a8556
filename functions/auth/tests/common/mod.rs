//! Shared set-up for the auth tests: real PostgreSQL and Redis, a private nats-server, the auth
//! service in-process, a key pair generated per run, and JSON calls over NATS.

#![allow(dead_code)]

use std::ops::Deref;
use std::sync::OnceLock;

use auth::{AuthState, Settings};
use harness::{KeyPair, World};
use runtime::{ApiError, Running};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password";
pub const SEED_API_KEY: &str = "seed-api-key-for-tests";
pub const PASSWORD: &str = "correct horse";

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

/// Auth replicas on a private NATS, all sharing one database and Redis prefix; the calls of
/// [`World`] are reached through it.
pub struct Auth {
    pub world: World,
    pub settings: Settings,
    pub state: AuthState,
    pub replicas: Vec<Running>,
}

impl Deref for Auth {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

impl Auth {
    /// One replica serving every auth subject.
    pub async fn start() -> Self {
        Self::start_with(settings()).await
    }

    pub async fn start_with(settings: Settings) -> Self {
        let state = AuthState::connect(&settings)
            .await
            .expect("auth state connects");
        let mut auth = Self {
            world: World::start().await,
            settings,
            state,
            replicas: Vec::new(),
        };
        auth.add_replica(&["auth.>"]).await;
        auth
    }

    /// Starts another replica, with its own state, serving the subjects matching `only`.
    pub async fn add_replica(&mut self, only: &[&str]) {
        let service = auth::connected(&self.settings, self.world.config(only))
            .await
            .expect("replica state connects");
        let running = self.world.start_service(service).await;
        self.replicas.push(running);
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
