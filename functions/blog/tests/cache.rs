//! No stale read after a successful write, whichever replica served the read.

mod common;

use common::World;
use futures::StreamExt;
use serde_json::json;

#[tokio::test]
async fn unpublish_through_one_replica_drops_the_blog_cached_by_another() {
    let world = World::start().await;
    // Replica A only reads, replica B only writes: every read below is A's, every write B's.
    let _reader = world.replica_serving(&["blog.get.*", "blog.list.*"]).await;
    let _writer = world
        .replica_serving(&["blog.author.*", "blog.editor.*"])
        .await;
    let id = world.published("cached-once", &["rust"]).await;
    for _ in 0..3 {
        world
            .call(None, "blog.get.id", json!({"id": id}))
            .await
            .expect("warm id");
        world
            .call(None, "blog.get.slug", json!({"slug": "cached-once"}))
            .await
            .expect("warm slug");
        world
            .call(None, "blog.list.latest", json!({"page": 1, "limit": 10}))
            .await
            .expect("warm list");
    }

    world
        .call(Some("editor"), "blog.editor.unpublish", json!({"id": id}))
        .await
        .expect("unpublish via B");

    let by_id = world
        .call(None, "blog.get.id", json!({"id": id}))
        .await
        .unwrap_err();
    let by_slug = world
        .call(None, "blog.get.slug", json!({"slug": "cached-once"}))
        .await
        .unwrap_err();
    let list = world
        .call(None, "blog.list.latest", json!({"page": 1, "limit": 10}))
        .await
        .expect("list");
    assert_eq!(by_id.code(), 404);
    assert_eq!(by_slug.code(), 404);
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn renamed_slug_and_title_show_at_once_on_every_read_path() {
    let world = World::start().await;
    let _a = world.replica().await;
    let _b = world.replica().await;
    let id = world.published("old-name", &["rust"]).await;
    for _ in 0..4 {
        world
            .call(None, "blog.get.slug", json!({"slug": "old-name"}))
            .await
            .expect("warm");
        world
            .call(
                None,
                "blog.list.tag",
                json!({"tag": "rust", "page": 1, "limit": 5}),
            )
            .await
            .expect("warm");
    }

    world
        .call(
            Some("author"),
            "blog.author.update",
            json!({"_id": id, "slug": "new-name", "title": "New title"}),
        )
        .await
        .expect("edit");

    let old = world
        .call(None, "blog.get.slug", json!({"slug": "old-name"}))
        .await
        .unwrap_err();
    let new = world
        .call(None, "blog.get.slug", json!({"slug": "new-name"}))
        .await
        .expect("new slug");
    let tagged = world
        .call(
            None,
            "blog.list.tag",
            json!({"tag": "RUST", "page": 1, "limit": 5}),
        )
        .await
        .expect("tag list");
    assert_eq!(old.code(), 404);
    assert_eq!(new["title"], "New title");
    assert_eq!(tagged[0]["slug"], "new-name");
}

#[tokio::test]
async fn every_change_is_announced_on_blog_events_changed() {
    let (world, _blog) = World::serving().await;
    let mut events = world
        .client
        .subscribe("blog.events.changed")
        .await
        .expect("subscribe");
    world.client.flush().await.expect("flush");

    let id = world.published("announced", &["x"]).await;
    world
        .call(Some("editor"), "blog.editor.unpublish", json!({"id": id}))
        .await
        .expect("unpublish");

    let mut seen = Vec::new();
    for _ in 0..2 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(2), events.next())
            .await
            .expect("event in time")
            .expect("event");
        let event: serde_json::Value = serde_json::from_slice(&event.payload).expect("json");
        assert_eq!(event["blogId"], id.as_str());
        seen.push(event["what"].as_str().expect("what").to_owned());
    }
    assert_eq!(seen, ["published", "unpublished"]);
}

#[tokio::test]
async fn redis_down_reads_go_to_mongodb() {
    let mut world = World::start().await;
    world.settings.redis_url = format!("redis://127.0.0.1:{}", harness::free_port());
    let _blog = world.replica().await;
    let id = world.published("no-cache", &["x"]).await;

    let blog = world
        .call(None, "blog.get.id", json!({"id": id}))
        .await
        .expect("read without redis");
    let list = world
        .call(None, "blog.list.latest", json!({"page": 1, "limit": 10}))
        .await
        .expect("list without redis");

    assert_eq!(blog["slug"], "no-cache");
    assert_eq!(list[0]["_id"], id.as_str());
}

#[tokio::test]
async fn mongodb_down_is_503_not_a_hang() {
    let mut world = World::start().await;
    let _blog = world.replica().await;
    let id = world.draft("author", "store-gone", &["x"]).await;
    // A second service pointed at a port where nothing listens behaves as MongoDB being down.
    world.settings.mongodb_url = format!(
        "mongodb://127.0.0.1:{}/?serverSelectionTimeoutMS=500",
        harness::free_port()
    );
    world.settings.no_cache = true;
    let store = blog::store::BlogStore::connect(&world.settings.mongodb_url, "x")
        .await
        .expect("lazy client");

    let started = std::time::Instant::now();
    let err = store
        .find(mongodb::bson::oid::ObjectId::parse_str(&id).expect("oid"))
        .await
        .unwrap_err();
    let api: runtime::ApiError = err.into();

    assert_eq!(api.code(), 503, "{api}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
