//! The platform over HTTP on the shipped NATS configuration: the real auth and blog binaries and
//! the bridge, each signed in as its own NATS user.
//!
//! `cargo test --workspace` (what `scripts/dev test` runs) builds those binaries first; run alone,
//! this test says to build them rather than skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::platform::{Api, functions_env};
use harness::{Http, NatsServer, Process, binary};
use http::{Method, StatusCode, header};
use serde_json::json;

const KEY: &str = "secured-flow-key";

/// The platform: a secured nats-server, auth and blog binaries, the bridge in-process.
struct Platform {
    _nats: NatsServer,
    logs: PathBuf,
    api: Api,
    _bridge: http_bridge::Running,
    /// Errors the server sent the bridge's connection, e.g. permission violations.
    bridge_errors: Arc<AtomicUsize>,
    _functions: Vec<Process>,
}

impl Platform {
    /// Starts everything, with `auth_env` added to the auth function's environment.
    async fn start(auth_env: &[(&'static str, &str)]) -> Self {
        let nats = NatsServer::secured();
        let logs = std::env::temp_dir().join(harness::unique_name("secured-flow"));
        std::fs::create_dir_all(&logs).expect("log dir");
        let functions = functions_env(KEY)
            .into_iter()
            .map(|(name, mut env)| {
                if name == "auth" {
                    env.extend(auth_env.iter().map(|(k, v)| (*k, (*v).to_owned())));
                }
                function(name, &nats, &logs, &env)
            })
            .collect();

        let (options, bridge_errors) = count_server_errors(nats.options_for("bridge"), "");
        let client = options
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
        let api = Api {
            http: Http::new(),
            bridge: bridge.addr(),
            key: KEY,
        };
        for path in ["/auth/signup/basic", "/blog/author"] {
            common::wait_for_route(&api.http, api.bridge, path).await;
        }
        Self {
            _nats: nats,
            logs,
            api,
            _bridge: bridge,
            bridge_errors,
            _functions: functions,
        }
    }

    /// GET `path` with exactly `headers`.
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> harness::HttpReply {
        let url = format!("http://{}{path}", self.api.bridge);
        self.api.http.send(Method::GET, &url, "", headers).await
    }

    /// Waits until `name`'s log holds a line containing `text`; panics after 15 s with the log.
    async fn wait_for_log(&self, name: &str, text: &str) {
        let path = self.logs.join(format!("{name}.log"));
        for _ in 0..150 {
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            if log.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        panic!("{name} never logged '{text}':\n{log}");
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

/// `options` counting the server errors whose text contains `kind` (every one when empty), each
/// printed to stderr.
fn count_server_errors(
    options: async_nats::ConnectOptions,
    kind: &'static str,
) -> (async_nats::ConnectOptions, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let options = options.event_callback(move |event| {
        let seen = seen.clone();
        async move {
            if let async_nats::Event::ServerError(err) = event
                && err.to_string().to_lowercase().contains(kind)
            {
                eprintln!("server error on the bridge's connection: {err}");
                seen.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (options, count)
}

/// Starts a function binary signed in as its own NATS user, logging NATS events to a file.
fn function(name: &str, nats: &NatsServer, logs: &Path, env: &[(&str, String)]) -> Process {
    let log = std::fs::File::create(logs.join(format!("{name}.log"))).expect("log file");
    let mut command = std::process::Command::new(binary(name));
    command
        .envs(nats.env_for(name))
        // NATS server errors (permission violations among them) are logged at info.
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .envs(env.iter().cloned());
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
        let reply = platform
            .get("/blog/list/latest", &[("x-api-key", &key)])
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{:?}", reply.json());
    }
    let reply = platform
        .get("/blog/list/latest", &[("x-api-key", "guess-3")])
        .await;
    let body = reply.json();
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many")),
        "{body}"
    );
    let retry_after: u64 = reply
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in whole seconds");
    assert!((1..=30).contains(&retry_after), "Retry-After {retry_after}");

    // The lockout covers the address, so even the right key waits (it is not cached yet).
    let reply = platform
        .get("/blog/list/latest", &[("x-api-key", KEY)])
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn signup_to_published_blog_with_every_component_on_its_own_nats_user() {
    let platform = Platform::start(&[]).await;
    let api = &platform.api;

    let (_, token) = api
        .new_author("ada@example.com", "secret-pass", "Ada")
        .await;
    let draft = json!({"title": "Least privilege", "description": "One NATS user per component", "draftText": "Each signs in as itself.", "slug": "least-privilege", "tags": ["nats"]});
    let id = api.publish(&token, draft).await;
    let public = api
        .ok(Method::GET, &format!("/blog/id/{id}"), None, json!({}))
        .await;
    assert_eq!(public["text"], "Each signs in as itself.");
    assert_eq!(public["author"]["name"], "Ada");
    // Each function made its event stream on its own credentials, and blog's durable consumer of
    // auth's user events bound to auth's stream.
    platform.wait_for_log("auth", "event stream ready").await;
    platform.wait_for_log("blog", "event stream ready").await;
    platform
        .wait_for_log("blog", "durable consumer bound")
        .await;

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
    let (options, errors) =
        count_server_errors(nats.options_for("bridge"), "permissions violation");
    let client = options.connect(nats.url()).await.expect("bridge signs in");
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

#[tokio::test]
async fn a_comment_retried_with_one_idempotency_key_after_a_504_is_stored_once() {
    let platform = Platform::start(&[]).await;
    let api = &platform.api;
    let (_, token) = api
        .new_author("ida@example.com", "secret-pass", "Ida")
        .await;
    let draft = json!({"title": "Retries", "description": "Idempotency keys at the edge", "draftText": "Send it again.", "slug": "retries", "tags": ["nats"]});
    let id = api.publish(&token, draft).await;
    let bearer = format!("Bearer {token}");
    let url = format!("http://{}/blog/comment", api.bridge);
    let body = json!({"blogId": id, "text": "Well said."}).to_string();
    let comment = |key: &'static str| {
        let headers = [
            ("x-api-key", KEY),
            ("authorization", bearer.as_str()),
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ];
        let (http, url, body) = (api.http.clone(), url.clone(), body.clone());
        async move { http.send(Method::POST, &url, body, &headers).await }
    };

    let first = comment("first").await;
    let retry = comment("first").await;
    // The blog replica frozen: the bridge gives up at its deadline; the client cannot know
    // whether the comment was stored, so it retries with the same key until it has an answer.
    let blog = platform._functions[1].pid().to_string();
    signal("-STOP", &blog);
    let frozen = comment("second").await;
    signal("-CONT", &blog);
    // Frozen, it missed discovery rounds: wait until the bridge routes to it again.
    common::wait_for_route(&api.http, api.bridge, "/blog/comment/blog/:blogId").await;
    let mut answered = comment("second").await;
    for _ in 0..50 {
        if answered.status != StatusCode::CONFLICT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        answered = comment("second").await;
    }
    let listed = api
        .ok(
            Method::GET,
            &format!("/blog/comment/blog/{id}?page=1&limit=10"),
            None,
            json!({}),
        )
        .await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.json());
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(retry.body, first.body, "the retry gets the stored reply");
    assert_eq!(frozen.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.json());
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(2),
        "two keys, two comments, however many attempts: {listed}"
    );
    let violations = platform.violations_in_function_logs();
    assert!(
        violations.is_empty(),
        "permission violations: {violations:#?}"
    );
}

/// Sends `kill <signal> <pid>`, to freeze or thaw a replica.
fn signal(signal: &str, pid: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}
