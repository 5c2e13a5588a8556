//! The endpoints operators and tools read: health, metrics, routes, OpenAPI.

mod common;

use common::Setup;
use http::{Method, StatusCode};

#[tokio::test]
async fn health_is_503_without_routes_and_200_with_them() {
    let setup = Setup::start(|_| {}).await;
    let (before, body) = setup.send(Method::GET, "/health", None, &[]).await;

    let _handlers = setup.replica(&["t.>", "auth.>"]).await;
    setup.wait_for_route("/t/fail").await;
    let (after, healthy) = setup.send(Method::GET, "/health", None, &[]).await;

    assert_eq!(before, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["routes"], 0);
    assert_eq!(after, StatusCode::OK);
    assert_eq!(healthy["nats"], "connected");
}

#[tokio::test]
async fn routes_list_what_discovery_found_with_roles() {
    let setup = Setup::serving("/t/private", |_| {}).await;

    let (status, body) = setup.send(Method::GET, "/routes", None, &[]).await;

    assert_eq!(status, StatusCode::OK);
    let private = body["routes"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["path"] == "/t/private"))
        .cloned()
        .expect("listed");
    assert_eq!(private["subject"], "t.private");
    assert_eq!(private["roles"], serde_json::json!(["AUTHOR"]));
    assert_eq!(private["auth"], "bearer");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let setup = Setup::serving("/t/fail", |_| {}).await;
    setup.call(Method::GET, "/t/fail", None).await;
    setup.call(Method::GET, "/t/fail", None).await;

    let (status, _, body) = setup.send_raw(Method::GET, "/metrics", None, &[]).await;
    let text = String::from_utf8(body.to_vec()).expect("utf8");

    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains(r#"bridge_http_requests_total{method="GET",route="/t/fail",status="409"} 2"#),
        "{text}"
    );
    assert!(
        text.contains("bridge_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_documents_discovered_routes() {
    let setup = Setup::serving("/t/echo/:id", |_| {}).await;

    let (status, doc) = setup.send(Method::GET, "/openapi.json", None, &[]).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    let echo = &doc["paths"]["/t/echo/{id}"]["post"];
    assert_eq!(echo["operationId"], "t.echo");
    assert_eq!(echo["parameters"][0]["name"], "id");
    assert_eq!(
        doc["paths"]["/t/private"]["get"]["security"][0]["bearer"],
        serde_json::json!(["AUTHOR"])
    );
}
