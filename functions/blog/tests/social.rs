//! Comments, tags, similar blogs and author renames.

mod common;

use common::{World, ids};
use serde_json::json;

#[tokio::test]
async fn signed_in_users_comment_on_published_blogs_and_anyone_reads() {
    let (world, _blog) = World::serving().await;
    let id = world.published("discussed", &["x"]).await;
    let draft = world.draft("author", "not-yet", &["x"]).await;

    world
        .call(
            Some("learner"),
            "blog.comment.add",
            json!({"blogId": id, "text": "first"}),
        )
        .await
        .expect("comment");
    world
        .call(
            Some("author"),
            "blog.comment.add",
            json!({"blogId": id, "text": "second"}),
        )
        .await
        .expect("comment");
    let anonymous = world
        .call(None, "blog.comment.add", json!({"blogId": id, "text": "x"}))
        .await
        .unwrap_err();
    let on_draft = world
        .call(
            Some("learner"),
            "blog.comment.add",
            json!({"blogId": draft, "text": "x"}),
        )
        .await
        .unwrap_err();
    let empty = world
        .call(
            Some("learner"),
            "blog.comment.add",
            json!({"blogId": id, "text": "  "}),
        )
        .await
        .unwrap_err();
    let listed = world
        .call(
            None,
            "blog.comment.list",
            json!({"blogId": id, "page": 1, "limit": 10}),
        )
        .await
        .expect("list");

    assert_eq!(anonymous.code(), 401);
    assert_eq!(on_draft.code(), 404);
    assert_eq!(empty.code(), 400);
    let texts: Vec<_> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["text"].clone())
        .collect();
    assert_eq!(texts, [json!("first"), json!("second")]);
    assert_eq!(listed[0]["author"]["id"], "u-learner");
}

#[tokio::test]
async fn comment_is_deleted_by_its_author_or_an_editor_only() {
    let (world, _blog) = World::serving().await;
    let id = world.published("moderated", &["x"]).await;
    let comment = world
        .call(
            Some("learner"),
            "blog.comment.add",
            json!({"blogId": id, "text": "hmm"}),
        )
        .await
        .expect("comment");
    let other = world
        .call(
            Some("learner"),
            "blog.comment.add",
            json!({"blogId": id, "text": "again"}),
        )
        .await
        .expect("comment");

    let stranger = world
        .call(
            Some("author"),
            "blog.comment.delete",
            json!({"id": comment["_id"]}),
        )
        .await
        .unwrap_err();
    world
        .call(
            Some("learner"),
            "blog.comment.delete",
            json!({"id": comment["_id"]}),
        )
        .await
        .expect("own delete");
    world
        .call(
            Some("editor"),
            "blog.comment.delete",
            json!({"id": other["_id"]}),
        )
        .await
        .expect("editor delete");
    let left = world
        .call(
            None,
            "blog.comment.list",
            json!({"blogId": id, "page": 1, "limit": 10}),
        )
        .await
        .expect("list");

    assert_eq!(stranger.code(), 403);
    assert_eq!(left, json!([]));
}

#[tokio::test]
async fn tags_count_published_blogs_most_used_first() {
    let (world, _blog) = World::serving().await;
    world.published("t-one", &["rust", "nats"]).await;
    world.published("t-two", &["Rust"]).await;
    world
        .draft("author", "t-draft", &["rust", "draftonly"])
        .await;

    let tags = world
        .call(None, "blog.tags.list", json!({}))
        .await
        .expect("tags");

    assert_eq!(
        tags,
        json!([{"tag": "RUST", "count": 2}, {"tag": "NATS", "count": 1}])
    );
}

#[tokio::test]
async fn similar_blogs_share_the_most_tags_and_never_include_the_blog_itself() {
    let (world, _blog) = World::serving().await;
    let base = world.published("base", &["a", "b", "c"]).await;
    let two = world.published("shares-two", &["a", "b"]).await;
    let one = world.published("shares-one", &["c", "z"]).await;
    world.published("shares-none", &["z"]).await;

    let similar = world
        .call(None, "blog.list.similar", json!({"id": base}))
        .await
        .expect("similar");
    let ids = ids(&similar);

    assert_eq!(ids, [two, one]);
}

#[tokio::test]
async fn tag_list_is_case_insensitive_and_newest_first() {
    let (world, _blog) = World::serving().await;
    let older = world.published("older", &["Rust"]).await;
    let newer = world.published("newer", &["RUST"]).await;

    let listed = world
        .call(
            None,
            "blog.list.tag",
            json!({"tag": "rust", "page": 1, "limit": 10}),
        )
        .await
        .expect("list");
    let ids = ids(&listed);

    assert_eq!(ids, [newer, older]);
}

#[tokio::test]
async fn author_rename_event_updates_their_blogs() {
    let (world, _blog) = World::serving().await;
    let id = world.published("by-renamed", &["x"]).await;
    world
        .call(None, "blog.get.id", json!({"id": id}))
        .await
        .expect("warm cache");

    runtime::jetstream::ensure_stream(
        &world.client,
        &runtime::jetstream::StreamSpec {
            name: "AUTH_EVENTS".to_owned(),
            subjects: vec!["auth.events.>".to_owned()],
            replicas: 1,
            max_age: std::time::Duration::from_secs(3600),
            max_bytes: -1,
        },
    )
    .await
    .expect("stream");

    let event =
        json!({"userId": "u-author", "name": "Renamed Author", "profilePicUrl": "https://p/x.png"});
    async_nats::jetstream::new(world.client.clone())
        .publish("auth.events.user.updated", event.to_string().into())
        .await
        .expect("publish")
        .await
        .expect("stored");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let blog = loop {
        let blog = world
            .call(None, "blog.get.id", json!({"id": id}))
            .await
            .expect("read");
        if blog["author"]["name"] == "Renamed Author" || std::time::Instant::now() > deadline {
            break blog;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };

    assert_eq!(blog["author"]["name"], "Renamed Author");
    assert_eq!(blog["author"]["profilePicUrl"], "https://p/x.png");
}
