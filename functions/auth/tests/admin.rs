//! Role administration and the ADMIN role check.

mod common;

use std::time::Duration;

use common::{Auth, access};
use futures::StreamExt;
use harness::assert_error;
use serde_json::{Value, json};

#[tokio::test]
async fn learner_is_forbidden_from_admin_endpoints_and_admin_passes() {
    let auth = Auth::start().await;
    let learner = access(&auth.signup("nia@example.com").await);
    let admin = auth.admin_token().await;
    let body = json!({"comment": "x"});
    assert_error(
        auth.call_as(&learner, "auth.admin.apikey.create", body.clone())
            .await,
        403,
        "ADMIN",
    );
    assert_error(
        auth.call("auth.admin.apikey.create", body.clone()).await,
        401,
        "bearer token",
    );
    auth.call_as(&admin, "auth.admin.apikey.create", body)
        .await
        .expect("admin passes");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE comments = 'x'")
        .fetch_one(auth.state.store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1, "only the admin's call created a key");
    auth.shutdown().await;
}

#[tokio::test]
async fn setting_roles_takes_effect_at_once_and_is_announced() {
    let auth = Auth::start().await;
    let reply = auth.signup("oli@example.com").await;
    let (token, id) = (
        access(&reply),
        reply["user"]["id"].as_str().unwrap().to_owned(),
    );
    auth.verify(&token)
        .await
        .expect("warm the verify cache with LEARNER");
    let admin = auth.admin_token().await;
    let mut revoked = auth
        .client
        .subscribe("auth.events.token.revoked")
        .await
        .unwrap();
    let mut updated = auth
        .client
        .subscribe("auth.events.user.updated")
        .await
        .unwrap();
    auth.client.flush().await.unwrap();

    let user = auth
        .call_as(
            &admin,
            "auth.admin.roles.set",
            json!({"id": id, "roles": ["author", "EDITOR", "AUTHOR"]}),
        )
        .await
        .expect("roles set");
    assert_eq!(user["roles"], json!(["AUTHOR", "EDITOR"]));
    let caller = auth.verify(&token).await.expect("token still valid");
    assert_eq!(
        caller["user"]["roles"],
        json!(["AUTHOR", "EDITOR"]),
        "no stale cached roles"
    );

    assert_eq!(next_event(&mut revoked).await, json!({"userId": id}));
    assert_eq!(next_event(&mut updated).await["userId"], id.as_str());
    auth.shutdown().await;
}

async fn next_event(events: &mut async_nats::Subscriber) -> Value {
    let msg = tokio::time::timeout(Duration::from_secs(2), events.next())
        .await
        .unwrap()
        .unwrap();
    serde_json::from_slice(&msg.payload).unwrap()
}

#[tokio::test]
async fn unknown_roles_and_users_are_rejected_without_change() {
    let auth = Auth::start().await;
    let reply = auth.signup("pat@example.com").await;
    let id = reply["user"]["id"].as_str().unwrap().to_owned();
    let admin = auth.admin_token().await;
    let set = |body: Value| auth.call_as(&admin, "auth.admin.roles.set", body);
    assert_error(
        set(json!({"id": id, "roles": ["AUTHOR", "KING"]})).await,
        400,
        "KING",
    );
    assert_error(set(json!({"id": id, "roles": []})).await, 400, "roles");
    assert_error(
        set(json!({"id": "x", "roles": ["AUTHOR"]})).await,
        400,
        "id",
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_error(
        set(json!({"id": unknown, "roles": ["AUTHOR"]})).await,
        404,
        &unknown,
    );
    let mine = auth
        .call_as(&access(&reply), "auth.profile.mine", json!({}))
        .await
        .unwrap();
    assert_eq!(
        mine["roles"],
        json!(["LEARNER"]),
        "a rejected change changes nothing"
    );
    auth.shutdown().await;
}
