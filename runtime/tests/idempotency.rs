//! `Idempotency-Key` over NATS: a write runs once per key, retries get the stored reply.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_nats::HeaderMap;
use harness::{World, assert_error};
use runtime::{ApiError, Json, Service, State, handler, wire};
use serde::Deserialize;
use serde_json::{Value, json};

/// How many times the write really ran.
#[derive(Clone, Default)]
struct Runs(Arc<AtomicU32>);

#[derive(Deserialize)]
struct Note {
    text: String,
    #[serde(default)]
    slow_ms: u64,
}

/// Counts a note and answers with its number; `slow_ms` keeps it busy, "fail" makes it fail with 503.
#[handler(subject = "idem.note", http = "POST /idem/note")]
async fn note(State(runs): State<Runs>, Json(note): Json<Note>) -> Result<Value, ApiError> {
    tokio::time::sleep(Duration::from_millis(note.slow_ms)).await;
    if note.text == "fail" {
        return Err(ApiError::Unavailable("the store is down".into()));
    }
    if note.text.is_empty() {
        return Err(ApiError::BadRequest("text must not be empty".into()));
    }
    let n = runs.0.fetch_add(1, Ordering::SeqCst) + 1;
    Ok(json!({"n": n, "text": note.text}))
}

async fn start() -> (World, Runs, runtime::Running) {
    let world = World::start().await;
    let runs = Runs::default();
    let running = world
        .serve(
            Service::new("idem", "1.0.0").state(runs.clone()),
            &["idem.>"],
        )
        .await;
    (world, runs, running)
}

fn keyed(key: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(wire::IDEMPOTENCY_KEY, key);
    headers
}

/// The whole reply, so a test can read `Idempotent-Replayed`.
async fn send(world: &World, headers: HeaderMap, body: Value) -> async_nats::Message {
    runtime::request_message(
        &world.client,
        "idem.note",
        headers,
        body.to_string().into(),
        Duration::from_secs(15),
    )
    .await
    .expect("a reply")
}

fn replayed(message: &async_nats::Message) -> bool {
    message
        .headers
        .as_ref()
        .and_then(|h| h.get(wire::IDEMPOTENT_REPLAYED))
        .is_some_and(|v| v.as_str() == "true")
}

#[tokio::test]
async fn a_retried_write_runs_once_and_gets_the_stored_reply() {
    let (world, runs, _running) = start().await;

    let first = send(&world, keyed("k-1"), json!({"text": "hi"})).await;
    let second = send(&world, keyed("k-1"), json!({"text": "hi"})).await;
    let unkeyed = world.call("idem.note", json!({"text": "hi"})).await;

    assert!(!replayed(&first), "the first attempt is no replay");
    assert!(replayed(&second), "the retry says it is a replay");
    assert_eq!(
        first.payload, second.payload,
        "the retry gets the same reply"
    );
    assert_eq!(runtime::decode(second).unwrap(), r#"{"n":1,"text":"hi"}"#);
    assert_eq!(
        unkeyed,
        Ok(json!({"n": 2, "text": "hi"})),
        "no key, no dedup"
    );
    assert_eq!(runs.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_concurrent_duplicate_gets_409_and_a_different_body_422() {
    let (world, runs, _running) = start().await;

    let slow = json!({"text": "slow", "slow_ms": 1500});
    let (first, duplicate) = tokio::join!(send(&world, keyed("k-2"), slow.clone()), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        send(&world, keyed("k-2"), slow.clone()).await
    });
    let other_body = send(&world, keyed("k-2"), json!({"text": "other"})).await;

    assert_eq!(runtime::decode(first).unwrap(), r#"{"n":1,"text":"slow"}"#);
    assert_error(runtime::decode(duplicate), 409, "still in progress");
    assert_error(runtime::decode(other_body), 422, "different request body");
    assert_eq!(runs.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_client_error_is_replayed_but_a_server_error_is_retried() {
    let (world, runs, _running) = start().await;

    let bad = send(&world, keyed("k-3"), json!({"text": ""})).await;
    let bad_again = send(&world, keyed("k-3"), json!({"text": ""})).await;
    let failed = send(&world, keyed("k-4"), json!({"text": "fail"})).await;
    let failed_again = send(&world, keyed("k-4"), json!({"text": "fail"})).await;
    let blank_key = send(&world, keyed(" "), json!({"text": "x"})).await;

    assert!(replayed(&bad_again), "a 4xx is an answer and is kept");
    assert_error(runtime::decode(bad_again), 400, "text must not be empty");
    assert!(!replayed(&bad));
    assert!(
        !replayed(&failed_again),
        "a 5xx releases the key so the retry runs"
    );
    assert_error(runtime::decode(failed_again), 503, "the store is down");
    assert_error(runtime::decode(failed), 503, "the store is down");
    assert_error(runtime::decode(blank_key), 400, "Idempotency-Key");
    assert_eq!(runs.0.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn keys_are_scoped_to_the_caller() {
    let (world, runs, _running) = start().await;
    let mut alice = keyed("shared");
    alice.insert(wire::AUTHORIZATION, "Bearer alice");
    let mut bob = keyed("shared");
    bob.insert(wire::AUTHORIZATION, "Bearer bob");

    let a = send(&world, alice, json!({"text": "a"})).await;
    let b = send(&world, bob, json!({"text": "b"})).await;

    assert!(!replayed(&b), "another caller's key never replays to bob");
    assert_eq!(runtime::decode(a).unwrap(), r#"{"n":1,"text":"a"}"#);
    assert_eq!(runtime::decode(b).unwrap(), r#"{"n":2,"text":"b"}"#);
    assert_eq!(runs.0.load(Ordering::SeqCst), 2);
}
