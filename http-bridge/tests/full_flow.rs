//! The platform end to end over HTTP: the real auth and blog binaries behind the bridge.
//!
//! `cargo test --workspace` (what `scripts/dev test` runs) builds those binaries first; run alone,
//! this test says to build them rather than skip.

mod common;

use common::platform::functions_env;
use common::{KEY, Setup};
use harness::Process;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn signup_to_published_blog_over_http() {
    let setup = Setup::start(|_| {}).await;
    let _functions: Vec<Process> = functions_env(KEY)
        .iter()
        .map(|(name, env)| setup.function(name, name, env))
        .collect();
    setup.wait_for_functions().await;
    let api = setup.api();

    let (_, token) = api
        .new_author("ada@example.com", "secret-pass", "Ada")
        .await;
    let (status, duplicate) = api
        .call(
            Method::POST,
            "/auth/signup/basic",
            None,
            json!({"email": "ada@example.com", "password": "secret-pass", "name": "Ada"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{duplicate}");
    let (status, anonymous) = api
        .call(Method::POST, "/blog/author", None, json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{anonymous}");
    assert_eq!(anonymous["code"], "10001");

    let draft = json!({"title": "Queue groups", "description": "Scaling by starting replicas", "draftText": "Start another one.", "slug": "queue-groups", "tags": ["nats"]});
    let id = api.publish(&token, draft).await;

    let (status, public) = api
        .call(Method::GET, &format!("/blog/id/{id}"), None, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{public}");
    assert_eq!(public["code"], "10000");
    assert_eq!(public["data"]["text"], "Start another one.");
    assert_eq!(public["data"]["author"]["name"], "Ada");
    let (status, latest) = setup
        .send(
            Method::GET,
            "/blog/list/latest?page=1&limit=10",
            None,
            &[("x-api-key", KEY)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest["data"][0]["_id"], id.as_str());

    let (status, _) = api
        .call(Method::DELETE, "/auth/signout", Some(&token), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .call(
            Method::GET,
            "/blog/author/drafts?page=1&limit=5",
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "signed-out token rejected by the blog function"
    );
}
