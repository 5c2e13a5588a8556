//! Sign-in throttling: wrong passwords on one account or from one client address earn 429 with a
//! retry-after before the password is even checked, a success resets the account, and Redis being
//! down does not open the gate.

mod common;

use std::time::Duration;

use async_nats::HeaderMap;
use common::{Auth, PASSWORD, settings};
use harness::assert_error;
use runtime::ApiError;
use serde_json::json;

const LIMIT: u32 = 3;

/// Settings allowing [`LIMIT`] failures per account (`per_account`) or per address in 2 s.
fn throttled(per_account: bool, redis_url: Option<&str>) -> auth::Settings {
    let mut settings = settings();
    (settings.signin_account_limit, settings.signin_addr_limit) = if per_account {
        (LIMIT, 1_000)
    } else {
        (1_000, LIMIT)
    };
    settings.signin_window_secs = 2;
    settings.signin_max_lockout_secs = 8;
    if let Some(url) = redis_url {
        settings.redis_url = url.into();
    }
    settings
}

async fn signin_from(
    auth: &Auth,
    addr: &str,
    email: &str,
    password: &str,
) -> Result<serde_json::Value, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(runtime::wire::CLIENT_ADDR, addr);
    auth.call_with(
        "auth.signin.basic",
        headers,
        json!({"email": email, "password": password}),
    )
    .await
}

fn retry_after(result: Result<serde_json::Value, ApiError>) -> u64 {
    match result {
        Err(err @ ApiError::TooManyRequests { .. }) => {
            assert_eq!(err.code(), 429);
            err.retry_after_secs().expect("429 carries Retry-After")
        }
        other => panic!("expected 429, got {other:?}"),
    }
}

/// Fails `LIMIT - 1` times with 401, then the failure reaching the limit is 429.
async fn fail_until_locked(auth: &Auth, addr: &str, email: &str) -> u64 {
    for _ in 1..LIMIT {
        assert_error(
            signin_from(auth, addr, email, "wrong password").await,
            401,
            "wrong password",
        );
    }
    retry_after(signin_from(auth, addr, email, "wrong password").await)
}

#[tokio::test]
async fn wrong_passwords_on_one_account_lock_it_out_and_a_success_resets_the_count() {
    let auth = Auth::start_with(throttled(true, None)).await;
    auth.signup("target@example.com").await;
    auth.signup("bystander@example.com").await;
    assert_eq!(
        fail_until_locked(&auth, "203.0.113.7", "target@example.com").await,
        2,
        "the first lockout lasts one window"
    );
    // Locked: the right password is refused too, from any address.
    let wait =
        retry_after(signin_from(&auth, "198.51.100.9", "target@example.com", PASSWORD).await);
    assert!((1..=2).contains(&wait), "retry after {wait}");
    // Another account is unaffected.
    signin_from(&auth, "203.0.113.7", "bystander@example.com", PASSWORD)
        .await
        .expect("another account signs in");

    tokio::time::sleep(Duration::from_millis(2_200)).await;
    signin_from(&auth, "203.0.113.7", "target@example.com", PASSWORD)
        .await
        .expect("the lockout ends");
    // The success forgave the failures and the strike: the limit starts afresh, one window long.
    assert_eq!(
        fail_until_locked(&auth, "203.0.113.7", "target@example.com").await,
        2
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn repeated_lockouts_of_an_account_double() {
    let auth = Auth::start_with(throttled(true, None)).await;
    auth.signup("again@example.com").await;
    assert_eq!(
        fail_until_locked(&auth, "203.0.113.8", "again@example.com").await,
        2
    );
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(
        fail_until_locked(&auth, "203.0.113.8", "again@example.com").await,
        4
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn failures_over_many_accounts_from_one_address_lock_the_address_out() {
    let auth = Auth::start_with(throttled(false, None)).await;
    auth.signup("real@example.com").await;
    for n in 1..LIMIT {
        assert_error(
            signin_from(&auth, "203.0.113.9", &format!("nobody{n}@example.com"), "x").await,
            404,
            "nobody",
        );
    }
    retry_after(signin_from(&auth, "203.0.113.9", "real@example.com", "wrong").await);
    retry_after(signin_from(&auth, "203.0.113.9", "real@example.com", PASSWORD).await);
    signin_from(&auth, "198.51.100.10", "real@example.com", PASSWORD)
        .await
        .expect("another address signs in");
    auth.shutdown().await;
}

#[tokio::test]
async fn with_redis_down_failures_are_still_throttled_in_process() {
    let auth = Auth::start_with(throttled(true, Some("redis://127.0.0.1:1"))).await;
    auth.signup("offline@example.com").await;
    assert_eq!(
        fail_until_locked(&auth, "203.0.113.10", "offline@example.com").await,
        2
    );
    retry_after(signin_from(&auth, "203.0.113.10", "offline@example.com", PASSWORD).await);
    auth.shutdown().await;
}
