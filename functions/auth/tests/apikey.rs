//! API keys: the seed key, create -> verify -> revoke -> 403, and the HTTP check endpoint.

mod common;

use common::{Auth, SEED_API_KEY};
use harness::assert_error;
use serde_json::json;

#[tokio::test]
async fn seeded_key_verifies_and_empty_or_unknown_keys_do_not() {
    let auth = Auth::start().await;
    let info = auth
        .call("auth.apikey.verify", json!({"key": SEED_API_KEY}))
        .await
        .expect("seed key valid");
    assert_eq!(info["permissions"], json!(["GENERAL"]));
    assert!(
        info["id"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
    );
    assert_error(
        auth.call("auth.apikey.verify", json!({"key": ""})).await,
        401,
        "required",
    );
    assert_error(
        auth.call("auth.apikey.verify", json!({"key": "made-up"}))
            .await,
        403,
        "invalid",
    );
    assert_error(auth.call("auth.apikey.verify", json!({})).await, 400, "key");
    auth.shutdown().await;
}

#[tokio::test]
async fn created_key_verifies_until_revoked_then_is_403_at_once() {
    let auth = Auth::start().await;
    let admin = auth.admin_token().await;
    let created = auth
        .call_as(
            &admin,
            "auth.admin.apikey.create",
            json!({"comment": "mobile app"}),
        )
        .await
        .expect("admin creates a key");
    let key = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();

    let info = auth
        .call("auth.apikey.verify", json!({"key": key}))
        .await
        .expect("new key valid");
    assert_eq!(info["id"], id.as_str());
    // Verified twice: the second answer comes from the cache the revocation must clear.
    auth.call("auth.apikey.verify", json!({"key": key}))
        .await
        .expect("cached key valid");

    let stored: (String, String) =
        sqlx::query_as("SELECT key_hash, comments FROM api_keys WHERE id = $1::uuid")
            .bind(&id)
            .fetch_one(auth.state.store.pool())
            .await
            .unwrap();
    assert_ne!(stored.0, key, "only the hash is stored");
    assert_eq!(stored.0, auth::secret::hash_api_key(&key));
    assert_eq!(stored.1, "mobile app");

    let revoked = auth
        .call_as(&admin, "auth.admin.apikey.revoke", json!({"id": id}))
        .await
        .expect("revoke");
    assert_eq!(revoked, json!({"message": "api key revoked"}));
    assert_error(
        auth.call("auth.apikey.verify", json!({"key": key})).await,
        403,
        "revoked",
    );
    assert_error(
        auth.call_as(&admin, "auth.admin.apikey.revoke", json!({"id": id}))
            .await,
        404,
        &id,
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn creating_a_key_needs_a_comment() {
    let auth = Auth::start().await;
    let admin = auth.admin_token().await;
    assert_error(
        auth.call_as(&admin, "auth.admin.apikey.create", json!({"comment": " "}))
            .await,
        400,
        "comment",
    );
    assert_error(
        auth.call_as(&admin, "auth.admin.apikey.create", json!({}))
            .await,
        400,
        "comment",
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn apikey_check_answers_that_the_key_is_valid() {
    let auth = Auth::start().await;
    let reply = auth
        .call("auth.apikey.check", json!({}))
        .await
        .expect("check");
    assert_eq!(reply, json!({"message": "api key is valid"}));
    auth.shutdown().await;
}
