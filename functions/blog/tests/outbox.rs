//! A blog change and its event are stored in one document write, and the event reaches the
//! BLOG_EVENTS stream even when NATS is down when the change is made.

mod common;

use std::time::Duration;

use blog::BlogState;
use blog::model::Blog;
use blog::store::{BlogStore, staged};
use blog::workflow::Move;
use common::World;
use contracts::blog::{BlogChanged, CHANGED};

const STREAM: &str = "BLOG_EVENTS";

/// Every `blog.events.changed` in the stream: its `Nats-Msg-Id` and payload.
async fn changes(client: &async_nats::Client) -> Vec<(String, BlogChanged)> {
    harness::stored_events(client, STREAM, CHANGED).await
}

/// The blog once its staged event has been sent and cleared.
async fn sent(store: &BlogStore, id: &str, within: Duration) -> Blog {
    let id = blog::validate::object_id(id, "blog").unwrap();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let blog = store.find(id).await.expect("the blog exists");
        if blog.pending_event.is_none() {
            return blog;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the event {:?} is still pending after {within:?}",
            blog.pending_event
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_change_stored_while_nats_is_down_is_announced_once_it_is_back() {
    let (mut world, _replica) = World::serving().await;
    let BlogState { store, .. } = BlogState::connect(&world.settings)
        .await
        .expect("the test's own store connects");
    let id = world.published("outbox-while-down", &["OUTBOX"]).await;
    let live = sent(&store, &id, Duration::from_secs(10)).await;
    let announced = changes(&world.client).await;
    assert!(
        announced
            .iter()
            .any(|(_, event)| event.blog_id == id && event.what == "published"),
        "publishing through the handler was announced: {announced:?}"
    );

    world.world.nats.kill();
    let down = store
        .apply(&live, Move::Unpublish, "u-editor")
        .await
        .expect("MongoDB takes the change while NATS is down");
    let event = staged(&down).expect("unpublishing stages an event in the same write");

    world.world.nats.restart();
    sent(&store, &id, Duration::from_secs(15)).await;
    let client = async_nats::connect(world.nats.url()).await.unwrap();
    let matching: Vec<_> = changes(&client)
        .await
        .into_iter()
        .filter(|(event_id, _)| *event_id == event.id)
        .collect();
    assert_eq!(matching.len(), 1, "stored once: {matching:?}");
    assert_eq!(matching[0].1.what, "unpublished");
    assert_eq!(matching[0].1.slug, "outbox-while-down");
}

#[tokio::test]
async fn the_relay_looks_up_pending_events_through_a_sparse_index() {
    let world = World::start().await;
    let store = BlogStore::connect(&world.settings.mongodb_url, &world.settings.mongodb_db)
        .await
        .expect("connects");
    store.ensure_indexes().await.expect("indexes");
    let client = mongodb::Client::with_uri_str(&world.settings.mongodb_url)
        .await
        .expect("connects");
    let blogs = client
        .database(&world.settings.mongodb_db)
        .collection::<mongodb::bson::Document>("blogs");

    let mut indexes = blogs.list_indexes().await.expect("lists indexes");
    let mut pending = None;
    while let Some(index) = futures::TryStreamExt::try_next(&mut indexes)
        .await
        .expect("an index")
    {
        if index.keys == mongodb::bson::doc! {"pendingEvent.at": 1} {
            pending = Some(index);
        }
    }

    let pending = pending.expect("an index on pendingEvent.at");
    let sparse = pending.options.and_then(|o| o.sparse);
    assert_eq!(
        sparse,
        Some(true),
        "only blogs with a pending event are in it"
    );
}
