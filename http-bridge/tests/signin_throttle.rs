//! Sign-in throttling over HTTP: the bridge tells auth the TCP peer's address, so wrong passwords
//! from one client earn 429 with `Retry-After`, and a client cannot pick its own address.
//!
//! Needs the auth binary built (`cargo build -p auth`); it says so rather than skip.

mod common;

use common::platform::{ADMIN_EMAIL, functions_env};
use common::{KEY, Setup};
use harness::Process;
use http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn wrong_passwords_over_http_earn_429_by_client_address() {
    let setup = Setup::start(|_| {}).await;
    let _auth: Vec<Process> = functions_env(KEY)
        .into_iter()
        .filter(|(name, _)| *name == "auth")
        .map(|(name, mut env)| {
            env.push(("SIGNIN_ADDR_LIMIT", "3".into()));
            env.push(("SIGNIN_WINDOW_SECS", "60".into()));
            setup.function(name, name, &env)
        })
        .collect();
    setup.wait_for_route("/auth/signin/basic").await;
    let url = format!("http://{}/auth/signin/basic", setup.addr());
    let signin = |email: &str, spoofed: &'static str| {
        let body = json!({"email": email, "password": "wrong password"}).to_string();
        let (http, url) = (setup.http.clone(), url.clone());
        async move {
            let headers = [
                ("x-api-key", KEY),
                ("content-type", "application/json"),
                // A client naming its own address must not get a fresh bucket per request.
                ("x-client-addr", spoofed),
            ];
            http.send(Method::POST, &url, body, &headers).await
        }
    };
    for (n, spoofed) in ["10.0.0.1", "10.0.0.2"].into_iter().enumerate() {
        let reply = signin(&format!("nobody{n}@example.com"), spoofed).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.json());
    }
    let reply = signin(ADMIN_EMAIL, "10.0.0.3").await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        reply.json()
    );
    assert_eq!(reply.headers["retry-after"], "60");
    // The lock is on the peer's address (127.0.0.1), not on requests that name no address.
    let direct = setup
        .world
        .call(
            "auth.signin.basic",
            json!({"email": ADMIN_EMAIL, "password": "wrong password"}),
        )
        .await;
    assert!(
        matches!(direct, Err(ref err) if err.code() == 401),
        "{direct:?}"
    );
}
