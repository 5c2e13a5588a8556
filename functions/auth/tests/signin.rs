//! Sign-in: success, wrong password, unknown user, and equal cost of the two failures.

mod common;

use std::time::{Duration, Instant};

use common::{Auth, PASSWORD, access};
use harness::assert_error;
use serde_json::json;

#[tokio::test]
async fn signin_returns_the_user_and_a_new_token_pair() {
    let auth = Auth::start().await;
    let signup = auth.signup("kim@example.com").await;
    let reply = auth
        .signin("KIM@example.com", PASSWORD)
        .await
        .expect("signin");
    assert_eq!(reply["user"]["id"], signup["user"]["id"]);
    assert_ne!(
        access(&reply),
        access(&signup),
        "each sign-in opens its own pair"
    );
    auth.verify(&access(&reply))
        .await
        .expect("signin token valid");
    auth.verify(&access(&signup))
        .await
        .expect("the signup pair still works");
    auth.shutdown().await;
}

#[tokio::test]
async fn wrong_password_is_401_and_unknown_user_is_404() {
    let auth = Auth::start().await;
    auth.signup("lee@example.com").await;
    assert_error(
        auth.signin("lee@example.com", "wrong password").await,
        401,
        "wrong password",
    );
    assert_error(
        auth.signin("nobody@example.com", PASSWORD).await,
        404,
        "nobody@example.com",
    );
    assert_error(
        auth.call("auth.signin.basic", json!({"email": "lee@example.com"}))
            .await,
        400,
        "password",
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn unknown_user_costs_as_long_as_a_wrong_password() {
    let auth = Auth::start().await;
    auth.signup("mo@example.com").await;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let start = Instant::now();
        let _ = auth.signin("mo@example.com", "wrong password").await;
        wrong.push(start.elapsed());
        let start = Instant::now();
        let _ = auth.signin("nobody@example.com", "wrong password").await;
        unknown.push(start.elapsed());
    }
    let (wrong, unknown) = (median(wrong), median(unknown));
    // Both run one argon2 verification; without the dummy hash the unknown user would answer
    // in well under a tenth of the time.
    assert!(
        unknown * 2 >= wrong,
        "unknown user answered in {unknown:?}, wrong password in {wrong:?}"
    );
    auth.shutdown().await;
}
