//! Bad input is a 400 that says what is wrong, and changes nothing.

mod common;

use common::World;
use serde_json::json;

#[tokio::test]
async fn invalid_object_id_is_400_not_500() {
    let (world, _blog) = World::serving().await;

    let err = world
        .call(None, "blog.get.id", json!({"id": "not-an-id"}))
        .await
        .unwrap_err();

    assert_eq!(err.code(), 400);
    assert!(err.to_string().contains("not-an-id"), "{err}");
}

#[tokio::test]
async fn query_operator_injection_is_rejected_by_the_typed_input() {
    let (world, _blog) = World::serving().await;

    let object = world
        .call(None, "blog.get.slug", json!({"slug": {"$ne": ""}}))
        .await
        .unwrap_err();
    let extra_key = world
        .call(None, "blog.get.slug", json!({"slug": "x", "$where": "1"}))
        .await
        .unwrap_err();

    assert_eq!(object.code(), 400);
    assert_eq!(extra_key.code(), 400);
}

#[tokio::test]
async fn create_validation_names_the_field() {
    let (world, _blog) = World::serving().await;
    let base = json!({"title": "Fine title", "description": "Fine", "draftText": "", "slug": "fine-slug", "tags": ["x"]});
    let with = |field: &str, value: serde_json::Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };

    for (body, field) in [
        (with("title", json!("ab")), "title"),
        (with("slug", json!("Not Valid")), "slug"),
        (with("tags", json!([])), "tags"),
        (with("description", json!("x".repeat(2001))), "description"),
        // NUL and other control characters, which used to be stored as they came.
        (with("title", json!("Fine\u{0}title")), "title"),
        (with("draftText", json!("text\u{7}")), "draftText"),
        (with("tags", json!(["ok", "b\u{0}d"])), "tag"),
        (
            with(
                "tags",
                json!((0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()),
            ),
            "tags",
        ),
        (with("imgUrl", json!("javascript:alert(1)")), "imgUrl"),
        (
            with(
                "imgUrl",
                json!(format!("https://x.io/{}", "a".repeat(900_000))),
            ),
            "imgUrl",
        ),
    ] {
        let err = world
            .call(Some("author"), "blog.author.create", body)
            .await
            .unwrap_err();
        assert_eq!(err.code(), 400, "{field}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let drafts = world
        .call(
            Some("author"),
            "blog.author.drafts",
            json!({"page": 1, "limit": 10}),
        )
        .await
        .expect("drafts");
    assert_eq!(drafts, json!([]));
}

#[tokio::test]
async fn pagination_edges() {
    let (world, _blog) = World::serving().await;
    world.published("only-one", &["x"]).await;

    let past_end = world
        .call(None, "blog.list.latest", json!({"page": 2, "limit": 10}))
        .await
        .expect("page 2");
    let zero = world
        .call(None, "blog.list.latest", json!({"page": 1, "limit": 0}))
        .await
        .unwrap_err();
    let too_many = world
        .call(None, "blog.list.latest", json!({"page": 1, "limit": 101}))
        .await
        .unwrap_err();
    let no_page = world
        .call(None, "blog.list.latest", json!({"limit": 10}))
        .await
        .unwrap_err();
    let page_zero = world
        .call(None, "blog.list.latest", json!({"page": 0, "limit": 10}))
        .await
        .unwrap_err();

    assert_eq!(past_end, json!([]));
    assert!(
        zero.to_string().contains("limit") && zero.code() == 400,
        "{zero}"
    );
    assert_eq!(too_many.code(), 400);
    assert!(
        no_page.to_string().contains("page") && no_page.code() == 400,
        "{no_page}"
    );
    assert_eq!(page_zero.code(), 400);
    // The skip of this page fits a u64 but not MongoDB's i64: a 400, not a driver error.
    for (caller, subject) in [
        (None, "blog.list.latest"),
        (Some("editor"), "blog.editor.submitted"),
        (Some("author"), "blog.author.drafts"),
    ] {
        let huge = world
            .call(
                caller,
                subject,
                json!({"page": 184_467_440_737_095_516u64, "limit": 100}),
            )
            .await
            .unwrap_err();
        assert_eq!(
            (huge.code(), huge.to_string()),
            (400, "page is too large".to_owned()),
            "{subject}"
        );
    }
}
