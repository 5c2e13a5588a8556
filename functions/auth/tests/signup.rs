//! Sign-up: the user and tokens it returns, validation, taken emails and races.

mod common;

use common::{Auth, PASSWORD, access};
use futures::StreamExt;
use harness::assert_error;
use serde_json::json;

#[tokio::test]
async fn signup_returns_the_user_and_a_working_token_pair() {
    let auth = Auth::start().await;
    let mut created = auth
        .client
        .subscribe("auth.events.user.created")
        .await
        .unwrap();
    auth.client.flush().await.unwrap();

    let reply = auth
        .call(
            "auth.signup.basic",
            json!({"email": "Ann@Example.com", "password": PASSWORD, "name": " Ann ", "profilePicUrl": "https://pics/ann.png"}),
        )
        .await
        .expect("signup succeeds");

    let user = &reply["user"];
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["name"], "Ann");
    assert_eq!(user["profilePicUrl"], "https://pics/ann.png");
    assert_eq!(user["roles"], json!(["LEARNER"]));
    assert!(
        reply["tokens"]["refreshToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let caller = auth
        .verify(&access(&reply))
        .await
        .expect("the new access token verifies");
    assert_eq!(caller["user"]["id"], user["id"]);

    let event = tokio::time::timeout(std::time::Duration::from_secs(2), created.next())
        .await
        .expect("user.created published")
        .unwrap();
    let event: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
    assert_eq!(
        event,
        json!({"userId": user["id"], "name": "Ann", "profilePicUrl": "https://pics/ann.png"})
    );

    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'ann@example.com'")
            .fetch_one(auth.state.store.pool())
            .await
            .unwrap();
    assert!(
        stored.starts_with("$argon2id$"),
        "password stored as argon2id, got {stored}"
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn signup_rejects_invalid_fields_naming_them() {
    let auth = Auth::start().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD, "name": "Ann"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": "12345", "name": "Ann"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": "x".repeat(101), "name": "Ann"}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "  "}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "n".repeat(201)}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "Ann", "profilePicUrl": "ftp://x"}),
            "profilePicUrl",
        ),
        // NUL reached PostgreSQL and came back as a 500 before these rules.
        (
            json!({"email": "a\u{0}@example.com", "password": PASSWORD, "name": "Ann"}),
            "email",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "Ann\u{0}"}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "Ann", "profilePicUrl": "https://x.io/\u{0}"}),
            "profilePicUrl",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "Ann", "profilePicUrl": "javascript:alert(1)"}),
            "profilePicUrl",
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "name": "Ann", "profilePicUrl": format!("https://x.io/{}", "a".repeat(200))}),
            "profilePicUrl",
        ),
    ];
    for (body, field) in cases {
        assert_error(auth.call("auth.signup.basic", body).await, 400, field);
    }
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'a@example.com'")
        .fetch_one(auth.state.store.pool())
        .await
        .unwrap();
    assert_eq!(users, 0, "a rejected signup stores nothing");
    auth.shutdown().await;
}

#[tokio::test]
async fn taken_email_is_a_conflict_whatever_its_case() {
    let auth = Auth::start().await;
    auth.signup("bob@example.com").await;
    let again = auth
        .call(
            "auth.signup.basic",
            json!({"email": "BOB@example.com", "password": PASSWORD, "name": "Bob"}),
        )
        .await;
    assert_error(again, 409, "bob@example.com");
    // Fullwidth and other compatibility forms are the same address once NFKC-normalised.
    let look_alike = auth
        .call(
            "auth.signup.basic",
            json!({"email": "ｂｏｂ＠example.com", "password": PASSWORD, "name": "Bob"}),
        )
        .await;
    assert_error(look_alike, 409, "bob@example.com");
    let signin_email = auth
        .call(
            "auth.signin.basic",
            json!({"email": "ＢＯＢ@example.com", "password": PASSWORD}),
        )
        .await;
    assert!(signin_email.is_ok(), "{signin_email:?}");
    auth.shutdown().await;
}

#[tokio::test]
async fn concurrent_signups_with_one_email_give_exactly_one_success() {
    let auth = Auth::start().await;
    let attempts = (0..8).map(|i| {
        auth.call(
            "auth.signup.basic",
            json!({"email": "race@example.com", "password": PASSWORD, "name": format!("Racer {i}")}),
        )
    });
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.code() == 409))
        .count();
    assert_eq!((ok, conflicts), (1, 7), "results: {results:?}");
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'race@example.com'")
            .fetch_one(auth.state.store.pool())
            .await
            .unwrap();
    assert_eq!(users, 1);
    auth.shutdown().await;
}
