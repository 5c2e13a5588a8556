//! The guard checks a bearer token's signature itself: even the one NATS user allowed to answer
//! `auth.token.verify` (auth) cannot make an unsigned, foreign or expired token pass, nor lend a
//! real token another user's identity. Runs on the shipped NATS configuration.

use std::time::Duration;

use async_nats::HeaderMap;
use contracts::auth::{TOKEN_VERIFY, TokenVerifyRequest};
use contracts::{Caller, CallerUser};
use harness::NatsServer;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use runtime::ApiError;
use serde_json::json;

/// A token signed with `key`, for `sub`, expiring `ttl` seconds from now (negative: already expired).
fn token(key: &harness::KeyPair, sub: &str, ttl: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": "blog-auth", "aud": "blog", "sub": sub, "iat": now, "exp": now + ttl, "prm": "p"});
    let key = EncodingKey::from_rsa_pem(&key.private_pem()).expect("RSA key");
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).expect("sign")
}

/// Answers every verify request, as a compromised or buggy auth would, with an ADMIN caller `as_user`.
async fn forge_verify_replies(nats: &NatsServer, as_user: &'static str) {
    let forger = nats.connect_as("auth").await;
    harness::stand_in(&forger, TOKEN_VERIFY, move |_: TokenVerifyRequest| {
        Ok(Caller {
            user: CallerUser {
                id: as_user.to_owned(),
                name: "Mallory".into(),
                email: None,
                profile_pic_url: None,
                roles: vec!["ADMIN".into()],
            },
            token_id: "forged".into(),
            expires_at: None,
        })
    })
    .await;
}

async fn create_as(nats: &NatsServer, bearer: &str) -> Result<serde_json::Value, ApiError> {
    let bridge = nats.connect_as("bridge").await;
    let mut headers = HeaderMap::new();
    headers.insert("Authorization", format!("Bearer {bearer}").as_str());
    let slug = harness::unique_name("forged").replace('_', "-");
    let body = json!({"title": "Forged", "description": "A description", "draftText": "text",
        "slug": slug, "tags": ["RUST"]});
    runtime::request(
        &bridge,
        "blog.author.create",
        headers,
        body.to_string().into(),
        Duration::from_secs(10),
    )
    .await
    .map(|reply| serde_json::from_slice(&reply).expect("JSON reply"))
}

/// Blog on the shipped configuration, as user `blog`, checking tokens against `key`.
async fn blog(nats: &NatsServer, key: &harness::KeyPair) -> runtime::Running {
    let mut settings = blog::Settings::local(
        &harness::mongodb_url(),
        &harness::unique_name("blog"),
        &harness::redis_url(),
        &format!("{}:", harness::unique_name("blog")),
    );
    settings.guard.jwt_public_key_path = Some(key.public.clone());
    let config = runtime::Config::with_nats_url(nats.url());
    blog::connected(&settings, config)
        .await
        .expect("blog connects")
        .start(nats.connect_as("blog").await)
        .await
        .expect("blog starts")
}

#[tokio::test]
async fn forged_verify_reply_cannot_make_a_bad_token_pass() {
    let nats = NatsServer::secured();
    let key = harness::rsa_key_pair("forged");
    let other_key = harness::rsa_key_pair("other");
    forge_verify_replies(&nats, "u-mallory").await;
    let _blog = blog(&nats, &key).await;

    for (what, bearer) in [
        ("an unsigned token", "made-up-token".to_owned()),
        (
            "a token signed by another key",
            token(&other_key, "u-mallory", 600),
        ),
        ("an expired token", token(&key, "u-mallory", -60)),
    ] {
        let err = create_as(&nats, &bearer)
            .await
            .expect_err(&format!("{what} must be refused"));
        assert_eq!(err.code(), 401, "{what}: {err}");
    }
}

#[tokio::test]
async fn forged_verify_reply_cannot_lend_a_real_token_another_identity() {
    let nats = NatsServer::secured();
    let key = harness::rsa_key_pair("forged");
    forge_verify_replies(&nats, "u-mallory").await;
    let _blog = blog(&nats, &key).await;

    // Signed for u-alice, but the reply claims u-mallory: refused.
    let err = create_as(&nats, &token(&key, "u-alice", 600))
        .await
        .expect_err("an answer about another user must be refused");
    assert_eq!(err.code(), 401, "{err}");

    // Signed for u-mallory and answered for u-mallory: the check lets a real token through.
    let created = create_as(&nats, &token(&key, "u-mallory", 600))
        .await
        .expect("a valid token with a matching answer passes");
    assert_eq!(created["author"]["id"], "u-mallory");
}

#[tokio::test]
async fn unreadable_public_key_stops_the_service_at_start() {
    let nats = NatsServer::secured();
    let mut settings = blog::Settings::local(
        &harness::mongodb_url(),
        &harness::unique_name("blog"),
        &harness::redis_url(),
        &format!("{}:", harness::unique_name("blog")),
    );
    settings.guard.jwt_public_key_path = Some("/nonexistent/jwt-public.pem".into());
    let started = blog::connected(&settings, runtime::Config::with_nats_url(nats.url()))
        .await
        .expect("blog connects")
        .start(nats.connect_as("blog").await)
        .await;
    let err = started.err().expect("start must fail").to_string();
    assert!(err.contains("/nonexistent/jwt-public.pem"), "{err}");
}
