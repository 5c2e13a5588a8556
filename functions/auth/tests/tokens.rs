//! Access-token verification, refresh and sign-out, including forged tokens and other replicas.

mod common;

use std::time::Duration;

use auth::tokens::Claims;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Auth, access, keys, refresh};
use futures::StreamExt;
use harness::assert_error;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// Claims of a real token, re-signed with `key` after `edit`.
fn forge(token: &str, private_pem: &[u8], edit: impl FnOnce(&mut Claims)) -> String {
    let mut claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap();
    edit(&mut claims);
    let key = EncodingKey::from_rsa_pem(private_pem).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

#[tokio::test]
async fn verify_returns_the_caller_shape_the_runtime_guard_reads() {
    let auth = Auth::start().await;
    let reply = auth.signup("carol@example.com").await;
    let caller = auth.verify(&access(&reply)).await.expect("valid token");
    let parsed: contracts::Caller =
        serde_json::from_value(caller.clone()).expect("a contracts::Caller");
    assert_eq!(parsed.user.id, reply["user"]["id"].as_str().unwrap());
    assert_eq!(parsed.user.email.as_deref(), Some("carol@example.com"));
    assert_eq!(parsed.user.roles, vec!["LEARNER".to_string()]);
    assert!(parsed.expires_at.unwrap() > chrono::Utc::now().timestamp() + 3_000);
    // Second call comes from the cache and must answer the same.
    assert_eq!(auth.verify(&access(&reply)).await.unwrap(), caller);
    auth.shutdown().await;
}

#[tokio::test]
async fn forged_expired_and_misaddressed_tokens_are_rejected() {
    let auth = Auth::start().await;
    let token = access(&auth.signup("dave@example.com").await);
    let ours = keys().private_pem();
    let other = harness::rsa_key_pair("auth_other_keys").private_pem();

    let payload = token.split('.').nth(1).unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let cases: Vec<(&str, String, &str)> = vec![
        // jsonwebtoken has no `none` algorithm at all, so such a header does not even parse.
        ("alg none", format!("{none_header}.{payload}."), "malformed"),
        ("other key", forge(&token, &other, |_| {}), "signature"),
        (
            "wrong issuer",
            forge(&token, &ours, |c| c.iss = "evil".into()),
            "issuer",
        ),
        (
            "wrong audience",
            forge(&token, &ours, |c| c.aud = "evil".into()),
            "audience",
        ),
        (
            "expired",
            forge(&token, &ours, |c| {
                c.exp = chrono::Utc::now().timestamp() - 120
            }),
            "expired",
        ),
        ("garbage", "not.a.token".into(), "malformed"),
        ("empty", String::new(), "required"),
    ];
    for (what, forged, reason) in cases {
        let result = auth.verify(&forged).await;
        assert!(result.is_err(), "{what} token accepted");
        assert_error(result, 401, reason);
    }
    // The genuine token still works: failures did not poison its cache entry.
    auth.verify(&token)
        .await
        .expect("genuine token still valid");
    auth.shutdown().await;
}

#[tokio::test]
async fn refresh_issues_a_new_pair_and_the_old_pair_stops_working() {
    let auth = Auth::start().await;
    let reply = auth.signup("erin@example.com").await;
    let (old_access, old_refresh) = (access(&reply), refresh(&reply));
    auth.verify(&old_access).await.expect("warm the cache");

    let new = auth
        .call_as(
            &old_access,
            "auth.token.refresh",
            json!({"refreshToken": old_refresh}),
        )
        .await
        .expect("refresh succeeds");
    let new_access = new["accessToken"].as_str().unwrap();
    assert_ne!(new_access, old_access);
    auth.verify(new_access)
        .await
        .expect("new access token works");
    assert_error(auth.verify(&old_access).await, 401, "revoked");
    auth.shutdown().await;
}

#[tokio::test]
async fn reused_refresh_token_is_rejected() {
    let auth = Auth::start().await;
    let reply = auth.signup("frank@example.com").await;
    let body = json!({"refreshToken": refresh(&reply)});
    let first = auth
        .call_as(&access(&reply), "auth.token.refresh", body.clone())
        .await
        .expect("first refresh");
    assert_error(
        auth.call_as(&access(&reply), "auth.token.refresh", body)
            .await,
        401,
        "already used",
    );
    // Nor can the refresh token be paired with the new access token.
    let mixed = json!({"refreshToken": refresh(&reply)});
    assert_error(
        auth.call_as(
            first["accessToken"].as_str().unwrap(),
            "auth.token.refresh",
            mixed,
        )
        .await,
        401,
        "already used",
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn refresh_without_an_access_token_or_with_a_bad_refresh_token_is_401() {
    let auth = Auth::start().await;
    let reply = auth.signup("gina@example.com").await;
    assert_error(
        auth.call(
            "auth.token.refresh",
            json!({"refreshToken": refresh(&reply)}),
        )
        .await,
        401,
        "Authorization",
    );
    assert_error(
        auth.call_as(
            &access(&reply),
            "auth.token.refresh",
            json!({"refreshToken": "nope"}),
        )
        .await,
        401,
        "malformed",
    );
    assert_error(
        auth.call_as(&access(&reply), "auth.token.refresh", json!({}))
            .await,
        400,
        "refreshToken",
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn signout_revokes_the_pair_on_every_replica_at_once() {
    let mut auth = Auth::start().await;
    // A second replica with its own state serves verify and the profile; the first keeps the rest.
    auth.replicas.pop().unwrap().shutdown().await.unwrap();
    auth.add_replica(&["auth.signup.basic", "auth.signout", "auth.token.refresh"])
        .await;
    auth.add_replica(&["auth.token.verify", "auth.profile.mine"])
        .await;

    let mut revoked = auth
        .client
        .subscribe("auth.events.token.revoked")
        .await
        .unwrap();
    auth.client.flush().await.unwrap();
    let reply = auth.signup("hana@example.com").await;
    let token = access(&reply);
    auth.call_as(&token, "auth.profile.mine", json!({}))
        .await
        .expect("profile before signout");

    let out = auth
        .call_as(&token, "auth.signout", json!({}))
        .await
        .expect("signout");
    assert_eq!(out, json!({"message": "signed out"}));
    assert_error(auth.verify(&token).await, 401, "revoked");
    assert_error(
        auth.call_as(&token, "auth.profile.mine", json!({})).await,
        401,
        "invalid access token",
    );
    assert_error(
        auth.call_as(
            &token,
            "auth.token.refresh",
            json!({"refreshToken": refresh(&reply)}),
        )
        .await,
        401,
        "already used",
    );

    let event = tokio::time::timeout(Duration::from_secs(2), revoked.next())
        .await
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_slice(&event.payload).unwrap();
    let token_id = keystore_key(&token);
    assert_eq!(event, json!({"tokenId": token_id}));
    auth.shutdown().await;
}

#[tokio::test]
async fn signout_without_a_token_is_401() {
    let auth = Auth::start().await;
    assert_error(
        auth.call("auth.signout", json!({})).await,
        401,
        "bearer token",
    );
    auth.shutdown().await;
}

fn keystore_key(token: &str) -> String {
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap();
    claims.prm
}

#[tokio::test]
async fn a_caller_recached_after_signout_by_a_racing_verify_is_ignored() {
    let auth = Auth::start().await;
    let token = access(&auth.signup("ines@example.com").await);
    let caller: contracts::Caller =
        serde_json::from_value(auth.verify(&token).await.unwrap()).unwrap();
    // A racing verify notes where in-process evictions stand before it reads the keystore.
    let epoch = auth.state.cache.epoch();
    auth.call_as(&token, "auth.signout", json!({}))
        .await
        .expect("signout");
    // What a verify that read the keystore just before the signout would write just after it.
    let hash = auth::secret::sha256_hex(&token);
    auth.state.cache.put_caller(&hash, &caller, 3_600).await;
    auth.state.cache.keep_local(&token, &caller, epoch).await;
    assert_error(auth.verify(&token).await, 401, "revoked");
    auth.shutdown().await;
}

#[tokio::test]
async fn a_role_change_reaches_the_warm_in_process_cache_of_another_replica_at_once() {
    let mut auth = Auth::start().await;
    // One replica serves only verify (and keeps callers in-process); the other changes roles.
    auth.replicas.pop().unwrap().shutdown().await.unwrap();
    auth.add_replica(&["auth.signup.basic", "auth.signin.basic", "auth.admin.>"])
        .await;
    auth.add_replica(&["auth.token.verify"]).await;
    let reply = auth.signup("jon@example.com").await;
    let (token, id) = (
        access(&reply),
        reply["user"]["id"].as_str().unwrap().to_owned(),
    );
    for _ in 0..3 {
        let caller = auth.verify(&token).await.expect("warm verify");
        assert_eq!(caller["user"]["roles"], json!(["LEARNER"]));
    }
    let admin = auth.admin_token().await;
    auth.call_as(
        &admin,
        "auth.admin.roles.set",
        json!({"id": id, "roles": ["AUTHOR"]}),
    )
    .await
    .expect("roles set");
    let caller = auth.verify(&token).await.expect("token still valid");
    assert_eq!(
        caller["user"]["roles"],
        json!(["AUTHOR"]),
        "the verifying replica answered from a stale in-process entry"
    );
    auth.shutdown().await;
}
