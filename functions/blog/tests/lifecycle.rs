//! The author -> editor -> public workflow, and every move it forbids.

mod common;

use common::World;
use serde_json::json;

#[tokio::test]
async fn draft_submitted_and_published_becomes_public() {
    let (world, _blog) = World::serving().await;

    let id = world.draft("author", "hello-nats", &["rust", "Nats"]).await;
    let hidden = world
        .call(None, "blog.get.id", json!({"id": id}))
        .await
        .unwrap_err();
    world
        .call(Some("author"), "blog.author.submit", json!({"id": id}))
        .await
        .expect("submit");
    let in_review = world
        .call(
            Some("editor"),
            "blog.editor.submitted",
            json!({"page": 1, "limit": 10}),
        )
        .await
        .expect("review list");
    let published = world
        .call(Some("editor"), "blog.editor.publish", json!({"id": id}))
        .await
        .expect("publish");
    let public = world
        .call(None, "blog.get.slug", json!({"slug": "hello-nats"}))
        .await
        .expect("public read");

    assert_eq!(hidden.code(), 404);
    assert_eq!(in_review[0]["_id"], id.as_str());
    assert_eq!(published["published"], true);
    assert_eq!(public["_id"], id.as_str());
    assert_eq!(public["text"], "text of hello-nats");
    assert_eq!(public["tags"], json!(["NATS", "RUST"]));
    assert_eq!(public["author"]["id"], "u-author");
}

#[tokio::test]
async fn edits_to_a_published_blog_go_live_only_at_the_next_publish() {
    let (world, _blog) = World::serving().await;
    let id = world.published("living-doc", &["rust"]).await;

    world
        .call(
            Some("author"),
            "blog.author.update",
            json!({"_id": id, "draftText": "second version"}),
        )
        .await
        .expect("edit");
    let before = world
        .call(None, "blog.get.id", json!({"id": id}))
        .await
        .expect("read");
    world
        .call(Some("author"), "blog.author.submit", json!({"id": id}))
        .await
        .expect("submit");
    world
        .call(Some("editor"), "blog.editor.publish", json!({"id": id}))
        .await
        .expect("publish");
    let after = world
        .call(None, "blog.get.id", json!({"id": id}))
        .await
        .expect("read");

    assert_eq!(before["text"], "text of living-doc");
    assert_eq!(after["text"], "second version");
}

#[tokio::test]
async fn publishing_a_draft_that_was_never_submitted_is_400_and_changes_nothing() {
    let (world, _blog) = World::serving().await;
    let id = world.draft("author", "never-sent", &["x"]).await;

    let err = world
        .call(Some("editor"), "blog.editor.publish", json!({"id": id}))
        .await
        .unwrap_err();
    let blog = world
        .call(Some("author"), "blog.author.get", json!({"id": id}))
        .await
        .expect("own read");

    assert_eq!(err.code(), 400);
    assert!(err.to_string().contains("submit"), "{err}");
    assert_eq!(blog["published"], false);
    assert_eq!(blog["drafted"], true);
}

#[tokio::test]
async fn editing_someone_elses_blog_is_403() {
    let (world, _blog) = World::serving().await;
    let id = world.draft("author", "mine-only", &["x"]).await;

    let edit = world
        .call(
            Some("other-author"),
            "blog.author.update",
            json!({"_id": id, "title": "stolen"}),
        )
        .await
        .unwrap_err();
    let read = world
        .call(Some("other-author"), "blog.author.get", json!({"id": id}))
        .await
        .unwrap_err();
    let blog = world
        .call(Some("author"), "blog.author.get", json!({"id": id}))
        .await
        .expect("own read");

    assert_eq!(edit.code(), 403);
    assert_eq!(read.code(), 403);
    assert_eq!(blog["title"], "Title mine-only");
}

#[tokio::test]
async fn submitting_a_deleted_blog_is_404() {
    let (world, _blog) = World::serving().await;
    let id = world.draft("author", "short-lived", &["x"]).await;
    world
        .call(Some("author"), "blog.author.delete", json!({"id": id}))
        .await
        .expect("delete");

    let err = world
        .call(Some("author"), "blog.author.submit", json!({"id": id}))
        .await
        .unwrap_err();

    assert_eq!(err.code(), 404);
}

#[tokio::test]
async fn roles_are_enforced_and_admin_passes() {
    let (world, _blog) = World::serving().await;

    let learner = world
        .call(Some("learner"), "blog.author.create", json!({}))
        .await
        .unwrap_err();
    let author_as_editor = world
        .call(
            Some("author"),
            "blog.editor.submitted",
            json!({"page": 1, "limit": 5}),
        )
        .await
        .unwrap_err();
    let anonymous = world
        .call(None, "blog.author.drafts", json!({"page": 1, "limit": 5}))
        .await
        .unwrap_err();
    let admin = world
        .call(
            Some("admin"),
            "blog.editor.submitted",
            json!({"page": 1, "limit": 5}),
        )
        .await;

    assert_eq!(learner.code(), 403);
    assert_eq!(author_as_editor.code(), 403);
    assert_eq!(anonymous.code(), 401);
    assert!(admin.is_ok(), "{admin:?}");
}

#[tokio::test]
async fn withdrawn_blog_leaves_the_review_queue() {
    let (world, _blog) = World::serving().await;
    let id = world.draft("author", "second-thoughts", &["x"]).await;
    world
        .call(Some("author"), "blog.author.submit", json!({"id": id}))
        .await
        .expect("submit");

    world
        .call(Some("author"), "blog.author.withdraw", json!({"id": id}))
        .await
        .expect("withdraw");
    let queue = world
        .call(
            Some("editor"),
            "blog.editor.submitted",
            json!({"page": 1, "limit": 10}),
        )
        .await
        .expect("queue");
    let drafts = world
        .call(
            Some("author"),
            "blog.author.drafts",
            json!({"page": 1, "limit": 10}),
        )
        .await
        .expect("drafts");

    assert_eq!(queue, json!([]));
    assert_eq!(drafts[0]["_id"], id.as_str());
}

#[tokio::test]
async fn taken_slug_is_409_even_when_two_creates_race() {
    let (world, _blog) = World::serving().await;
    let body = json!({"title": "Same", "description": "Same slug", "draftText": "", "slug": "one-slug", "tags": ["x"]});

    let (a, b) = tokio::join!(
        world.call(Some("author"), "blog.author.create", body.clone()),
        world.call(Some("other-author"), "blog.author.create", body.clone())
    );

    let results = [a, b];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let err = results
        .into_iter()
        .find_map(Result::err)
        .expect("one failed");
    assert_eq!(err.code(), 409);
    assert!(err.to_string().contains("one-slug"), "{err}");
}
