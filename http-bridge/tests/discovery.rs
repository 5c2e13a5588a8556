//! Routes follow the running handlers: new services and new replicas are picked up by themselves.

mod common;

use common::Setup;
use http::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn handler_started_after_the_bridge_gets_a_route() {
    let setup = Setup::start(|_| {}).await;
    let _keys = setup.replica(&["auth.>"]).await;
    let (before, _) = setup.call(Method::GET, "/late/hello", None).await;

    let _late = setup.replica(&["late.>"]).await;
    setup.wait_for_route("/late/hello").await;
    let (after, body) = setup.call(Method::GET, "/late/hello", None).await;

    assert_eq!(before, StatusCode::NOT_FOUND);
    assert_eq!(after, StatusCode::OK);
    assert_eq!(body["data"], "hello");
}

fn served(stats: &Value, subject: &str) -> u64 {
    stats["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["subject"] == subject))
        .and_then(|e| e["num_requests"].as_u64())
        .unwrap_or(0)
}

#[tokio::test]
async fn second_replica_started_mid_test_gets_traffic() {
    let setup = Setup::start(|_| {}).await;
    let first = setup.replica(&["t.>", "auth.>"]).await;
    setup.wait_for_route("/t/echo/:id").await;
    for _ in 0..10 {
        assert_eq!(
            setup.call(Method::POST, "/t/echo/1", None).await.0,
            StatusCode::OK
        );
    }

    let second = setup.replica(&["t.>"]).await;
    for _ in 0..100 {
        assert_eq!(
            setup.call(Method::POST, "/t/echo/1", None).await.0,
            StatusCode::OK
        );
    }

    let stats = |id: String| {
        let client = setup.world.client.clone();
        async move {
            serde_json::from_slice::<Value>(
                &client
                    .request(format!("$SRV.STATS.standin.{id}"), "".into())
                    .await
                    .expect("stats")
                    .payload,
            )
            .expect("json")
        }
    };
    let (a, b) = (
        served(&stats(first.id().to_owned()).await, "t.echo"),
        served(&stats(second.id().to_owned()).await, "t.echo"),
    );
    assert_eq!(a + b, 110);
    assert!(b > 0, "the new replica served {b} requests");
}
