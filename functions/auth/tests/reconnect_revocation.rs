//! A replica that was cut off from NATS while a token was revoked never heard the revocation
//! event; it must refuse that token on the first request it serves after reconnecting, not
//! trust the caller it had cached. Three NATS nodes in a cluster (events in an R3 stream, so the
//! revocation is acknowledged at once and never re-sent by the outbox relay): auth's writer on
//! one, a guarded replica on another, and that node killed across the sign-out.

mod common;

use std::time::Duration;

use async_nats::HeaderMap;
use common::{PASSWORD, access};
use harness::NatsServer;
use runtime::{ApiError, Config, Running};
use serde_json::{Value, json};

async fn call(
    client: &async_nats::Client,
    token: Option<&str>,
    subject: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        headers.insert("Authorization", format!("Bearer {token}").as_str());
    }
    let body = serde_json::to_vec(&body).unwrap();
    let reply = runtime::request(
        client,
        subject,
        headers,
        body.into(),
        Duration::from_secs(5),
    )
    .await?;
    Ok(serde_json::from_slice(&reply).expect("a JSON reply"))
}

async fn replica(node: &NatsServer, settings: &auth::Settings, only: &[&str]) -> Running {
    let config = Config {
        only: only.iter().map(|s| s.to_string()).collect(),
        events_replicas: 3,
        ..Config::with_nats_url(node.url())
    };
    // Pinned to its node: left to discover the others, it would move to one of them at once.
    let client = async_nats::ConnectOptions::new()
        .ignore_discovered_servers()
        .connect(node.url())
        .await
        .expect("connect");
    auth::connected(settings, config)
        .await
        .expect("auth connects")
        .start(client)
        .await
        .expect("auth starts")
}

/// The first answer to a request that some replica serves: no responders and timeouts mean the
/// guarded replica is not back yet.
async fn first_answer(
    client: &async_nats::Client,
    token: &str,
    subject: &str,
    within: Duration,
) -> Result<Value, ApiError> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let reply = call(client, Some(token), subject, json!({})).await;
        match &reply {
            Err(err) if matches!(err.code(), 503 | 504) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no replica answered {subject} within {within:?}: {err}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => return reply,
        }
    }
}

#[tokio::test]
async fn a_replica_away_during_a_revocation_refuses_the_token_once_it_is_back() {
    let mut nodes = NatsServer::cluster(3);
    let settings = common::settings();
    let writer = replica(
        &nodes[0],
        &settings,
        &["auth.signup.basic", "auth.token.verify", "auth.signout"],
    )
    .await;
    let guarded = replica(&nodes[1], &settings, &["auth.profile.mine"]).await;
    let client = async_nats::connect(nodes[0].url()).await.unwrap();
    let context = async_nats::jetstream::new(client.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while context.get_stream("AUTH_EVENTS").await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clustered AUTH_EVENTS stream was not created"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let user = call(
        &client,
        None,
        "auth.signup.basic",
        json!({"email": "away@example.com", "password": PASSWORD, "name": "Away"}),
    )
    .await
    .expect("signup");
    let token = access(&user);
    // Served across the route by the replica on the other node, which now caches the caller.
    let mine = first_answer(
        &client,
        &token,
        "auth.profile.mine",
        Duration::from_secs(10),
    )
    .await
    .expect("the guarded replica accepts a live token");
    assert_eq!(mine["email"], "away@example.com");

    nodes[1].kill();
    // Until the stream has a leader among the nodes still up, nothing could be acknowledged.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let leader = match context.get_stream("AUTH_EVENTS").await {
            Ok(mut stream) => stream
                .info()
                .await
                .ok()
                .and_then(|info| info.cluster.clone())
                .and_then(|cluster| cluster.leader),
            Err(_) => None,
        };
        if leader.is_some_and(|leader| leader != "node1") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "AUTH_EVENTS has no leader among the nodes still up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    call(&client, Some(&token), "auth.signout", json!({}))
        .await
        .expect("signed out while the guarded replica is cut off");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM event_outbox")
        .fetch_one(&sqlx::PgPool::connect(&settings.database_url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        pending, 0,
        "the revocation was acknowledged, so nothing will re-send it"
    );
    nodes[1].restart();

    let after = first_answer(
        &client,
        &token,
        "auth.profile.mine",
        Duration::from_secs(20),
    )
    .await;
    let err = after.expect_err("the first answer after reconnecting refuses the revoked token");
    assert_eq!(err.code(), 401, "{err}");

    guarded.shutdown().await.expect("drains");
    writer.shutdown().await.expect("drains");
}
