//! `runtime::outbox::publish` against a real nats-server with JetStream: an event goes out with
//! its id, every fan-out handler hears it, and the publisher gets JetStream's acknowledgement,
//! not a handler's answer to the ack subject the event carries as its reply.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use harness::World;
use runtime::jetstream::{StreamSpec, ensure_stream};
use runtime::outbox::{Staged, publish};
use runtime::{ApiError, EventId, Service, handler};

static HEARD: AtomicU32 = AtomicU32::new(0);

/// Every replica hears it; it answers whatever asks, as request handlers do.
#[handler(subject = "otest.events.changed", no_queue_group)]
async fn changed(EventId(id): EventId) -> Result<String, ApiError> {
    HEARD.fetch_add(1, Ordering::SeqCst);
    Ok(id)
}

#[tokio::test]
async fn an_event_heard_by_fan_out_handlers_is_acknowledged_by_jetstream() {
    let world = World::start().await;
    ensure_stream(
        &world.client,
        &StreamSpec {
            name: "OTEST_EVENTS".to_owned(),
            subjects: vec!["otest.events.>".to_owned()],
            replicas: 1,
            max_age: Duration::from_secs(60),
            max_bytes: 1 << 20,
        },
    )
    .await
    .expect("stream");
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let service =
            Service::new("otest", "0.1.0").config(world.config(&["otest.events.changed"]));
        replicas.push(world.start_service(service).await);
    }

    let events: Vec<Staged> = (0..20)
        .map(|i| Staged::json("otest.events.changed", &serde_json::json!({ "n": i })))
        .collect();
    let acked = publish(&world.client, &events).await;
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(acked, ids, "every event acknowledged, in order");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while HEARD.load(Ordering::SeqCst) < 60 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "each of 3 replicas hears each of 20 events; heard {}",
            HEARD.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // What the event's reply subject receives: JetStream's acknowledgement only, never an answer
    // from a handler (three replicas would each send one).
    let inbox = world.client.new_inbox();
    let mut answers = world.client.subscribe(inbox.clone()).await.expect("inbox");
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(runtime::wire::EVENT_ID, "raw-event-1");
    world
        .client
        .publish_with_reply_and_headers("otest.events.changed", inbox, headers, "{}".into())
        .await
        .expect("publish");
    let mut received = Vec::new();
    while let Ok(Some(answer)) = tokio::time::timeout(
        Duration::from_millis(500),
        futures::StreamExt::next(&mut answers),
    )
    .await
    {
        received.push(String::from_utf8_lossy(&answer.payload).into_owned());
    }
    assert_eq!(received.len(), 1, "one answer, the ack: {received:?}");
    assert!(received[0].contains("OTEST_EVENTS"), "{received:?}");

    // Sent again with the same ids (a relay's re-send): stored once.
    assert_eq!(publish(&world.client, &events).await, ids);
    let mut stream = async_nats::jetstream::new(world.client.clone())
        .get_stream("OTEST_EVENTS")
        .await
        .expect("stream");
    assert_eq!(stream.info().await.expect("info").state.messages, 21);
    for replica in replicas {
        replica.shutdown().await.expect("drains");
    }
}
