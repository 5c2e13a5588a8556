//! The live status page: `/status.json` shows services, replicas, endpoints and the bridge's load,
//! and `/status` draws it in a real headless Chromium (screenshot kept under `target/tmp/`).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use common::{KEY, Setup};
use harness::{Http, Process, free_port, wait_for_port};
use http::Method;
use serde_json::{Value, json};

/// Two demo replicas and the stand-in `auth.apikey.verify` as service `auth`, then the bridge.
async fn start() -> Setup {
    let mut setup = Setup::without_bridge().await;
    for _ in 0..2 {
        let demo = demo::service(&contracts::GuardSettings::default());
        let replica = setup.world.serve(demo, &["demo.>"]).await;
        setup.services.push(replica);
    }
    let auth = runtime::Service::new("auth", "0.0.1");
    let keys = setup.world.serve(auth, &["auth.>"]).await;
    setup.services.push(keys);
    setup.start_bridge(|_| {}).await;
    setup.wait_for_route("/demo/echo").await;
    setup
}

/// Sends `n` echo requests through the bridge so the counters and windows have something.
async fn echo(setup: &Setup, n: usize) {
    for i in 0..n {
        let body = format!(r#"{{"message":"hi","count":{i}}}"#);
        let (status, reply) = setup
            .send(
                Method::POST,
                "/demo/echo",
                Some(&body),
                &[("x-api-key", KEY), ("content-type", "application/json")],
            )
            .await;
        assert_eq!(status, 200, "echo through the bridge: {reply}");
    }
}

/// One JSON request; `(status, body)`.
async fn send(http: &Http, method: Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let reply = http
        .send(method, url, body, &[("content-type", "application/json")])
        .await;
    (reply.status.as_u16(), reply.json())
}

fn service<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("service {name} missing from {status}"))
}

fn endpoint<'a>(service: &'a Value, subject: &str) -> &'a Value {
    service["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["subject"] == subject))
        .unwrap_or_else(|| panic!("endpoint {subject} missing from {service}"))
}

#[tokio::test]
async fn status_json_lists_replicas_endpoints_counters_and_bridge_load() {
    let setup = start().await;
    echo(&setup, 20).await;

    let (status, body) = setup.send(Method::GET, "/status.json", None, &[]).await;

    assert_eq!(status, 200);
    assert_eq!(body["nats"], "connected");
    let demo = service(&body, "demo");
    assert_eq!(
        demo["instances"].as_array().map(Vec::len),
        Some(2),
        "{demo}"
    );
    assert!(
        demo["instances"][0]["uptime_secs"].as_i64().is_some(),
        "{demo}"
    );
    let echo = endpoint(demo, "demo.echo");
    assert_eq!(echo["http"], "POST /demo/echo");
    assert_eq!(echo["requests"], 20);
    assert_eq!(echo["errors"], 0);
    assert!(
        echo["average_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{echo}"
    );
    assert!(echo["queue_group"].is_string(), "{echo}");
    assert_eq!(endpoint(demo, "demo.fanout")["queue_group"], Value::Null);
    assert_eq!(endpoint(demo, "demo.whoami")["roles"], json!(["AUTHOR"]));
    let bridge = body["bridge"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["route"] == "POST /demo/echo"))
        .unwrap_or_else(|| panic!("bridge load of /demo/echo missing from {body}"));
    assert_eq!(bridge["requests"], 20);
    assert!(bridge["rate"].as_f64().is_some_and(|r| r > 0.0), "{bridge}");
    assert!(
        bridge["p99_ms"].as_f64().is_some_and(|p| p > 0.0),
        "{bridge}"
    );
}

/// chromedriver on a free port, or a loud failure saying how to install it.
fn chromedriver() -> (Process, u16) {
    let installed = Command::new("chromedriver").arg("--version").output();
    assert!(
        installed.is_ok_and(|o| o.status.success()),
        "chromedriver is missing: `scripts/dev test` installs Debian's chromium and chromium-driver"
    );
    let port = free_port();
    let process = Process::spawn(
        "chromedriver",
        Command::new("chromedriver").arg(format!("--port={port}")),
    );
    wait_for_port(port, Duration::from_secs(20), "chromedriver");
    (process, port)
}

/// A WebDriver session in headless Chromium (W3C protocol over plain HTTP).
struct Browser {
    http: Http,
    session: String,
}

impl Browser {
    async fn open(http: Http, driver: u16) -> Self {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
            }
        }}});
        let (status, body) = send(
            &http,
            Method::POST,
            &format!("http://127.0.0.1:{driver}/session"),
            Some(capabilities),
        )
        .await;
        assert_eq!(status, 200, "chromedriver could not start Chromium: {body}");
        let session = format!(
            "http://127.0.0.1:{driver}/session/{}",
            body["value"]["sessionId"].as_str().expect("session id")
        );
        Self { http, session }
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let (status, reply) = send(&self.http, method, &url, body).await;
        assert_eq!(status, 200, "WebDriver {path}: {reply}");
        reply["value"].clone()
    }

    async fn script(&self, script: &str) -> Value {
        self.command(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn close(self) {
        let _ = send(&self.http, Method::DELETE, &self.session, None).await;
    }
}

#[tokio::test]
async fn status_page_draws_services_and_endpoints_in_chromium() {
    let (_driver, port) = chromedriver();
    let setup = start().await;
    echo(&setup, 5).await;
    let browser = Browser::open(setup.http.clone(), port).await;

    browser
        .command(
            Method::POST,
            "/url",
            Some(json!({"url": format!("http://{}/status", setup.addr())})),
        )
        .await;
    let mut drawn = Value::Null;
    for _ in 0..100 {
        drawn = browser
            .script(
                "return {services: [...document.querySelectorAll('[data-service]')].map(s => s.dataset.service),
                         demoInstances: document.querySelectorAll('[data-service=demo] [data-instance]').length,
                         routes: [...document.querySelectorAll('[data-route]')].map(r => r.dataset.route),
                         text: document.body.innerText}",
            )
            .await;
        if drawn["services"] == json!(["auth", "demo"])
            && drawn["routes"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("POST /demo/echo")))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shot = browser.command(Method::GET, "/screenshot", None).await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot.as_str().expect("base64 screenshot"))
        .expect("valid base64");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    std::fs::write(&path, &png).expect("screenshot written");
    eprintln!("status page screenshot: {}", path.display());
    browser.close().await;

    assert_eq!(drawn["services"], json!(["auth", "demo"]), "{drawn}");
    assert_eq!(drawn["demoInstances"], 2, "{drawn}");
    let text = drawn["text"].as_str().unwrap_or_default();
    for shown in [
        "demo.echo",
        "POST /demo/echo",
        "auth.apikey.verify",
        "AUTHOR",
        "none (fan-out)",
        "connected",
    ] {
        assert!(
            text.contains(shown),
            "the page does not show {shown:?}:\n{text}"
        );
    }
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
}
