//! Profiles: the caller's own, anyone's public one and the internal user lookup.

mod common;

use common::{Auth, access};
use harness::assert_error;
use serde_json::json;

#[tokio::test]
async fn own_profile_shows_email_and_roles_to_its_owner() {
    let auth = Auth::start().await;
    let reply = auth.signup("ivy@example.com").await;
    let mine = auth
        .call_as(&access(&reply), "auth.profile.mine", json!({}))
        .await
        .expect("profile");
    assert_eq!(mine["email"], "ivy@example.com");
    assert_eq!(mine["roles"], json!(["LEARNER"]));
    assert_eq!(mine["id"], reply["user"]["id"]);
    assert!(mine.get("passwordHash").is_none() && mine.get("password_hash").is_none());
    auth.shutdown().await;
}

#[tokio::test]
async fn own_profile_needs_a_bearer_token() {
    let auth = Auth::start().await;
    assert_error(
        auth.call("auth.profile.mine", json!({})).await,
        401,
        "bearer token",
    );
    assert_error(
        auth.call_as("junk", "auth.profile.mine", json!({})).await,
        401,
        "invalid access token",
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn public_profile_and_user_lookup_show_only_name_and_picture() {
    let auth = Auth::start().await;
    let reply = auth.signup("jo@example.com").await;
    let id = reply["user"]["id"].clone();
    let expected = json!({"id": id, "name": "Ann Author", "profilePicUrl": null});
    assert_eq!(
        auth.call("auth.profile.get", json!({"id": id}))
            .await
            .unwrap(),
        expected
    );
    assert_eq!(
        auth.call("auth.user.get", json!({"id": id})).await.unwrap(),
        expected
    );
    auth.shutdown().await;
}

#[tokio::test]
async fn unknown_or_malformed_user_ids_are_404_and_400() {
    let auth = Auth::start().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    for subject in ["auth.profile.get", "auth.user.get"] {
        assert_error(
            auth.call(subject, json!({"id": unknown})).await,
            404,
            &unknown,
        );
        assert_error(auth.call(subject, json!({"id": "42"})).await, 400, "id");
        assert_error(auth.call(subject, json!({})).await, 400, "id");
    }
    auth.shutdown().await;
}

#[tokio::test]
async fn users_change_their_own_name_and_picture_with_the_signup_rules() {
    let auth = Auth::start().await;
    let reply = auth.signup("pat@example.com").await;
    let token = access(&reply);
    assert_error(
        auth.call("auth.profile.update", json!({"name": "Nope"}))
            .await,
        401,
        "bearer token",
    );
    assert_error(
        auth.call_as(&token, "auth.profile.update", json!({})).await,
        400,
        "nothing to update",
    );
    assert_error(
        auth.call_as(&token, "auth.profile.update", json!({"name": "  "}))
            .await,
        400,
        "name must be",
    );
    assert_error(
        auth.call_as(
            &token,
            "auth.profile.update",
            json!({"profilePicUrl": "ftp://x"}),
        )
        .await,
        400,
        "profilePicUrl",
    );
    let id = reply["user"]["id"].clone();
    let unchanged = json!({"id": id, "name": "Ann Author", "profilePicUrl": null});
    assert_eq!(
        auth.call("auth.profile.get", json!({"id": id}))
            .await
            .unwrap(),
        unchanged
    );
    let pic = "https://example.com/pat.png";
    let updated = auth
        .call_as(
            &token,
            "auth.profile.update",
            json!({"name": " Pat Renamed ", "profilePicUrl": pic}),
        )
        .await
        .expect("profile update");
    assert_eq!(updated["name"], "Pat Renamed");
    assert_eq!(updated["profilePicUrl"], pic);
    let cleared = auth
        .call_as(&token, "auth.profile.update", json!({"profilePicUrl": ""}))
        .await
        .expect("picture removed");
    assert_eq!(cleared["name"], "Pat Renamed");
    assert_eq!(cleared["profilePicUrl"], json!(null));
    auth.shutdown().await;
}
