//! Revocation holds at once everywhere: with two auth and two blog replicas behind the bridge, the
//! very next request after a signout's 200 is refused on every path (blog and auth over HTTP, auth
//! over NATS), whichever replica serves it and whatever it had cached, under concurrent load: the
//! revocation window is zero requests, not a time.
//!
//! A revoked API key is likewise refused by the bridge on the next request, its cache notwithstanding.
//!
//! Needs the auth and blog binaries built (`cargo build -p auth -p blog`); it says so rather than skip.

mod common;

use common::platform::{ADMIN_EMAIL, ADMIN_PASSWORD, Api, access, functions_env};
use common::{KEY, Setup};
use harness::Process;
use http::{Method, StatusCode};
use serde_json::json;

/// Rounds of sign in, warm every cache, sign out, try again.
const ROUNDS: usize = 10;
/// Concurrent clients of the background load.
const LOAD_CLIENTS: usize = 8;

#[tokio::test]
async fn the_next_request_after_signout_is_refused_on_every_replica_and_path() {
    let setup = Setup::start(|_| {}).await;
    let _functions: Vec<Process> = functions_env(KEY)
        .iter()
        .flat_map(|(name, env)| {
            [1, 2].map(|replica| setup.function(&format!("{name}-{replica}"), name, env))
        })
        .collect();
    setup.wait_for_functions().await;
    let api = setup.api();
    let (_, _) = api
        .new_author("rev@example.com", "secret-pass", "Rev")
        .await;
    // Background traffic from another user keeps every replica busy while revocations happen.
    let (_, busy_token) = api
        .new_author("busy@example.com", "secret-pass", "Busy")
        .await;
    let load: Vec<_> = (0..LOAD_CLIENTS)
        .map(|_| {
            let (api, token) = (setup.api(), busy_token.clone());
            tokio::spawn(async move {
                loop {
                    api.ok(
                        Method::GET,
                        "/blog/author/drafts?page=1&limit=5",
                        Some(&token),
                        json!({}),
                    )
                    .await;
                }
            })
        })
        .collect();
    let credentials = json!({"email": "rev@example.com", "password": "secret-pass"});

    for round in 0..ROUNDS {
        let signed_in = api
            .ok(
                Method::POST,
                "/auth/signin/basic",
                None,
                credentials.clone(),
            )
            .await;
        let token = access(&signed_in);
        // Queue groups spread these over both replicas of each function, so each caches the caller.
        for _ in 0..8 {
            api.ok(
                Method::GET,
                "/blog/author/drafts?page=1&limit=5",
                Some(&token),
                json!({}),
            )
            .await;
            api.ok(Method::GET, "/auth/profile/mine", Some(&token), json!({}))
                .await;
        }
        let (status, reply) = api
            .call(Method::DELETE, "/auth/signout", Some(&token), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{reply}");

        let (status, reply) = api
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
            "round {round}, blog: {reply}"
        );
        let (status, reply) = api
            .call(Method::GET, "/auth/profile/mine", Some(&token), json!({}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "round {round}, auth: {reply}"
        );
        let direct = setup
            .world
            .call("auth.token.verify", json!({"accessToken": token}))
            .await;
        assert!(
            matches!(direct, Err(ref err) if err.code() == 401),
            "round {round}, auth.token.verify over NATS: {direct:?}"
        );
    }
    for task in &load {
        assert!(
            !task.is_finished(),
            "the background traffic kept succeeding"
        );
        task.abort();
    }
}

#[tokio::test]
async fn a_revoked_api_key_is_refused_by_the_bridge_on_the_next_request() {
    let setup = Setup::start(|config| config.apikey_cache_secs = 300).await;
    let _functions: Vec<Process> = functions_env(KEY)
        .iter()
        .filter(|(name, _)| *name == "auth")
        .map(|(name, env)| setup.function(name, name, env))
        .collect();
    setup.wait_for_route("/auth/admin/apikey/id/:id").await;
    let admin = setup.api();
    let admin_token = access(
        &admin
            .ok(
                Method::POST,
                "/auth/signin/basic",
                None,
                json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            )
            .await,
    );
    let created = admin
        .ok(
            Method::POST,
            "/auth/admin/apikey",
            Some(&admin_token),
            json!({"comment": "to be revoked"}),
        )
        .await;
    let holder = Api {
        key: String::leak(created["key"].as_str().expect("key").to_owned()),
        ..setup.api()
    };
    // Verified once, the bridge trusts the key for its cache time (300 s here).
    holder
        .ok(Method::GET, "/auth/verify/apikey", None, json!({}))
        .await;
    let revoke = format!("/auth/admin/apikey/id/{}", created["id"].as_str().unwrap());
    admin
        .ok(Method::DELETE, &revoke, Some(&admin_token), json!({}))
        .await;
    let (status, reply) = holder
        .call(Method::GET, "/auth/verify/apikey", None, json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "revoked key: {reply}");
}
