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
