//! The platform end to end over HTTP: the real auth and blog binaries behind the bridge.
//!
//! `cargo test --workspace` (what `scripts/dev test` runs) builds those binaries first; run alone,
//! this test says to build them rather than skip.

mod common;

use std::process::{Command, Stdio};

use common::{KEY, Setup, binary};
use harness::Process;
use http::{Method, StatusCode};
use serde_json::{Value, json};

fn function(name: &str, setup: &Setup, env: &[(&str, String)]) -> Process {
    let mut command = Command::new(binary(name));
    command
        .env("NATS_URL", setup.nats.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    Process::spawn(name, &mut command)
}

async fn send(
    setup: &Setup,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("x-api-key", KEY), ("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer));
    }
    setup
        .send(method, path, Some(&body.to_string()), &headers)
        .await
}

#[tokio::test]
async fn signup_to_published_blog_over_http() {
    let setup = Setup::start(|_| {}).await;
    let harness::KeyPair { private, public } = harness::rsa_key_pair("flow_keys");
    let prefix = harness::unique_name("flow");
    let _auth = function(
        "auth",
        &setup,
        &[
            ("DATABASE_URL", harness::fresh_postgres_database()),
            ("REDIS_URL", harness::redis_url()),
            ("REDIS_PREFIX", format!("{prefix}:auth:")),
            ("JWT_PRIVATE_KEY_PATH", private.display().to_string()),
            ("JWT_PUBLIC_KEY_PATH", public.display().to_string()),
            ("SEED_API_KEY", KEY.to_owned()),
            ("SEED_ADMIN_EMAIL", "admin@example.com".to_owned()),
            ("SEED_ADMIN_PASSWORD", "admin-password".to_owned()),
        ],
    );
    let _blog = function(
        "blog",
        &setup,
        &[
            ("MONGODB_URL", harness::mongodb_url()),
            ("MONGODB_DB", prefix.clone()),
            ("REDIS_URL", harness::redis_url()),
            ("REDIS_PREFIX", format!("{prefix}:blog:")),
            // Blog's guard checks every token's signature with auth's public key.
            ("JWT_PUBLIC_KEY_PATH", public.display().to_string()),
        ],
    );
    setup.wait_for_route("/blog/editor/publish/id/:id").await;
    setup.wait_for_route("/auth/signup/basic").await;

    let (status, signed_up) = send(
        &setup,
        Method::POST,
        "/auth/signup/basic",
        None,
        json!({"email": "ada@example.com", "password": "secret-pass", "name": "Ada"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed_up}");
    assert_eq!(signed_up["code"], "10000");
    let user_id = signed_up["data"]["user"]["id"]
        .as_str()
        .expect("user id")
        .to_owned();
    let (status, duplicate) = send(
        &setup,
        Method::POST,
        "/auth/signup/basic",
        None,
        json!({"email": "ada@example.com", "password": "secret-pass", "name": "Ada"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{duplicate}");

    let (_, admin) = send(
        &setup,
        Method::POST,
        "/auth/signin/basic",
        None,
        json!({"email": "admin@example.com", "password": "admin-password"}),
    )
    .await;
    let admin_token = admin["data"]["tokens"]["accessToken"]
        .as_str()
        .expect("admin token")
        .to_owned();
    let (status, roles) = send(
        &setup,
        Method::PUT,
        &format!("/auth/admin/roles/id/{user_id}"),
        Some(&admin_token),
        json!({"roles": ["AUTHOR", "EDITOR"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{roles}");

    let (status, signed_in) = send(
        &setup,
        Method::POST,
        "/auth/signin/basic",
        None,
        json!({"email": "ada@example.com", "password": "secret-pass"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed_in}");
    let token = signed_in["data"]["tokens"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();

    let (status, anonymous) = send(&setup, Method::POST, "/blog/author", None, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{anonymous}");
    assert_eq!(anonymous["code"], "10001");

    let draft = json!({"title": "Queue groups", "description": "Scaling by starting replicas", "draftText": "Start another one.", "slug": "queue-groups", "tags": ["nats"]});
    let (status, created) = send(&setup, Method::POST, "/blog/author", Some(&token), draft).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["data"]["_id"].as_str().expect("blog id").to_owned();
    let (status, _) = send(
        &setup,
        Method::PUT,
        &format!("/blog/author/submit/id/{id}"),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, published) = send(
        &setup,
        Method::PUT,
        &format!("/blog/editor/publish/id/{id}"),
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{published}");

    let (status, public) = send(
        &setup,
        Method::GET,
        &format!("/blog/id/{id}"),
        None,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{public}");
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

    let (status, _) = send(
        &setup,
        Method::DELETE,
        "/auth/signout",
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(
        &setup,
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
