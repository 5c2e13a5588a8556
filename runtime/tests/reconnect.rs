//! `Service::on_reconnect`: a replica that loses NATS empties its caches when it notices and
//! again when the connection is back, before it serves again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use harness::{NatsServer, World};
use runtime::{ApiError, Service, handler};

/// Something for the replica to serve.
#[handler(subject = "rtest.ping")]
async fn ping() -> Result<(), ApiError> {
    Ok(())
}

async fn wait_for(count: &AtomicU32, at_least: u32, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count.load(Ordering::SeqCst) < at_least {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn hooks_run_when_nats_is_lost_and_again_when_it_is_back() {
    let mut world = World::start().await;
    let cleared = Arc::new(AtomicU32::new(0));
    let counter = cleared.clone();
    let service = Service::new("reconnect", "0.1.0")
        .config(world.config(&["rtest.ping"]))
        .on_reconnect(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
    let _running = world.start_service(service).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cleared.load(Ordering::SeqCst), 0, "no hook while connected");

    let port = world.nats.port();
    world.nats.kill();
    wait_for(&cleared, 1, "the hook did not run when NATS was lost").await;
    let _back = NatsServer::start_on(port);
    wait_for(&cleared, 2, "the hook did not run when NATS came back").await;

    let reply = runtime::request(
        &async_nats::connect(format!("nats://127.0.0.1:{port}"))
            .await
            .expect("connect"),
        "rtest.ping",
        Default::default(),
        "".into(),
        Duration::from_secs(10),
    )
    .await;
    assert!(reply.is_ok(), "serves again after the reconnect: {reply:?}");
}
