//! Refresh-token reuse detection (RFC 9700 4.14.2): replaying a refresh token that was already
//! rotated revokes every pair descended from that sign-in, on every replica, and says so in an event.

mod common;

use std::time::Duration;

use auth::tokens::Claims;
use common::{Auth, access, refresh};
use futures::StreamExt;
use harness::assert_error;
use serde_json::{Value, json};

fn token_id(token: &str) -> String {
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap();
    claims.prm
}

/// Swaps a pair for the next one, as a client does.
async fn rotate(auth: &Auth, access_token: &str, refresh_token: &str) -> Value {
    auth.call_as(
        access_token,
        "auth.token.refresh",
        json!({"refreshToken": refresh_token}),
    )
    .await
    .expect("refresh succeeds")
}

#[tokio::test]
async fn replaying_a_used_refresh_token_revokes_the_whole_sign_in() {
    let auth = Auth::start().await;
    let signup = auth.signup("thief@example.com").await;
    let other_sign_in = auth
        .signin("thief@example.com", common::PASSWORD)
        .await
        .expect("a second, unrelated sign-in");
    let (first_access, first_refresh) = (access(&signup), refresh(&signup));
    let second = rotate(&auth, &first_access, &first_refresh).await;
    let second_access = second["accessToken"].as_str().unwrap().to_owned();
    let third = rotate(
        &auth,
        &second_access,
        second["refreshToken"].as_str().unwrap(),
    )
    .await;
    let third_access = third["accessToken"].as_str().unwrap().to_owned();
    auth.verify(&third_access).await.expect("warm the cache");

    let mut revoked = auth
        .client
        .subscribe("auth.events.token.revoked")
        .await
        .unwrap();
    auth.client.flush().await.unwrap();

    // Someone replays the first refresh token: the client or a thief holds a copy.
    assert_error(
        auth.call_as(
            &first_access,
            "auth.token.refresh",
            json!({"refreshToken": first_refresh}),
        )
        .await,
        401,
        "every token of that sign-in is revoked",
    );
    // The live descendant pair is dead: its access token (cached before) and its refresh token.
    assert_error(auth.verify(&third_access).await, 401, "revoked");
    assert_error(
        auth.call_as(
            &third_access,
            "auth.token.refresh",
            json!({"refreshToken": third["refreshToken"]}),
        )
        .await,
        401,
        "already used",
    );
    // Another sign-in of the same user is not part of that family and keeps working.
    auth.verify(&access(&other_sign_in))
        .await
        .expect("an unrelated sign-in survives");

    let event = tokio::time::timeout(Duration::from_secs(2), revoked.next())
        .await
        .expect("a revocation event")
        .unwrap();
    let event: Value = serde_json::from_slice(&event.payload).unwrap();
    assert_eq!(event, json!({"tokenId": token_id(&third_access)}));
    auth.shutdown().await;
}

#[tokio::test]
async fn a_concurrent_double_refresh_leaves_no_pair_alive() {
    let auth = Auth::start().await;
    let signup = auth.signup("race@example.com").await;
    let body = json!({"refreshToken": refresh(&signup)});
    let token = access(&signup);
    let (a, b) = tokio::join!(
        auth.call_as(&token, "auth.token.refresh", body.clone()),
        auth.call_as(&token, "auth.token.refresh", body),
    );
    let winners: Vec<Value> = [a, b].into_iter().filter_map(Result::ok).collect();
    assert!(winners.len() <= 1, "one refresh token made two pairs");
    for pair in winners {
        assert_error(
            auth.verify(pair["accessToken"].as_str().unwrap()).await,
            401,
            "revoked",
        );
    }
    auth.shutdown().await;
}
