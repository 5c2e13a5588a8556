//! The guard: bearer tokens resolved through `auth.token.verify`, roles enforced, revocations honoured.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Bus;
use contracts::auth::{TOKEN_REVOKED as TOKEN_REVOKED_SUBJECT, TokenRevoked, TokenVerifyRequest};
use contracts::{Caller, CallerUser};
use futures::StreamExt;
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
async fn stand_in_auth(bus: &Bus) -> Arc<AtomicUsize> {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut requests = bus
        .client
        .subscribe("auth.token.verify")
        .await
        .expect("subscribe");
    let mut revocations = bus
        .client
        .subscribe(TOKEN_REVOKED_SUBJECT)
        .await
        .expect("subscribe");
    let client = bus.client.clone();
    let counter = calls.clone();
    tokio::spawn(async move {
        let mut revoked: Vec<String> = Vec::new();
        loop {
            tokio::select! {
                Some(event) = revocations.next() => {
                    let event: TokenRevoked = serde_json::from_slice(&event.payload).expect("event");
                    revoked.extend(event.token_id);
                }
                Some(message) = requests.next() => {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let request: TokenVerifyRequest = serde_json::from_slice(&message.payload).expect("verify request");
                    let found = caller(&request.access_token).filter(|c| !revoked.contains(&c.token_id));
                    let reply_to = message.reply.expect("request has a reply subject");
                    match found {
                        Some(caller) => client.publish(reply_to, serde_json::to_vec(&caller).expect("json").into()).await,
                        None => {
                            let (headers, body) = runtime::wire::encode_error(&ApiError::Unauthorized("unknown token".into()));
                            client.publish_with_headers(reply_to, headers, body).await
                        }
                    }
                    .expect("reply");
                }
                else => break,
            }
        }
    });
    bus.client.flush().await.expect("flush");
    calls
}

#[tokio::test]
async fn missing_token_is_401() {
    let bus = Bus::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.replica(&[]).await;

    let err = bus.call("demo.whoami", "").await.unwrap_err();

    assert_eq!(err.code(), 401);
    assert!(err.to_string().contains("bearer token"), "{err}");
}

#[tokio::test]
async fn unknown_token_is_401() {
    let bus = Bus::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.replica(&[]).await;

    let err = bus.call_as("forged", "demo.whoami", "").await.unwrap_err();

    assert_eq!(err.code(), 401);
}

#[tokio::test]
async fn caller_without_the_role_is_403() {
    let bus = Bus::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.replica(&[]).await;

    let err = bus
        .call_as("learner-token", "demo.whoami", "")
        .await
        .unwrap_err();

    assert_eq!(err.code(), 403);
    assert!(err.to_string().contains("AUTHOR"), "{err}");
}

#[tokio::test]
async fn caller_with_the_role_reaches_the_handler_as_itself() {
    let bus = Bus::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.replica(&[]).await;

    let me = bus
        .call_as("author-token", "demo.whoami", "")
        .await
        .expect("author passes");

    assert_eq!(me["user"]["id"], "user-author-token");
    assert_eq!(me["tokenId"], "tid-author-token");
}

#[tokio::test]
async fn admin_passes_every_role_check() {
    let bus = Bus::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.replica(&[]).await;

    let me = bus
        .call_as("admin-token", "demo.whoami", "")
        .await
        .expect("admin passes");

    assert_eq!(me["user"]["roles"], serde_json::json!(["ADMIN"]));
}

#[tokio::test]
async fn optional_caller_is_resolved_when_a_token_is_sent() {
    let bus = Bus::start().await;
    let _auth = stand_in_auth(&bus).await;
    let _replica = bus.replica(&[]).await;

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
    let bus = Bus::start().await;
    let _replica = bus.replica(&[]).await;

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
    let bus = Bus::start().await;
    let calls = stand_in_auth(&bus).await;
    let first = bus.replica(&[]).await;
    let second = bus.replica(&[]).await;

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
