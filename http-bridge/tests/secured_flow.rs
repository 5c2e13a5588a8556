//! The platform over HTTP on the shipped NATS configuration: the real auth and blog binaries and
//! the bridge, each signed in as its own NATS user.
//!
//! `cargo test --workspace` (what `scripts/dev test` runs) builds those binaries first; run alone,
//! this test says to build them rather than skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use harness::{NatsServer, Process};
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const KEY: &str = "secured-flow-key";
const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "admin-password";

fn binary(name: &str) -> PathBuf {
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

/// The platform: a secured nats-server, auth and blog binaries, the bridge in-process.
struct Platform {
    _nats: NatsServer,
    logs: PathBuf,
    bridge: http_bridge::Running,
    http: Client<HttpConnector, Full<Bytes>>,
    /// Errors the server sent the bridge's connection, e.g. permission violations.
    bridge_errors: Arc<AtomicUsize>,
    _functions: Vec<Process>,
}

impl Platform {
    /// Starts everything, with `auth_env` added to the auth function's environment.
    async fn start(auth_env: &[(&str, &str)]) -> Self {
        let nats = NatsServer::secured();
        let logs = std::env::temp_dir().join(harness::unique_name("secured-flow"));
        std::fs::create_dir_all(&logs).expect("log dir");
        let harness::KeyPair { private, public } = harness::rsa_key_pair("secured_flow_keys");
        let prefix = harness::unique_name("secured");
        let mut auth = vec![
            ("DATABASE_URL", harness::fresh_postgres_database()),
            ("REDIS_URL", harness::redis_url()),
            ("REDIS_PREFIX", format!("{prefix}:auth:")),
            ("JWT_PRIVATE_KEY_PATH", private.display().to_string()),
            ("JWT_PUBLIC_KEY_PATH", public.display().to_string()),
            ("SEED_API_KEY", KEY.to_owned()),
            ("SEED_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
            ("SEED_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ];
        auth.extend(auth_env.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let blog = vec![
            ("MONGODB_URL", harness::mongodb_url()),
            ("MONGODB_DB", prefix.clone()),
            ("REDIS_URL", harness::redis_url()),
            ("REDIS_PREFIX", format!("{prefix}:blog:")),
            ("JWT_PUBLIC_KEY_PATH", public.display().to_string()),
        ];
        let functions = vec![
            function("auth", &nats, &logs, &auth),
            function("blog", &nats, &logs, &blog),
        ];

        let bridge_errors = Arc::new(AtomicUsize::new(0));
        let errors = bridge_errors.clone();
        let client = nats
            .options_for("bridge")
            .event_callback(move |event| {
                let errors = errors.clone();
                async move {
                    if let async_nats::Event::ServerError(err) = event {
                        eprintln!("bridge connection got a server error: {err}");
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
            .connect(nats.url())
            .await
            .expect("the bridge signs in as bridge");
        let mut config = http_bridge::Config::local(nats.url());
        // Two debug binaries on a busy machine can answer discovery slower than the 100 ms default.
        config.discovery_window_ms = 1_000;
        config.discovery_interval_ms = 500;
        let bridge = http_bridge::Bridge::start(config, client)
            .await
            .expect("bridge starts");
        let platform = Self {
            _nats: nats,
            logs,
            bridge,
            http: Client::builder(TokioExecutor::new()).build_http(),
            bridge_errors,
            _functions: functions,
        };
        platform.wait_for_route("/auth/signup/basic").await;
        platform.wait_for_route("/blog/author").await;
        platform
    }

    async fn wait_for_route(&self, path: &str) {
        for _ in 0..300 {
            let (_, _, body) = self.send(Method::GET, "/routes", None, &[]).await;
            if body["routes"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["path"] == path))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the bridge never learnt {path}");
    }

    /// Sends with the seeded API key (or `key`), an optional bearer token and a JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("x-api-key", KEY), ("content-type", "application/json")];
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer));
        }
        let (status, _, body) = self
            .send(method, path, Some(body.to_string()), &headers)
            .await;
        (status, body)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.bridge.addr()));
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
        (
            status,
            headers,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        )
    }

    /// Lines of the functions' logs that report a NATS permission violation.
    fn violations_in_function_logs(&self) -> Vec<String> {
        let mut found = Vec::new();
        for name in ["auth", "blog"] {
            let log = std::fs::read_to_string(self.logs.join(format!("{name}.log")))
                .unwrap_or_else(|err| panic!("cannot read the {name} log: {err}"));
            found.extend(
                log.lines()
                    .filter(|line| line.to_lowercase().contains("permissions violation"))
                    .map(|line| format!("{name}: {line}")),
            );
        }
        found
    }
}

/// Starts a function binary signed in as its own NATS user, logging NATS events to a file.
fn function(name: &str, nats: &NatsServer, logs: &Path, env: &[(&str, String)]) -> Process {
    let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("log file");
    let mut command = Command::new(binary(name));
    command
        .envs(nats.env_for(name))
        // NATS server errors (permission violations among them) are logged at info.
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log);
    for (key, value) in env {
        command.env(key, value);
    }
    Process::spawn(name, &mut command)
}

#[tokio::test]
async fn a_burst_of_wrong_api_keys_over_http_gets_429_with_retry_after() {
    let platform = Platform::start(&[
        ("APIKEY_GUESS_LIMIT", "3"),
        ("APIKEY_GUESS_WINDOW_SECS", "30"),
    ])
    .await;
    for n in 1..3 {
        let key = format!("guess-{n}");
        let (status, _, body) = platform
            .send(
                Method::GET,
                "/blog/list/latest",
                None,
                &[("x-api-key", &key)],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, headers, body) = platform
        .send(
            Method::GET,
            "/blog/list/latest",
            None,
            &[("x-api-key", "guess-3")],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many")),
        "{body}"
    );
    let retry_after: u64 = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in whole seconds");
    assert!((1..=30).contains(&retry_after), "Retry-After {retry_after}");

    // The lockout covers the address, so even the right key waits (it is not cached yet).
    let (status, headers, _) = platform
        .send(
            Method::GET,
            "/blog/list/latest",
            None,
            &[("x-api-key", KEY)],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn signup_to_published_blog_with_every_component_on_its_own_nats_user() {
    let platform = Platform::start(&[]).await;

    let (status, signed_up) = platform
        .call(
            Method::POST,
            "/auth/signup/basic",
            None,
            json!({"email": "ada@example.com", "password": "secret-pass", "name": "Ada"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{signed_up}");
    let user_id = signed_up["data"]["user"]["id"]
        .as_str()
        .expect("user id")
        .to_owned();

    let (status, admin) = platform
        .call(
            Method::POST,
            "/auth/signin/basic",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{admin}");
    let admin_token = admin["data"]["tokens"]["accessToken"]
        .as_str()
        .expect("admin token")
        .to_owned();
    let (status, roles) = platform
        .call(
            Method::PUT,
            &format!("/auth/admin/roles/id/{user_id}"),
            Some(&admin_token),
            json!({"roles": ["AUTHOR", "EDITOR"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{roles}");

    let (status, signed_in) = platform
        .call(
            Method::POST,
            "/auth/signin/basic",
            None,
            json!({"email": "ada@example.com", "password": "secret-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let token = signed_in["data"]["tokens"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();

    let draft = json!({"title": "Least privilege", "description": "One NATS user per component", "draftText": "Each signs in as itself.", "slug": "least-privilege", "tags": ["nats"]});
    let (status, created) = platform
        .call(Method::POST, "/blog/author", Some(&token), draft)
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["data"]["_id"].as_str().expect("blog id").to_owned();
    for path in [
        format!("/blog/author/submit/id/{id}"),
        format!("/blog/editor/publish/id/{id}"),
    ] {
        let (status, body) = platform
            .call(Method::PUT, &path, Some(&token), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (status, public) = platform
        .call(Method::GET, &format!("/blog/id/{id}"), None, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["data"]["text"], "Each signs in as itself.");
    assert_eq!(public["data"]["author"]["name"], "Ada");

    // Let late server errors arrive, then: no component was refused anything on the way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        platform.bridge_errors.load(Ordering::SeqCst),
        0,
        "the bridge's connection got server errors (see stderr)"
    );
    let violations = platform.violations_in_function_logs();
    assert!(
        violations.is_empty(),
        "permission violations: {violations:#?}"
    );
}

#[tokio::test]
async fn the_violation_check_sees_a_refused_subscription() {
    // Proves the flow's zero-violation check can fail: the bridge's user may not read auth.>.
    let nats = NatsServer::secured();
    let errors = Arc::new(AtomicUsize::new(0));
    let seen = errors.clone();
    let client = nats
        .options_for("bridge")
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                if let async_nats::Event::ServerError(err) = event
                    && err
                        .to_string()
                        .to_lowercase()
                        .contains("permissions violation")
                {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
        .connect(nats.url())
        .await
        .expect("bridge signs in");
    let _subscriber = client.subscribe("auth.>").await.expect("subscribe is sent");
    client.flush().await.expect("flush");
    for _ in 0..50 {
        if errors.load(Ordering::SeqCst) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a refused subscription produced no permissions-violation event");
}
