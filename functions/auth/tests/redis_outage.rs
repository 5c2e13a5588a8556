//! A revocation survives a Redis outage: Redis is unreachable while a token is signed out, then
//! comes back with its data (the cached caller included), and the token stays refused.

mod common;

use common::{Auth, access, settings};
use harness::{PrivateRedis, assert_error};
use serde_json::json;

#[tokio::test]
async fn a_signout_redis_missed_still_holds_when_redis_returns_with_its_data() {
    let mut redis = PrivateRedis::start();
    let mut settings = settings();
    settings.redis_url = redis.url();
    let auth = Auth::start_with(settings).await;
    let reply = auth.signup("outage@example.com").await;
    let token = access(&reply);
    auth.verify(&token).await.expect("verified and cached");
    let cached = format!("{}token:*", auth.settings.redis_prefix);
    assert_eq!(
        redis.cli(&["--scan", "--pattern", &cached]).lines().count(),
        1,
        "the caller is cached in Redis"
    );

    redis.kill();
    let out = auth
        .call_as(&token, "auth.signout", json!({}))
        .await
        .expect("signout succeeds with Redis down: PostgreSQL is the truth");
    assert_eq!(out, json!({"message": "signed out"}));
    assert_error(auth.verify(&token).await, 401, "revoked");

    redis.restart();
    assert_eq!(
        redis.cli(&["--scan", "--pattern", &cached]).lines().count(),
        1,
        "Redis came back with the stale entry"
    );
    for _ in 0..3 {
        assert_error(auth.verify(&token).await, 401, "revoked");
    }
    // Once Redis took the missed revocation, the cache is trusted (and written) again.
    let fresh = access(&auth.signup("after@example.com").await);
    auth.verify(&fresh).await.expect("a live token verifies");
    assert_eq!(
        redis.cli(&["--scan", "--pattern", &cached]).lines().count(),
        1,
        "the stale entry is gone and the live one cached"
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn the_revoking_replica_hands_the_missed_revocation_to_redis_for_the_others() {
    let mut redis = PrivateRedis::start();
    let mut settings = settings();
    settings.redis_url = redis.url();
    let mut auth = Auth::start_with(settings).await;
    // One replica signs out; another, with its own state, verifies and trusts Redis.
    auth.replicas.pop().unwrap().shutdown().await.unwrap();
    auth.add_replica(&["auth.signup.basic", "auth.signout"])
        .await;
    auth.add_replica(&["auth.token.verify"]).await;
    let token = access(&auth.signup("two@example.com").await);
    auth.verify(&token).await.expect("verified and cached");
    let cached = format!("{}token:*", auth.settings.redis_prefix);

    redis.kill();
    auth.call_as(&token, "auth.signout", json!({}))
        .await
        .expect("signout succeeds with Redis down");
    redis.restart();
    // Nobody calls the signing-out replica again: it retries on its own.
    let start = std::time::Instant::now();
    while !redis.cli(&["--scan", "--pattern", &cached]).is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the missed revocation never reached Redis"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_error(auth.verify(&token).await, 401, "revoked");
    auth.shutdown().await;
}
