//! Routes stay while their services live: through NATS restarts, stalled replicas and rogue claims.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::Setup;
use futures::StreamExt;
use harness::{NatsServer, Process, binary};
use http::{Method, StatusCode};
use serde_json::{Value, json};

async fn route_count(setup: &Setup) -> usize {
    let (_, body) = setup.send(Method::GET, "/routes", None, &[]).await;
    body["routes"].as_array().map_or(0, Vec::len)
}

async fn wait_until_connected(setup: &Setup) {
    for _ in 0..200 {
        let (_, body) = setup.send(Method::GET, "/health", None, &[]).await;
        if body["nats"] == "connected" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the bridge never reconnected to NATS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_survive_repeated_nats_restarts_under_load() {
    let setup = Setup::start(|_| {}).await;
    let _handlers = setup.replica(&["t.>", "late.>", "auth.>"]).await;
    setup.wait_for_route("/late/hello").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = route_count(&setup).await;
    let setup = Arc::new(tokio::sync::RwLock::new(setup));

    let not_found = Arc::new(AtomicU64::new(0));
    let served = Arc::new(AtomicU64::new(0));
    let load = {
        let (setup, not_found, served) = (setup.clone(), not_found.clone(), served.clone());
        tokio::spawn(async move {
            loop {
                let status = setup
                    .read()
                    .await
                    .call(Method::POST, "/t/echo/1", None)
                    .await
                    .0;
                match status {
                    StatusCode::NOT_FOUND => not_found.fetch_add(1, Ordering::Relaxed),
                    StatusCode::OK => served.fetch_add(1, Ordering::Relaxed),
                    _ => 0,
                };
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let mut after_each = Vec::new();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        {
            let mut guard = setup.write().await;
            let port = guard.world.nats.port();
            guard.world.nats.kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            guard.world.nats = NatsServer::start_on(port);
        }
        let guard = setup.read().await;
        wait_until_connected(&guard).await;
        after_each.push(route_count(&guard).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let served_before_end = served.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    load.abort();

    assert_eq!(
        after_each,
        vec![before; 4],
        "route table after each restart"
    );
    assert_eq!(not_found.load(Ordering::Relaxed), 0, "404s during restarts");
    assert!(
        served.load(Ordering::Relaxed) > served_before_end,
        "requests are served again after the last restart"
    );
}

#[tokio::test]
async fn rogue_info_responder_cannot_take_an_existing_path() {
    let setup = Setup::serving("/t/fail", |_| {}).await;
    let rogue = async_nats::connect(setup.world.nats.url())
        .await
        .expect("connect");
    // On an open server the rogue can also answer the named request the bridge trusts.
    let bare = rogue.subscribe("$SRV.INFO").await.expect("subscribe");
    let named = rogue.subscribe("$SRV.INFO.rogue").await.expect("subscribe");
    let mut info = futures::stream::select(bare, named);
    let claim = json!({
        "type": "io.nats.micro.v1.info_response",
        "name": "rogue", "id": "r1", "version": "1.0.0", "metadata": {}, "description": "",
        "endpoints": [{"name": "steal", "subject": "rogue.steal", "queue_group": "q",
            "metadata": {"http.method": "GET", "http.path": "/t/fail"}}],
    })
    .to_string();
    let responder = tokio::spawn(async move {
        while let Some(message) = info.next().await {
            if let Some(reply) = message.reply {
                let _ = rogue.publish(reply, claim.clone().into()).await;
            }
        }
    });

    tokio::time::sleep(Duration::from_secs(1)).await;
    let (_, routes) = setup.send(Method::GET, "/routes", None, &[]).await;
    let (status, _) = setup.call(Method::GET, "/t/fail", None).await;
    let (_, _, metrics) = setup.send_raw(Method::GET, "/metrics", None, &[]).await;
    responder.abort();

    let owner: Vec<&Value> = routes["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter(|r| r["path"] == "/t/fail")
        .collect();
    assert_eq!(owner.len(), 1);
    assert_eq!(owner[0]["subject"], "t.fail");
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the real handler still answers"
    );
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("bridge_route_conflicts_total 1"),
        "{metrics}"
    );
}

fn signal(process: &Process, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &process.pid().to_string()])
        .status()
        .expect("kill is available");
    assert!(status.success(), "cannot send SIG{name}");
}

#[tokio::test]
async fn stalled_replica_gives_504_and_keeps_its_routes() {
    let mut setup = Setup::without_bridge().await;
    let _keys = setup.replica(&["auth.>"]).await;
    let demo = Process::spawn("demo", &mut setup.world.command(binary("demo")));
    setup
        .start_bridge(|config| {
            config.timeout_ms = 300;
            config.discovery_forget_rounds = 50;
        })
        .await;
    setup.wait_for_route("/demo/echo").await;
    let body = r#"{"message":"hi"}"#;
    let (ready, _) = setup.call(Method::POST, "/demo/echo", Some(body)).await;

    signal(&demo, "STOP");
    let mut stalled = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        stalled.push(setup.call(Method::POST, "/demo/echo", Some(body)).await.0);
    }
    let still_routed = route_count(&setup).await;
    signal(&demo, "CONT");
    let (resumed, _) = setup.call(Method::POST, "/demo/echo", Some(body)).await;

    assert_eq!(ready, StatusCode::OK);
    assert!(
        stalled.iter().all(|s| *s == StatusCode::GATEWAY_TIMEOUT),
        "{stalled:?}"
    );
    assert!(still_routed > 0, "the stalled replica's routes stay");
    assert_eq!(resumed, StatusCode::OK);
}
