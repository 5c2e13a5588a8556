//! `Idempotency-Key` through the bridge: forwarded to the function, `Idempotent-Replayed` passed back.

mod common;

use std::time::{Duration, Instant};

use common::{KEY, Setup};
use http::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn a_retried_post_gets_the_stored_reply_marked_replayed() {
    let setup = Setup::serving("/t/echo/:id", |_| {}).await;
    let setup = &setup;
    let post = |body: &'static str, key: &'static str| async move {
        setup
            .send_raw(
                Method::POST,
                "/t/echo/1",
                Some(body.to_owned()),
                &[("x-api-key", KEY), ("idempotency-key", key)],
            )
            .await
    };

    let (first, first_headers, first_body) = post(r#"{"text":"hi"}"#, "order-1").await;
    let (retry, retry_headers, retry_body) = post(r#"{"text":"hi"}"#, "order-1").await;
    let (changed, _, changed_body) = post(r#"{"text":"bye"}"#, "order-1").await;

    assert_eq!(first, StatusCode::OK);
    assert!(first_headers.get("idempotent-replayed").is_none());
    assert_eq!(retry, StatusCode::OK);
    assert_eq!(retry_headers["idempotent-replayed"], "true");
    assert_eq!(retry_body, first_body, "the retry gets the first reply");
    assert_eq!(changed, StatusCode::UNPROCESSABLE_ENTITY);
    let changed: Value = serde_json::from_slice(&changed_body).expect("JSON error body");
    assert!(
        changed["message"]
            .as_str()
            .is_some_and(|m| m.contains("different request body")),
        "{changed}"
    );
}

#[tokio::test]
async fn writes_retried_with_their_keys_across_nats_restarts_run_once_each() {
    const WRITES: u64 = 60;
    let mut setup = Setup::serving("/t/record/:id", |_| {}).await;
    let (http, base) = (setup.http.clone(), format!("http://{}", setup.addr()));
    // A client that retries each write with its key until it gets an answer, as the README says.
    let client = tokio::spawn(async move {
        let mut retries = 0;
        for n in 0..WRITES {
            let key = format!("record-{n}-{}", std::process::id());
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let reply = http
                    .send(
                        Method::POST,
                        &format!("{base}/t/record/{n}"),
                        format!(r#"{{"n":{n}}}"#),
                        &[
                            ("x-api-key", KEY),
                            ("idempotency-key", &key),
                            ("content-type", "application/json"),
                        ],
                    )
                    .await;
                if reply.status == StatusCode::OK {
                    break;
                }
                // 409 (still in progress), 503 and 504 say "try again with the same key".
                assert!(
                    reply.status == StatusCode::CONFLICT || reply.status.is_server_error(),
                    "write {n}: {} {:?}",
                    reply.status,
                    reply.json()
                );
                assert!(Instant::now() < deadline, "write {n} never succeeded");
                retries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        (retries, Instant::now())
    });
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        setup.world.nats.crash_and_restart();
    }
    let restarts_done = Instant::now();
    let (retries, finished) = client.await.expect("the retrying client finishes");
    // The writes outlasted the restarts, so the crashes met writes in flight.
    assert!(
        finished > restarts_done,
        "the writes ended before the restarts"
    );
    println!("{WRITES} writes, {retries} client retries across 3 NATS restarts");

    let duplicated: Vec<(u64, usize)> = (0..WRITES)
        .map(|n| (n, common::runs_of(n)))
        .filter(|(_, runs)| *runs != 1)
        .collect();
    assert!(
        duplicated.is_empty(),
        "writes run other than once: {duplicated:?}"
    );
}
