//! Events are never lost: every change auth stores has its event written in the same transaction,
//! and the event reaches the AUTH_EVENTS stream even when NATS is down when the change is made.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{Auth, access};
use contracts::auth::{USER_UPDATED, UserChanged};
use serde_json::json;
use uuid::Uuid;

const STREAM: &str = "AUTH_EVENTS";

/// Every `auth.events.user.updated` in the stream: its `Nats-Msg-Id` and payload.
async fn renames(client: &async_nats::Client) -> Vec<(String, UserChanged)> {
    harness::stored_events(client, STREAM, USER_UPDATED).await
}

async fn outbox_rows(auth: &Auth) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM event_outbox")
        .fetch_one(auth.state.store.pool())
        .await
        .expect("count the outbox")
}

/// Waits until the service has made its stream and the outbox is empty.
async fn settled(auth: &Auth, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    let context = async_nats::jetstream::new(auth.client.clone());
    loop {
        let stream_ready = context.get_stream(STREAM).await.is_ok();
        let rows = outbox_rows(auth).await;
        if stream_ready && rows == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{rows} events still in the outbox after {within:?} (stream ready: {stream_ready})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_change_stored_while_nats_is_down_is_published_once_it_is_back() {
    let mut auth = Auth::start().await;
    let user = auth.signup("offline@example.com").await;
    let id = Uuid::parse_str(user["user"]["id"].as_str().unwrap()).unwrap();
    settled(&auth, Duration::from_secs(10)).await;

    auth.world.nats.kill();
    let (_, staged) = auth
        .state
        .store
        .update_profile(id, Some("Renamed Offline"), None)
        .await
        .expect("PostgreSQL takes the change while NATS is down")
        .expect("the user exists");
    assert_eq!(staged.len(), 1, "one user.updated staged: {staged:?}");
    assert_eq!(outbox_rows(&auth).await, 1, "the event waits in the outbox");

    auth.world.nats.restart();
    settled(&auth, Duration::from_secs(15)).await;
    let client = async_nats::connect(auth.nats.url()).await.unwrap();
    let published = renames(&client).await;
    let matching: Vec<_> = published
        .iter()
        .filter(|(event_id, _)| *event_id == staged[0].id)
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "stored once in the stream: {published:?}"
    );
    assert_eq!(matching[0].1.name, "Renamed Offline");
    assert_eq!(matching[0].1.user_id, id.to_string());
}

#[tokio::test]
async fn no_event_is_lost_when_nats_crashes_in_the_middle_of_a_burst() {
    const WORKERS: usize = 6;
    const RENAMES: usize = 40;
    let mut auth = Auth::start().await;
    let mut users = Vec::new();
    for w in 0..WORKERS {
        let reply = auth.signup(&format!("burst{w}@example.com")).await;
        users.push((
            reply["user"]["id"].as_str().unwrap().to_owned(),
            access(&reply),
        ));
    }
    settled(&auth, Duration::from_secs(10)).await;

    let url = auth.nats.url();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for (w, (_, token)) in users.iter().cloned().enumerate() {
        let url = url.clone();
        let answered = answered.clone();
        workers.push(tokio::spawn(async move {
            let client = async_nats::ConnectOptions::new()
                .retry_on_initial_connect()
                .connect(url)
                .await
                .unwrap();
            let mut acknowledged = Vec::new();
            for i in 0..RENAMES {
                let name = format!("Burst {w} {i}");
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Authorization", format!("Bearer {token}").as_str());
                let body = serde_json::to_vec(&json!({"name": name})).unwrap();
                let reply = runtime::request(
                    &client,
                    "auth.profile.update",
                    headers,
                    body.into(),
                    Duration::from_secs(5),
                )
                .await;
                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if reply.is_ok() {
                    acknowledged.push(name);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before_crash = answered.load(std::sync::atomic::Ordering::SeqCst);
    auth.world.nats.crash_and_restart();
    let mut acknowledged = HashSet::new();
    for worker in workers {
        acknowledged.extend(worker.await.expect("worker finished"));
    }
    settled(&auth, Duration::from_secs(20)).await;

    let client = async_nats::connect(auth.nats.url()).await.unwrap();
    let published: HashMap<String, Vec<String>> =
        renames(&client)
            .await
            .into_iter()
            .fold(HashMap::new(), |mut by_user, (_, event)| {
                by_user.entry(event.user_id).or_default().push(event.name);
                by_user
            });
    let stored: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM users WHERE email LIKE 'burst%'")
            .fetch_all(auth.state.store.pool())
            .await
            .unwrap();
    assert_eq!(stored.len(), WORKERS);
    for (id, name) in &stored {
        let names = published.get(&id.to_string()).cloned().unwrap_or_default();
        assert!(
            names.contains(name),
            "the stored name {name:?} of {id} has no event; events: {names:?}"
        );
    }
    let all: HashSet<&String> = published.values().flatten().collect();
    let lost: Vec<&String> = acknowledged.iter().filter(|n| !all.contains(n)).collect();
    assert!(
        lost.is_empty(),
        "acknowledged renames without an event: {lost:?}"
    );
    assert!(
        before_crash > 0 && before_crash < WORKERS * RENAMES,
        "the crash should fall in the middle of the burst; {before_crash} renames were answered before it"
    );
    println!(
        "{} of {} renames acknowledged, {before_crash} answered before the crash; {} events in the \
         stream, none missing",
        acknowledged.len(),
        WORKERS * RENAMES,
        all.len()
    );
}
