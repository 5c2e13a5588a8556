//! Requests reach handlers with their parts merged; replies come back in the envelope.

mod common;

use common::Setup;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn success_is_wrapped_in_the_envelope_with_path_query_and_body_merged() {
    let setup = Setup::serving("/t/echo/:id", |_| {}).await;

    let (status, body) = setup
        .call(
            Method::POST,
            "/t/echo/abc?page=2&limit=10&q=rust%20nats",
            Some(r#"{"title":"hi","id":"ignored"}"#),
        )
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"code": "10000", "status": 200, "message": "success",
               "data": {"id": "abc", "page": 2, "limit": 10, "q": "rust nats", "title": "hi"}})
    );
}

#[tokio::test]
async fn request_id_is_generated_echoed_and_forwarded() {
    let setup = Setup::serving("/t/echo/:id", |_| {}).await;

    let (_, headers, _) = setup
        .send_raw(
            Method::POST,
            "/t/echo/1",
            None,
            &[("x-api-key", common::KEY), ("x-request-id", "req-7")],
        )
        .await;
    let (_, generated, _) = setup
        .send_raw(
            Method::POST,
            "/t/echo/1",
            None,
            &[("x-api-key", common::KEY)],
        )
        .await;

    assert_eq!(headers["x-request-id"], "req-7");
    assert!(!generated["x-request-id"].is_empty());
}

#[tokio::test]
async fn handler_error_code_passes_through_in_the_envelope() {
    let setup = Setup::serving("/t/fail", |_| {}).await;

    let (status, body) = setup.call(Method::GET, "/t/fail", None).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"code": "10001", "status": 409, "message": "slug 'x' is taken"})
    );
}

#[tokio::test]
async fn malformed_json_body_is_400() {
    let setup = Setup::serving("/t/echo/:id", |_| {}).await;

    let (status, body) = setup
        .call(Method::POST, "/t/echo/1", Some("{not json"))
        .await;
    let (array_status, _) = setup.call(Method::POST, "/t/echo/1", Some("[1,2]")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid JSON")),
        "{body}"
    );
    assert_eq!(array_status, StatusCode::BAD_REQUEST);
}
