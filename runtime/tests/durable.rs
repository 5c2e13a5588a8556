//! Durable handlers (`durable = ".."`) against a real nats-server with JetStream file storage:
//! an event that fails is retried and applied once, and a poison event lands on `dlq.<durable>`
//! with its error, and `$SRV.STATS` shows the consumer's lag and redeliveries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use harness::{NatsServer, free_port};
use runtime::jetstream::{StreamSpec, ensure_stream};
use runtime::{ApiError, Config, Json, Running, Service, State, handler};

/// What the test handlers saw: deliveries per event and the events applied.
#[derive(Clone, Default)]
struct Seen {
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    applied: Arc<Mutex<Vec<String>>>,
}

/// Fails the first two deliveries of every event, then applies it.
#[handler(subject = "dtest.events.flaky", durable = "dtest-flaky")]
async fn flaky(State(seen): State<Seen>, Json(event): Json<String>) -> Result<(), ApiError> {
    let attempt = {
        let mut attempts = seen.attempts.lock().expect("lock");
        let n = attempts.entry(event.clone()).or_default();
        *n += 1;
        *n
    };
    if attempt < 3 {
        return Err(ApiError::internal(format!("attempt {attempt} fails")));
    }
    seen.applied.lock().expect("lock").push(event);
    Ok(())
}

/// Never succeeds: its events must end on the dead-letter subject.
#[handler(
    subject = "dtest.events.poison",
    durable = "dtest-poison",
    max_deliver = 2
)]
async fn poison(Json(event): Json<String>) -> Result<(), ApiError> {
    Err(ApiError::internal(format!("cannot apply {event}")))
}

/// Applies every event once, slowly enough for a burst to be in flight when nats-server dies.
#[handler(subject = "dtest.events.burst", durable = "dtest-burst")]
async fn burst(State(seen): State<Seen>, Json(event): Json<String>) -> Result<(), ApiError> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut applied = seen.applied.lock().expect("lock");
    if !applied.contains(&event) {
        applied.push(event);
    }
    Ok(())
}

async fn setup(only: &str) -> (NatsServer, async_nats::Client, Seen, Running) {
    let store = std::env::temp_dir().join(format!("js-durable-{}", nuid::next()));
    setup_on(free_port(), &store, only).await
}

async fn setup_on(
    port: u16,
    store: &std::path::Path,
    only: &str,
) -> (NatsServer, async_nats::Client, Seen, Running) {
    let server = NatsServer::jetstream_on(port, store);
    let client = async_nats::connect(server.url()).await.expect("connect");
    ensure_stream(
        &client,
        &StreamSpec {
            name: "DTEST_EVENTS".to_owned(),
            subjects: vec!["dtest.events.>".to_owned()],
            replicas: 1,
            max_age: Duration::from_secs(3600),
            max_bytes: -1,
        },
    )
    .await
    .expect("stream");
    let seen = Seen::default();
    let config = Config {
        only: vec![only.to_owned()],
        ..Config::with_nats_url(server.url())
    };
    let running = Service::new("durable", "0.1.0")
        .config(config)
        .state(seen.clone())
        .start(async_nats::connect(server.url()).await.expect("replica"))
        .await
        .expect("starts");
    (server, client, seen, running)
}

async fn publish(client: &async_nats::Client, subject: &str, id: &str, body: &str) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id);
    async_nats::jetstream::new(client.clone())
        .publish_with_headers(subject.to_owned(), headers, body.to_owned().into())
        .await
        .expect("publish")
        .await
        .expect("stored");
}

#[tokio::test]
async fn an_event_that_fails_twice_is_applied_once() {
    let (_server, client, seen, _running) = setup("dtest.events.flaky").await;

    publish(&client, "dtest.events.flaky", "e-1", "\"e-1\"").await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.applied.lock().expect("lock").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "never applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Longer than the back-off: a wrongly unacknowledged event would come again meanwhile.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(*seen.applied.lock().expect("lock"), vec!["e-1".to_owned()]);
    assert_eq!(seen.attempts.lock().expect("lock")["e-1"], 3);
    let data = durable_stats(&client, "dtest.events.flaky").await;
    assert_eq!(data["durable"], "dtest-flaky");
    assert_eq!(data["redeliveries"], 2);
    assert_eq!(data["pending"], 0);
}

/// The `data` of `subject`'s endpoint in `$SRV.STATS`.
async fn durable_stats(client: &async_nats::Client, subject: &str) -> serde_json::Value {
    let reply = client
        .request("$SRV.STATS.durable", "".into())
        .await
        .expect("stats");
    let stats: serde_json::Value = serde_json::from_slice(&reply.payload).expect("json");
    stats["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .find(|e| e["subject"] == subject)
        .expect("the endpoint")["data"]
        .clone()
}

#[tokio::test]
async fn a_poison_event_lands_on_the_dead_letter_subject_with_its_error() {
    let (_server, client, _seen, _running) = setup("dtest.events.poison").await;
    let mut dlq = client.subscribe("dlq.dtest-poison").await.expect("sub");
    client.flush().await.expect("flush");

    publish(&client, "dtest.events.poison", "p-1", "\"p-1\"").await;

    let dead = tokio::time::timeout(Duration::from_secs(30), dlq.next())
        .await
        .expect("dead-lettered in time")
        .expect("a message");
    let headers = dead.headers.expect("headers");
    assert_eq!(dead.payload.as_ref(), b"\"p-1\"");
    assert_eq!(
        headers.get("Dlq-Subject").map(|v| v.as_str()),
        Some("dtest.events.poison")
    );
    assert_eq!(headers.get("Nats-Msg-Id").map(|v| v.as_str()), Some("p-1"));
    let error = headers.get("Dlq-Error").expect("error header").as_str();
    assert!(error.contains("cannot apply p-1"), "error was {error:?}");
    // The ack after dead-lettering may trail the DLQ message a little.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while durable_stats(&client, "dtest.events.poison").await["dead_lettered"] != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "dead_lettered never counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        durable_stats(&client, "dtest.events.poison").await["redeliveries"],
        1
    );
}

#[tokio::test]
async fn no_event_is_lost_when_nats_server_dies_during_a_burst() {
    let store = std::env::temp_dir().join(format!("js-burst-{}", nuid::next()));
    let port = free_port();
    let (mut server, client, seen, _running) = setup_on(port, &store, "dtest.events.burst").await;
    for n in 0..100 {
        let id = format!("b-{n}");
        publish(&client, "dtest.events.burst", &id, &format!("\"{id}\"")).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while seen.applied.lock().expect("lock").len() < 10 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the burst never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    let during = seen.applied.lock().expect("lock").len();
    assert!(
        during < 100,
        "the burst was over before the kill ({during})"
    );
    let _back = NatsServer::jetstream_on(port, &store);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.applied.lock().expect("lock").len() < 100 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "events lost: {} of 100 applied",
            seen.applied.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::fs::remove_dir_all(&store);
}
