//! The bridge on worker threads, as the binary runs it: every worker serves, each on a NATS
//! connection of its own, while routes, metrics and shutdown stay those of one bridge.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{KEY, Setup};
use futures::StreamExt;
use harness::{Http, Process};
use http::{Method, StatusCode};

const WORKERS: usize = 2;

/// Records the inbox prefix of every request on `subject` without answering: one prefix per NATS
/// connection the bridge sends requests on.
async fn spy(setup: &Setup, subject: &str) -> Arc<Mutex<BTreeSet<String>>> {
    let client = async_nats::connect(setup.world.nats.url())
        .await
        .expect("connects");
    let mut copies = client
        .subscribe(subject.to_owned())
        .await
        .expect("subscribes");
    // A round trip, so the server has the subscription before the first request.
    assert!(client.request("spy.nobody", "".into()).await.is_err());
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        let _client = client;
        while let Some(copy) = copies.next().await {
            let reply = copy.reply.map(|r| r.to_string()).unwrap_or_default();
            let prefix = reply
                .rsplit_once('.')
                .map_or(reply.clone(), |(p, _)| p.to_owned());
            record.lock().expect("seen").insert(prefix);
        }
    });
    seen
}

/// Fresh clients, so each request comes on a connection of its own and the kernel spreads them.
async fn on_fresh_connections(
    bridge: std::net::SocketAddr,
    count: usize,
    method: Method,
    path: &str,
    body: &str,
) -> Vec<StatusCode> {
    let url = format!("http://{bridge}{path}");
    let calls = (0..count).map(|_| {
        let url = url.clone();
        let method = method.clone();
        async move {
            Http::new()
                .send(method, &url, body.to_owned(), &[("x-api-key", KEY)])
                .await
                .status
        }
    });
    futures::future::join_all(calls).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_worker_serves_on_its_own_connection_and_metrics_count_them_all() {
    let setup = Setup::serving("/t/echo/:id", |config| config.workers = WORKERS).await;
    let seen = spy(&setup, "t.echo").await;

    let statuses = on_fresh_connections(setup.addr(), 40, Method::POST, "/t/echo/7", "{}").await;

    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "every request answered: {statuses:?}"
    );
    let prefixes = seen.lock().expect("seen").clone();
    assert_eq!(
        prefixes.len(),
        WORKERS,
        "requests left on one NATS connection per worker: {prefixes:?}"
    );
    // Whichever worker answers the scrape, it counts the requests of all of them.
    for _ in 0..6 {
        let reply = Http::new()
            .send(
                Method::GET,
                &format!("http://{}/metrics", setup.addr()),
                String::new(),
                &[],
            )
            .await;
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        let line = text
            .lines()
            .find(|l| l.starts_with("bridge_http_requests_total") && l.contains("/t/echo/:id"))
            .unwrap_or_else(|| panic!("no echo counter in {text}"));
        assert!(line.ends_with(" 40"), "counted all 40 requests: {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_requests_in_flight_on_every_worker_finish() {
    let mut setup = Setup::serving("/t/sleep", |config| config.workers = WORKERS).await;
    let seen = spy(&setup, "t.sleep").await;

    let addr = setup.addr();
    let requests = on_fresh_connections(addr, 12, Method::GET, "/t/sleep?ms=1000", "");
    let bridge = setup.bridge.take().expect("bridge");
    let (statuses, ()) = tokio::join!(requests, async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        bridge.shutdown().await;
    });

    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "requests in flight at shutdown were answered: {statuses:?}"
    );
    assert_eq!(
        seen.lock().expect("seen").len(),
        WORKERS,
        "both workers had requests in flight"
    );
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "every worker closed its listener");
}

#[tokio::test]
async fn a_second_bridge_on_a_port_in_use_fails_to_start_instead_of_sharing_it() {
    let setup = Setup::start(|config| config.workers = WORKERS).await;
    let mut config = http_bridge::Config::local(setup.world.nats.url());
    config.addr = setup.addr();

    let second =
        http_bridge::Bridge::start_workers(config, setup.world.client.clone(), WORKERS).await;

    let err = second.err().expect("the port is taken");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
}

/// The bridge binary signalled the moment its first worker listens, while the others still
/// connect: a drain and a clean exit every time, never the default death by SIGTERM.
#[tokio::test]
async fn sigterm_while_the_workers_start_is_a_drain() {
    let setup = Setup::without_bridge().await;
    for round in 0..5 {
        let port = harness::free_port();
        let bridge = Process::spawn(
            "http-bridge",
            setup
                .world
                .command(env!("CARGO_BIN_EXE_http-bridge"))
                .env("BRIDGE_ADDR", format!("127.0.0.1:{port}"))
                .env("BRIDGE_WORKERS", "8"),
        );
        harness::wait_for_port(port, Duration::from_secs(10), "the bridge");
        let (code, _) = bridge.stop(Duration::from_secs(15)).await;
        assert_eq!(code, Some(0), "round {round}: the exit after SIGTERM");
    }
}
