//! A request waiting on NATS when the bridge's connection drops is answered at once, not at its deadline.

mod common;

use std::time::{Duration, Instant};

use common::Setup;
use harness::NatsServer;
use http::{Method, StatusCode};

/// Far longer than any answer below may take, so "well before the deadline" is unmistakable.
const TIMEOUT_MS: u64 = 30_000;

async fn slow_get_while(
    setup: &mut Setup,
    outage: impl FnOnce(&mut Setup),
) -> (StatusCode, Duration) {
    let started = Instant::now();
    let (http, url) = (
        setup.http.clone(),
        format!("http://{}/t/sleep?ms=3000", setup.addr()),
    );
    let request = http.send(
        Method::GET,
        &url,
        String::new(),
        &[("x-api-key", common::KEY)],
    );
    tokio::pin!(request);
    // Let the request reach the handler, then take NATS away under it.
    let early = tokio::time::timeout(Duration::from_millis(500), &mut request).await;
    assert!(early.is_err(), "the slow request cannot be answered yet");
    outage(setup);
    let reply = request.await;
    (reply.status, started.elapsed())
}

#[tokio::test]
async fn a_request_in_flight_when_nats_dies_gets_503_at_once() {
    let mut setup = Setup::serving("/t/sleep", |config| config.timeout_ms = TIMEOUT_MS).await;

    let (status, took) = slow_get_while(&mut setup, |setup| setup.world.nats.kill()).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        took < Duration::from_millis(TIMEOUT_MS / 2),
        "answered after {took:?}, not at the {TIMEOUT_MS} ms deadline"
    );
}

#[tokio::test]
async fn a_safe_request_in_flight_across_a_nats_restart_is_answered_before_its_deadline() {
    let mut setup = Setup::serving("/t/sleep", |config| config.timeout_ms = TIMEOUT_MS).await;

    let (status, took) = slow_get_while(&mut setup, |setup| {
        let port = setup.world.nats.port();
        setup.world.nats.kill();
        setup.world.nats = NatsServer::start_on(port);
    })
    .await;

    assert_eq!(status, StatusCode::OK, "resent once the handler is back");
    assert!(
        took < Duration::from_millis(TIMEOUT_MS / 2),
        "answered after {took:?}, not at the {TIMEOUT_MS} ms deadline"
    );
}
