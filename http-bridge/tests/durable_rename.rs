//! An author renamed while every blog replica is down: the rename waits in auth's event stream
//! (`AUTH_EVENTS`) for blog's durable consumer, so their blogs show the new name once blog is back.
//! Before durable events, a replica that was down when `auth.events.user.updated` went out never
//! applied it, and the old name stayed for good.

mod common;

use std::time::{Duration, Instant};

use common::platform::functions_env;
use common::{KEY, Setup};
use http::Method;
use serde_json::json;

#[tokio::test]
async fn a_rename_while_blog_is_down_reaches_every_blog_once_blog_returns() {
    let setup = Setup::start(|_| {}).await;
    let [(auth, auth_env), (blog_name, blog_env)] = functions_env(KEY);
    let _auth = setup.function(auth, auth, &auth_env);
    let mut blog = setup.function(blog_name, blog_name, &blog_env);
    setup.wait_for_functions().await;
    setup.wait_for_route("/auth/profile").await;
    let api = setup.api();
    let (_, token) = api
        .new_author("ada@example.com", "secret-pass", "Ada")
        .await;
    let mut ids = Vec::new();
    for slug in ["durable-events", "dead-letters"] {
        let draft = json!({"title": "On events", "description": "Durable ones", "draftText": "Kept.", "slug": slug, "tags": ["nats"]});
        ids.push(api.publish(&token, draft).await);
    }

    // Every blog replica goes; auth renames the author meanwhile.
    blog.kill();
    let renamed = api
        .ok(
            Method::PUT,
            "/auth/profile",
            Some(&token),
            json!({"name": "Ada Lovelace"}),
        )
        .await;
    assert_eq!(renamed["name"], "Ada Lovelace");
    // A blog started only now never saw the event go out: it has to come from the stream.
    let _blog = setup.function(blog_name, blog_name, &blog_env);

    let mut back = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut names = Vec::new();
        for id in &ids {
            let (status, reply) = api
                .call(Method::GET, &format!("/blog/id/{id}"), None, json!({}))
                .await;
            if status.is_success() {
                back.get_or_insert_with(Instant::now);
                names.push(reply["data"]["author"]["name"].clone());
            }
        }
        if names.len() == ids.len() && names.iter().all(|n| n == "Ada Lovelace") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rename never reached the blogs: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = back.expect("blog answered").elapsed();
    println!("every blog showed the new name {after:?} after blog first answered again");
}
