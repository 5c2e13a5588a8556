//! Every way a request can fail maps to a clear status, never a hang.

mod common;

use std::time::{Duration, Instant};

use common::Setup;
use http::{Method, StatusCode};

#[tokio::test]
async fn missing_api_key_is_401_and_a_wrong_one_403() {
    let setup = Setup::serving("/t/fail", |_| {}).await;

    let (missing, body) = setup.send(Method::GET, "/t/fail", None, &[]).await;
    let (wrong, _) = setup
        .send(Method::GET, "/t/fail", None, &[("x-api-key", "nope")])
        .await;

    assert_eq!(missing, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("x-api-key")),
        "{body}"
    );
    assert_eq!(wrong, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unknown_path_is_404_and_wrong_method_405_with_allow() {
    let setup = Setup::serving("/t/fail", |_| {}).await;

    let (not_found, _) = setup.call(Method::GET, "/nowhere", None).await;
    let (status, headers, _) = setup
        .send_raw(
            Method::DELETE,
            "/t/fail",
            None,
            &[("x-api-key", common::KEY)],
        )
        .await;

    assert_eq!(not_found, StatusCode::NOT_FOUND);
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let setup = Setup::serving("/t/echo/:id", |config| config.max_body_bytes = 1024).await;

    let big = format!(r#"{{"text":"{}"}}"#, "x".repeat(4096));
    let (status, body) = setup.call(Method::POST, "/t/echo/1", Some(&big)).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["status"], 413);
}

#[tokio::test]
async fn route_whose_handlers_are_gone_is_503_at_once() {
    let mut setup = Setup::without_bridge().await;
    let _keys = setup.replica(&["auth.>"]).await;
    let handlers = setup.replica(&["t.>"]).await;
    // A slow refresh keeps the route after its handlers leave: the bridge must rely on "no responders".
    setup
        .start_bridge(|config| config.discovery_interval_ms = 60_000)
        .await;
    setup.wait_for_route("/t/fail").await;
    handlers.shutdown().await.expect("handlers stop");

    let started = Instant::now();
    let (status, body) = setup.call(Method::GET, "/t/fail", None).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn handler_slower_than_the_bridge_timeout_is_504_on_time() {
    let setup = Setup::serving("/t/sleep", |config| config.timeout_ms = 300).await;

    let started = Instant::now();
    let (status, body) = setup.call(Method::GET, "/t/sleep?ms=2000", None).await;

    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn saturated_bridge_answers_503_with_retry_after() {
    let setup = Setup::serving("/t/sleep", |config| config.max_in_flight = 1).await;

    let slow = setup.call(Method::GET, "/t/sleep?ms=600", None);
    let second = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        setup
            .send_raw(
                Method::GET,
                "/t/sleep?ms=1",
                None,
                &[("x-api-key", common::KEY)],
            )
            .await
    };
    let ((slow_status, _), (status, headers, _)) = tokio::join!(slow, second);

    assert_eq!(slow_status, StatusCode::OK);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");
}

#[tokio::test]
async fn nats_down_is_503_and_the_bridge_recovers_when_it_returns() {
    let mut setup = Setup::start(|_| {}).await;
    let handlers = setup.replica(&["t.>", "auth.>"]).await;
    setup.wait_for_route("/t/fail").await;
    let port = setup.world.nats.port();

    setup.world.nats.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let (down, headers, _) = setup
            .send_raw(Method::GET, "/t/fail", None, &[("x-api-key", common::KEY)])
            .await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(down, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(headers["retry-after"], "1");
    }
    assert!(
        slowest < Duration::from_millis(50),
        "slowest 503 took {slowest:?}"
    );

    setup.world.nats = harness::NatsServer::start_on(port);
    let started = Instant::now();
    loop {
        let (status, _) = setup.call(Method::GET, "/t/fail", None).await;
        if status == StatusCode::CONFLICT {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never recovered: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(handlers);
}
