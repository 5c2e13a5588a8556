//! Replicas share a queue group's load; fan-out endpoints reach every replica.

mod common;

use common::demo;
use harness::World;
use serde_json::Value;

fn requests_of(stats: &Value, subject: &str) -> u64 {
    stats["endpoints"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["subject"] == subject))
        .and_then(|e| e["num_requests"].as_u64())
        .expect("endpoint listed with a count")
}

#[tokio::test]
async fn two_replicas_share_requests_through_the_queue_group() {
    let bus = World::start().await;
    let first = bus.serve(demo(), &[]).await;
    let second = bus.serve(demo(), &[]).await;

    let calls = (0..200).map(|i| {
        let body = format!(r#"{{"message":"m{i}"}}"#);
        let bus = &bus;
        async move { bus.call("demo.echo", &body).await }
    });
    let replies = futures::future::join_all(calls).await;

    assert!(replies.iter().all(Result::is_ok));
    let a = requests_of(
        &bus.discover(&format!("$SRV.STATS.demo.{}", first.id()))
            .await,
        "demo.echo",
    );
    let b = requests_of(
        &bus.discover(&format!("$SRV.STATS.demo.{}", second.id()))
            .await,
        "demo.echo",
    );
    assert_eq!(a + b, 200);
    assert!(a > 0 && b > 0, "both replicas served: {a} + {b}");
}

#[tokio::test]
async fn fan_out_endpoint_reaches_every_replica() {
    let bus = World::start().await;
    let first = bus.serve(demo(), &[]).await;
    let second = bus.serve(demo(), &[]).await;

    bus.client
        .publish("demo.fanout", "{}".into())
        .await
        .expect("publish");
    bus.client.flush().await.expect("flush");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    for replica in [&first, &second] {
        let stats = bus
            .discover(&format!("$SRV.STATS.demo.{}", replica.id()))
            .await;
        assert_eq!(
            requests_of(&stats, "demo.fanout"),
            1,
            "replica {}",
            replica.id()
        );
    }
}
