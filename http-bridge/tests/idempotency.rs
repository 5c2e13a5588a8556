//! `Idempotency-Key` through the bridge: forwarded to the function, `Idempotent-Replayed` passed back.

mod common;

use common::{KEY, Setup};
use http::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn a_retried_post_gets_the_stored_reply_marked_replayed() {
    let setup = Setup::serving_with_jetstream("/t/echo/:id", |_| {}).await;
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
