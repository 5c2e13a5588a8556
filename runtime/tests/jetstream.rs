//! `runtime::jetstream::ensure_stream` against a real nats-server with file storage: it creates the
//! stream, is idempotent, applies a changed spec, and the stream survives a server restart.

use std::time::Duration;

use harness::{NatsServer, free_port};
use runtime::jetstream::{StreamSpec, ensure_stream};

fn spec(max_age: Duration) -> StreamSpec {
    StreamSpec {
        name: "TEST_EVENTS".to_owned(),
        subjects: vec!["test.events.>".to_owned()],
        replicas: 1,
        max_age,
        max_bytes: 1 << 20,
    }
}

#[tokio::test]
async fn ensure_stream_creates_updates_and_survives_a_restart() {
    let store = std::env::temp_dir().join(format!("js-ensure-{}", nuid::next()));
    let port = free_port();
    let mut server = NatsServer::jetstream_on(port, &store);
    let client = async_nats::connect(server.url()).await.expect("connect");

    let created = ensure_stream(&client, &spec(Duration::from_secs(3600)))
        .await
        .expect("created");
    let again = ensure_stream(&client, &spec(Duration::from_secs(3600)))
        .await
        .expect("idempotent");
    let updated = ensure_stream(&client, &spec(Duration::from_secs(60)))
        .await
        .expect("updated");

    assert_eq!(created.config.subjects, vec!["test.events.>".to_owned()]);
    assert_eq!(
        created.config.storage,
        async_nats::jetstream::stream::StorageType::File
    );
    assert_eq!(again.config.max_age, Duration::from_secs(3600));
    assert_eq!(updated.config.max_age, Duration::from_secs(60));
    assert_eq!(updated.config.max_bytes, 1 << 20);

    let js = async_nats::jetstream::new(client.clone());
    js.publish("test.events.one", "x".into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    drop(client);
    server.kill();
    drop(server);
    let server = NatsServer::jetstream_on(port, &store);
    let client = async_nats::connect(server.url()).await.expect("reconnect");
    let mut stream = async_nats::jetstream::new(client)
        .get_stream("TEST_EVENTS")
        .await
        .expect("the stream survives a restart");
    assert_eq!(stream.info().await.expect("info").state.messages, 1);
    let _ = std::fs::remove_dir_all(&store);
}
