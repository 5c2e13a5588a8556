//! Reading back what a JetStream stream stored, for tests that prove no event was lost.

use async_nats::jetstream;
use serde::de::DeserializeOwned;

/// Every message on `subject` in `stream`, oldest first: its event id (`Nats-Msg-Id`) and payload.
/// Panics when the stream is missing or a stored event lacks its id or a valid payload.
pub async fn stored_events<T: DeserializeOwned>(
    client: &async_nats::Client,
    stream: &str,
    subject: &str,
) -> Vec<(String, T)> {
    let context = jetstream::new(client.clone());
    let mut stream = context.get_stream(stream).await.expect("the stream exists");
    let last = stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence;
    let mut found = Vec::new();
    for seq in 1..=last {
        let Ok(message) = stream.get_raw_message(seq).await else {
            continue;
        };
        if message.subject.as_str() != subject {
            continue;
        }
        let id = message
            .headers
            .get(runtime::wire::EVENT_ID)
            .map(|v| v.as_str().to_owned())
            .expect("every stored event carries its id");
        let event = serde_json::from_slice(&message.payload).expect("a valid event payload");
        found.push((id, event));
    }
    found
}
