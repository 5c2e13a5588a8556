//! How failures reach the caller: typed errors, bad input, panics, timeouts and saturation.

mod common;

use common::demo_bus;
use harness::assert_error;
use runtime::ApiError;
use runtime::wire::{ERROR_CODE_HEADER, ERROR_HEADER, ErrorBody};

#[tokio::test]
async fn typed_error_becomes_adr32_headers_and_json_body() {
    let (bus, _replica) = demo_bus().await;

    let reply = bus
        .client
        .request("demo.reserve", r#"{"name":"taken"}"#.into())
        .await
        .expect("reply");

    let headers = reply.headers.expect("error reply has headers");
    assert_eq!(
        headers.get(ERROR_CODE_HEADER).map(|v| v.as_str()),
        Some("409")
    );
    assert_eq!(
        headers.get(ERROR_HEADER).map(|v| v.as_str()),
        Some("name 'taken' is taken")
    );
    let body: ErrorBody = serde_json::from_slice(&reply.payload).expect("JSON error body");
    assert_eq!(
        body,
        ErrorBody {
            code: 409,
            message: "name 'taken' is taken".into()
        }
    );
}

#[tokio::test]
async fn malformed_json_is_400_and_says_so() {
    let (bus, _replica) = demo_bus().await;

    let err = bus.call("demo.echo", r#"{"message": "#).await;

    assert_error(err, 400, "not valid JSON");
}

#[tokio::test]
async fn wrong_field_type_is_400_naming_the_field() {
    let (bus, _replica) = demo_bus().await;

    let err = bus
        .call("demo.echo", r#"{"message": "hi", "count": "three"}"#)
        .await;

    assert_error(err, 400, "'count'");
}

#[tokio::test]
async fn object_where_a_string_belongs_is_rejected() {
    let (bus, _replica) = demo_bus().await;

    let err = bus.call("demo.echo", r#"{"message": {"$ne": ""}}"#).await;

    assert_error(err, 400, "'message'");
}

#[tokio::test]
async fn missing_field_and_unknown_field_are_400() {
    let (bus, _replica) = demo_bus().await;

    let missing = bus.call("demo.echo", "").await.unwrap_err();
    let unknown = bus
        .call("demo.echo", r#"{"message":"x","$where":"1"}"#)
        .await
        .unwrap_err();

    assert_eq!(missing.code(), 400);
    assert!(missing.to_string().contains("message"), "{missing}");
    assert_eq!(unknown.code(), 400);
    assert!(unknown.to_string().contains("$where"), "{unknown}");
}

#[tokio::test]
async fn panicking_handler_answers_500_and_the_replica_keeps_serving() {
    let (bus, _replica) = demo_bus().await;

    let err = bus.call("demo.panic", "{}").await.unwrap_err();
    let next = bus.call("demo.echo", r#"{"message":"still here"}"#).await;

    assert_eq!(err, ApiError::Internal("internal error".into()));
    assert_eq!(next.expect("echo after panic")["message"], "still here");
}

#[tokio::test]
async fn handler_past_its_timeout_is_cancelled_with_504() {
    let (bus, _replica) = demo_bus().await;

    let started = std::time::Instant::now();
    let err = bus.call("demo.sleep", r#"{"ms": 3000}"#).await.unwrap_err();

    assert_eq!(err.code(), 504, "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "answered after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn saturated_handler_answers_503_at_once() {
    let (bus, _replica) = demo_bus().await;

    // demo.sleep admits two at a time; the third must not queue behind them.
    let busy = (0..2).map(|_| bus.call("demo.sleep", r#"{"ms": 400}"#));
    let first_two = futures::future::join_all(busy);
    let third = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        (
            bus.call("demo.sleep", r#"{"ms": 1}"#).await,
            started.elapsed(),
        )
    };
    let (first_two, (third, waited)) = tokio::join!(first_two, third);

    assert!(first_two.iter().all(Result::is_ok), "{first_two:?}");
    assert_eq!(third.unwrap_err().code(), 503);
    assert!(
        waited < std::time::Duration::from_millis(200),
        "503 took {waited:?}"
    );
}

#[tokio::test]
async fn raw_nats_request_gets_the_handlers_json() {
    let (bus, _replica) = demo_bus().await;

    // What `nats req demo.echo '{"message":"hi","count":2}'` sends: no headers, no helpers.
    let plain = async_nats::connect(bus.nats.url())
        .await
        .expect("plain client");
    let reply = plain
        .request("demo.echo", r#"{"message":"hi","count":2}"#.into())
        .await
        .expect("reply");

    assert!(reply.headers.is_none());
    let body: serde_json::Value = serde_json::from_slice(&reply.payload).expect("JSON");
    assert_eq!(body, serde_json::json!({"message": "hi", "count": 2}));
}

#[tokio::test]
async fn a_reply_larger_than_the_max_payload_is_a_413_at_once() {
    let (bus, _replica) = demo_bus().await;

    // A 413 from the runtime, not a 504 from the caller's own timeout.
    let err = bus.call("demo.fill", r#"{"bytes": 2097152}"#).await;

    assert_error(err, 413, "larger than the NATS server's max payload");
    let fits = bus
        .call("demo.fill", r#"{"bytes": 1000}"#)
        .await
        .expect("a small fill");
    assert_eq!(fits.as_str().map(str::len), Some(1000));
}

#[tokio::test]
async fn a_huge_wrong_value_is_quoted_as_an_excerpt_in_a_prompt_400() {
    let (bus, _replica) = demo_bus().await;
    let huge = "7".repeat(600_000);
    let payload = format!(r#"{{"message": "hi", "count": "{huge}"}}"#);

    let err = bus.call("demo.echo", payload.as_str()).await;

    let message = match &err {
        Err(ApiError::BadRequest(message)) => message.clone(),
        other => panic!("expected a 400, got {other:?}"),
    };
    assert!(message.contains("'count'"), "{message}");
    assert!(
        message.len() < 300,
        "the 400 quotes an excerpt, not {} bytes",
        message.len()
    );
}
