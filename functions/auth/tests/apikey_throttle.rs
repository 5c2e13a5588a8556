//! API-key guess throttling: a burst of wrong keys from one client address earns 429 with a
//! retry-after, other addresses are unaffected, the lockout ends, and Redis being down does not
//! open the gate.

mod common;

use std::time::Duration;

use async_nats::HeaderMap;
use common::{Auth, SEED_API_KEY, settings};
use harness::assert_error;
use runtime::ApiError;
use serde_json::json;

const LIMIT: u32 = 3;

/// Settings allowing [`LIMIT`] wrong guesses per address in a 2-second window.
fn throttled(redis_url: Option<&str>) -> auth::Settings {
    let mut settings = settings();
    settings.apikey_guess_limit = LIMIT;
    settings.apikey_guess_window_secs = 2;
    settings.apikey_guess_max_lockout_secs = 8;
    if let Some(url) = redis_url {
        settings.redis_url = url.into();
    }
    settings
}

async fn verify_from(auth: &Auth, addr: &str, key: &str) -> Result<serde_json::Value, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(runtime::wire::CLIENT_ADDR, addr);
    auth.call_with("auth.apikey.verify", headers, json!({"key": key}))
        .await
}

/// Guesses wrong until the address is locked out; returns the retry-after of the 429.
async fn guess_until_locked(auth: &Auth, addr: &str) -> u64 {
    for n in 1..LIMIT {
        assert_error(
            verify_from(auth, addr, &format!("guess-{n}")).await,
            403,
            "invalid",
        );
    }
    match verify_from(auth, addr, "guess-last").await {
        Err(ApiError::TooManyRequests {
            message,
            retry_after_secs,
        }) => {
            assert!(message.contains("too many"), "message: {message}");
            retry_after_secs
        }
        other => panic!("the guess reaching the limit must be 429, got {other:?}"),
    }
}

#[tokio::test]
async fn a_burst_of_wrong_keys_from_one_address_is_refused_with_429_and_retry_after() {
    let auth = Auth::start_with(throttled(None)).await;
    let retry_after = guess_until_locked(&auth, "203.0.113.7").await;
    assert_eq!(retry_after, 2, "the first lockout lasts one window");

    // Locked out: even the right key is refused, without being checked.
    match verify_from(&auth, "203.0.113.7", SEED_API_KEY).await {
        Err(err @ ApiError::TooManyRequests { .. }) => {
            assert_eq!(err.code(), 429);
            assert!(err.retry_after_secs().is_some_and(|s| (1..=2).contains(&s)));
        }
        other => panic!("a locked-out address must get 429, got {other:?}"),
    }

    // Another address is unaffected.
    verify_from(&auth, "198.51.100.9", SEED_API_KEY)
        .await
        .expect("another address verifies");
    assert_error(
        verify_from(&auth, "198.51.100.9", "wrong").await,
        403,
        "invalid",
    );

    // After the lockout the right key works again.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    verify_from(&auth, "203.0.113.7", SEED_API_KEY)
        .await
        .expect("the valid key works once the lockout ends");
    auth.shutdown().await;
}

#[tokio::test]
async fn a_second_lockout_of_the_same_address_lasts_twice_as_long() {
    let auth = Auth::start_with(throttled(None)).await;
    assert_eq!(guess_until_locked(&auth, "203.0.113.8").await, 2);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(guess_until_locked(&auth, "203.0.113.8").await, 4);
    auth.shutdown().await;
}

#[tokio::test]
async fn requests_without_a_client_address_share_one_unknown_bucket() {
    let auth = Auth::start_with(throttled(None)).await;
    for n in 1..LIMIT {
        assert_error(
            auth.call("auth.apikey.verify", json!({"key": format!("g{n}")}))
                .await,
            403,
            "invalid",
        );
    }
    assert_error(
        auth.call("auth.apikey.verify", json!({"key": "g-last"}))
            .await,
        429,
        "too many",
    );
    verify_from(&auth, "198.51.100.10", SEED_API_KEY)
        .await
        .expect("a named address is not in the unknown bucket");
    auth.shutdown().await;
}

#[tokio::test]
async fn with_redis_down_the_in_process_fallback_still_throttles() {
    // Nothing listens on port 1: every Redis call fails at once.
    let auth = Auth::start_with(throttled(Some("redis://127.0.0.1:1"))).await;
    let retry_after = guess_until_locked(&auth, "203.0.113.9").await;
    assert_eq!(retry_after, 2);
    assert_error(
        verify_from(&auth, "203.0.113.9", SEED_API_KEY).await,
        429,
        "too many",
    );
    verify_from(&auth, "198.51.100.11", SEED_API_KEY)
        .await
        .expect("another address verifies from PostgreSQL");
    auth.shutdown().await;
}
