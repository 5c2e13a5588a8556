//! The caller's deadline travels in `X-Deadline`: late requests are not run, running ones stop at it.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use common::Setup;
use runtime::{ApiError, wire};

fn deadline_in(offset_ms: i64) -> HeaderMap {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_millis() as i64;
    let mut headers = HeaderMap::new();
    headers.insert(wire::DEADLINE, (now + offset_ms).to_string().as_str());
    headers
}

async fn ask(setup: &Setup, headers: HeaderMap, body: &str) -> Result<bytes::Bytes, ApiError> {
    runtime::request(
        &setup.world.client,
        "t.sleep",
        headers,
        body.to_owned().into(),
        Duration::from_secs(5),
    )
    .await
}

#[tokio::test]
async fn request_arriving_past_its_deadline_is_504_without_running() {
    let setup = Setup::without_bridge().await;
    let _handlers = setup.replica(&["t.>"]).await;

    let started = Instant::now();
    let late = ask(&setup, deadline_in(-1), r#"{"ms": 1000}"#).await;

    let err = late.expect_err("a late request is refused");
    assert_eq!(err.code(), 504);
    assert!(err.to_string().contains("not run"), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "the handler did not sleep"
    );
}

#[tokio::test]
async fn handler_is_stopped_at_the_callers_deadline() {
    let setup = Setup::without_bridge().await;
    let _handlers = setup.replica(&["t.>"]).await;

    let started = Instant::now();
    let cut = ask(&setup, deadline_in(300), r#"{"ms": 3000}"#).await;
    let took = started.elapsed();
    let in_time = ask(&setup, deadline_in(2_000), r#"{"ms": 10}"#).await;

    assert_eq!(cut.expect_err("stopped").code(), 504);
    assert!(
        took < Duration::from_millis(1_000),
        "stopped after {took:?}"
    );
    assert!(in_time.is_ok());
}
