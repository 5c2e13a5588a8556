//! The guard: bearer tokens resolved through `auth.token.verify`, roles enforced, revocations honoured.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{demo, demo_bus};
use contracts::auth::{
    TOKEN_REVOKED as TOKEN_REVOKED_SUBJECT, TOKEN_VERIFY as TOKEN_VERIFY_SUBJECT, TokenRevoked,
    TokenVerifyRequest,
};
use contracts::{Caller, CallerUser};
use futures::StreamExt;
use harness::{World, assert_error};
use runtime::ApiError;

fn caller(token: &str) -> Option<Caller> {
    let roles: &[&str] = match token {
        "author-token" => &["LEARNER", "AUTHOR"],
        "learner-token" => &["LEARNER"],
        "admin-token" => &["ADMIN"],
        _ => return None,
    };
    Some(Caller {
        user: CallerUser {
            id: format!("user-{token}"),
            name: token.trim_end_matches("-token").to_owned(),
            email: None,
            profile_pic_url: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        },
        token_id: format!("tid-{token}"),
        expires_at: None,
    })
}

/// A stand-in for the auth function's `auth.token.verify`; counts calls, forgets revoked tokens.
async fn stand_in_auth(bus: &World) -> Arc<AtomicUsize> {
    let revoked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut revocations = bus
        .client
        .subscribe(TOKEN_REVOKED_SUBJECT)
        .await
        .expect("subscribe");
    let forget = revoked.clone();
    tokio::spawn(async move {
        while let Some(event) = revocations.next().await {
            let event: TokenRevoked = serde_json::from_slice(&event.payload).expect("event");
            forget.lock().expect("lock").extend(event.token_id);
        }
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    bus.stand_in(TOKEN_VERIFY_SUBJECT, move |request: TokenVerifyRequest| {
        counter.fetch_add(1, Ordering::SeqCst);
        let revoked = revoked.lock().expect("lock");
        caller(&request.access_token)
            .filter(|c| !revoked.contains(&c.token_id))
            .ok_or_else(|| ApiError::Unauthorized("unknown token".into()))
    })
    .await;
    calls
}

#[tokio::test]
async fn missing_token_is_401() {
    let bus = World::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.serve(demo(), &[]).await;

    let err = bus.call("demo.whoami", "").await;

    assert_error(err, 401, "bearer token");
}

#[tokio::test]
async fn unknown_token_is_401() {
    let bus = World::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.serve(demo(), &[]).await;

    let err = bus.call_as("forged", "demo.whoami", "").await.unwrap_err();

    assert_eq!(err.code(), 401);
}

#[tokio::test]
async fn caller_without_the_role_is_403() {
    let bus = World::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.serve(demo(), &[]).await;

    let err = bus.call_as("learner-token", "demo.whoami", "").await;

    assert_error(err, 403, "AUTHOR");
}

#[tokio::test]
async fn caller_with_the_role_reaches_the_handler_as_itself() {
    let bus = World::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.serve(demo(), &[]).await;

    let me = bus
        .call_as("author-token", "demo.whoami", "")
        .await
        .expect("author passes");

    assert_eq!(me["user"]["id"], "user-author-token");
    assert_eq!(me["tokenId"], "tid-author-token");
}

#[tokio::test]
async fn admin_passes_every_role_check() {
    let bus = World::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.serve(demo(), &[]).await;

    let me = bus
        .call_as("admin-token", "demo.whoami", "")
        .await
        .expect("admin passes");

    assert_eq!(me["user"]["roles"], serde_json::json!(["ADMIN"]));
}

#[tokio::test]
async fn optional_caller_is_resolved_when_a_token_is_sent() {
    let bus = World::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.serve(demo(), &[]).await;

    let anonymous = bus.call("demo.greet", "").await.expect("public");
    let signed_in = bus
        .call_as("learner-token", "demo.greet", "")
        .await
        .expect("signed in");

    assert_eq!(anonymous, "hello stranger");
    assert_eq!(signed_in, "hello learner");
}

#[tokio::test]
async fn auth_function_down_is_503_not_a_hang() {
    let (bus, _replica) = demo_bus().await;

    let started = std::time::Instant::now();
    let err = bus
        .call_as("author-token", "demo.whoami", "")
        .await
        .unwrap_err();

    assert_eq!(err.code(), 503, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[tokio::test]
async fn resolved_callers_are_cached_until_revoked_on_every_replica() {
    let bus = World::start().await;
    let calls = stand_in_auth(&bus).await;
    let first = bus.serve(demo(), &[]).await;
    let second = bus.serve(demo(), &[]).await;

    // Enough requests that both replicas have resolved and cached the caller.
    for _ in 0..20 {
        bus.call_as("author-token", "demo.whoami", "")
            .await
            .expect("author passes");
    }
    let verified = calls.load(Ordering::SeqCst);
    assert!(
        verified <= 2,
        "the cache answered repeat requests ({verified} verifications)"
    );

    bus.client
        .publish(
            TOKEN_REVOKED_SUBJECT,
            serde_json::to_vec(&TokenRevoked {
                token_id: Some("tid-author-token".into()),
                user_id: None,
            })
            .expect("json")
            .into(),
        )
        .await
        .expect("publish revocation");
    bus.client.flush().await.expect("flush");

    for replica in [&first, &second] {
        let subject = format!("$SRV.PING.demo.{}", replica.id());
        bus.client
            .request(subject, "".into())
            .await
            .expect("replica alive");
    }
    for _ in 0..10 {
        let err = bus
            .call_as("author-token", "demo.whoami", "")
            .await
            .unwrap_err();
        assert_eq!(err.code(), 401, "revoked token rejected by every replica");
    }
}
