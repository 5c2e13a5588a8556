//! The real auth and blog binaries behind the bridge, and the REST calls of the flows they serve.

use std::net::SocketAddr;

use harness::Http;
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// The admin the auth binary seeds.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// The seeded admin's password.
pub const ADMIN_PASSWORD: &str = "admin-password";

/// Each function binary's name with its environment for one test: a fresh database and key
/// prefix, a key pair made for the run, `api_key` and the admin seeded; NATS settings are the caller's.
pub fn functions_env(api_key: &str) -> [(&'static str, Vec<(&'static str, String)>); 2] {
    let harness::KeyPair { private, public } = harness::rsa_key_pair("platform_keys");
    let prefix = harness::unique_name("platform");
    let auth = vec![
        ("DATABASE_URL", harness::fresh_postgres_database()),
        ("REDIS_URL", harness::redis_url()),
        ("REDIS_PREFIX", format!("{prefix}:auth:")),
        ("JWT_PRIVATE_KEY_PATH", private.display().to_string()),
        ("JWT_PUBLIC_KEY_PATH", public.display().to_string()),
        ("SEED_API_KEY", api_key.to_owned()),
        ("SEED_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("SEED_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
    ];
    let blog = vec![
        ("MONGODB_URL", harness::mongodb_url()),
        ("MONGODB_DB", prefix.clone()),
        ("REDIS_URL", harness::redis_url()),
        ("REDIS_PREFIX", format!("{prefix}:blog:")),
        // Blog's guard checks every token's signature with auth's public key.
        ("JWT_PUBLIC_KEY_PATH", public.display().to_string()),
    ];
    [("auth", auth), ("blog", blog)]
}

/// The bridge's REST API as a client holding an API key sees it.
pub struct Api {
    pub http: Http,
    pub bridge: SocketAddr,
    pub key: &'static str,
}

impl Api {
    /// Sends `body` as JSON with the API key and, when given, `Authorization: Bearer <token>`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("x-api-key", self.key),
            ("content-type", "application/json"),
        ];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer));
        }
        let url = format!("http://{}{path}", self.bridge);
        let reply = self
            .http
            .send(method, &url, body.to_string(), &headers)
            .await;
        (reply.status, reply.json())
    }

    /// Like [`Api::call`], asserting a 200; the envelope's `data`.
    pub async fn ok(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> Value {
        let (status, reply) = self.call(method, path, token, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {reply}");
        reply["data"].clone()
    }

    /// Signs `email` up, has the seeded admin make it AUTHOR and EDITOR, and signs it in again;
    /// its user id and fresh access token.
    pub async fn new_author(&self, email: &str, password: &str, name: &str) -> (String, String) {
        let credentials = json!({"email": email, "password": password});
        let mut signup = credentials.clone();
        signup["name"] = json!(name);
        let user = self
            .ok(Method::POST, "/auth/signup/basic", None, signup)
            .await;
        let user_id = user["user"]["id"].as_str().expect("user id").to_owned();
        let admin = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
        let admin = self
            .ok(Method::POST, "/auth/signin/basic", None, admin)
            .await;
        let roles = format!("/auth/admin/roles/id/{user_id}");
        let roles_body = json!({"roles": ["AUTHOR", "EDITOR"]});
        self.ok(Method::PUT, &roles, Some(&access(&admin)), roles_body)
            .await;
        let signed_in = self
            .ok(Method::POST, "/auth/signin/basic", None, credentials)
            .await;
        (user_id, access(&signed_in))
    }

    /// Creates `draft` as `token`, submits and publishes it; the blog's id.
    pub async fn publish(&self, token: &str, draft: Value) -> String {
        let created = self
            .ok(Method::POST, "/blog/author", Some(token), draft)
            .await;
        let id = created["_id"].as_str().expect("blog id").to_owned();
        for path in [
            format!("/blog/author/submit/id/{id}"),
            format!("/blog/editor/publish/id/{id}"),
        ] {
            self.ok(Method::PUT, &path, Some(token), json!({})).await;
        }
        id
    }
}

/// The access token in a sign-in or sign-up reply's `data`.
pub fn access(data: &Value) -> String {
    data["tokens"]["accessToken"]
        .as_str()
        .expect("access token")
        .to_owned()
}

impl super::Setup {
    /// The function binary `name` with `env` on this setup's NATS, named `label` in panics.
    pub fn function(&self, label: &str, name: &str, env: &[(&str, String)]) -> harness::Process {
        harness::Process::spawn(
            label,
            self.world
                .command(harness::binary(name))
                .envs(env.iter().cloned()),
        )
    }

    /// The REST API through this setup's bridge, holding the key the auth binary seeds.
    pub fn api(&self) -> Api {
        Api {
            http: self.http.clone(),
            bridge: self.addr(),
            key: super::KEY,
        }
    }

    /// Waits until the bridge routes to both functions (the paths every flow starts with).
    pub async fn wait_for_functions(&self) {
        self.wait_for_route("/blog/editor/publish/id/:id").await;
        self.wait_for_route("/auth/signup/basic").await;
    }
}
