//! A private nats-server, a stand-in for `auth.token.verify`, and blog replicas on SecantusDB and Redis.

#![allow(dead_code)]

use std::time::Duration;

use async_nats::HeaderMap;
use contracts::auth::TokenVerifyRequest;
use contracts::{Caller, CallerUser};
use futures::StreamExt;
use harness::NatsServer;
use runtime::{ApiError, Running};
use serde_json::{Value, json};

/// Who each test token stands for: (token, user id, roles).
const USERS: [(&str, &str, &[&str]); 5] = [
    ("author", "u-author", &["LEARNER", "AUTHOR"]),
    ("other-author", "u-other", &["LEARNER", "AUTHOR"]),
    ("editor", "u-editor", &["LEARNER", "EDITOR"]),
    ("learner", "u-learner", &["LEARNER"]),
    ("admin", "u-admin", &["ADMIN"]),
];

fn caller(token: &str) -> Option<Caller> {
    let (_, id, roles) = USERS.iter().find(|(t, _, _)| *t == token)?;
    Some(Caller {
        user: CallerUser {
            id: (*id).to_owned(),
            name: format!("{token} name"),
            email: None,
            profile_pic_url: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        },
        token_id: format!("tid-{token}"),
        expires_at: None,
    })
}

pub struct World {
    pub nats: NatsServer,
    pub client: async_nats::Client,
    pub settings: blog::Settings,
}

impl World {
    /// A private NATS with the stand-in auth, and settings for a fresh database and key prefix.
    pub async fn start() -> Self {
        let nats = NatsServer::start();
        let client = async_nats::connect(nats.url()).await.expect("connect");
        let mut requests = client
            .subscribe("auth.token.verify")
            .await
            .expect("subscribe");
        let responder = client.clone();
        tokio::spawn(async move {
            while let Some(message) = requests.next().await {
                let Some(reply_to) = message.reply else {
                    continue;
                };
                let request: Result<TokenVerifyRequest, _> =
                    serde_json::from_slice(&message.payload);
                let _ = match request.ok().and_then(|r| caller(&r.access_token)) {
                    Some(caller) => {
                        responder
                            .publish(reply_to, serde_json::to_vec(&caller).expect("json").into())
                            .await
                    }
                    None => {
                        let (headers, body) = runtime::wire::encode_error(&ApiError::Unauthorized(
                            "unknown token".into(),
                        ));
                        responder
                            .publish_with_headers(reply_to, headers, body)
                            .await
                    }
                };
            }
        });
        client.flush().await.expect("flush");
        let settings = blog::Settings::local(
            &harness::mongodb_url(),
            &harness::unique_name("blog"),
            &harness::redis_url(),
            &format!("{}:", harness::unique_name("blog")),
        );
        Self {
            nats,
            client,
            settings,
        }
    }

    /// One blog replica (they share MongoDB and Redis).
    pub async fn replica(&self) -> Running {
        self.replica_serving(&["blog.>", "auth.events.>"]).await
    }

    /// A replica serving only the subjects matching `only`.
    pub async fn replica_serving(&self, only: &[&str]) -> Running {
        let config = runtime::Config {
            only: only.iter().map(|s| s.to_string()).collect(),
            ..runtime::Config::with_nats_url(self.nats.url())
        };
        let client = async_nats::connect(self.nats.url()).await.expect("connect");
        blog::connected(&self.settings, config.clone())
            .await
            .expect("blog connects")
            .start(client)
            .await
            .expect("blog starts")
    }

    /// Calls `subject` as `token` (None: anonymous) with a JSON body.
    pub async fn call(
        &self,
        token: Option<&str>,
        subject: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            headers.insert("Authorization", format!("Bearer {token}").as_str());
        }
        let reply = runtime::request(
            &self.client,
            subject,
            headers,
            body.to_string().into(),
            Duration::from_secs(10),
        )
        .await?;
        Ok(serde_json::from_slice(&reply).expect("JSON reply"))
    }

    /// Creates a draft as `token` and returns its id.
    pub async fn draft(&self, token: &str, slug: &str, tags: &[&str]) -> String {
        let blog = self
            .call(Some(token), "blog.author.create", json!({"title": format!("Title {slug}"), "description": "A description", "draftText": format!("text of {slug}"), "slug": slug, "tags": tags}))
            .await
            .expect("create");
        blog["_id"].as_str().expect("id").to_owned()
    }

    /// Creates, submits and publishes a blog; returns its id.
    pub async fn published(&self, slug: &str, tags: &[&str]) -> String {
        let id = self.draft("author", slug, tags).await;
        self.call(Some("author"), "blog.author.submit", json!({"id": id}))
            .await
            .expect("submit");
        self.call(Some("editor"), "blog.editor.publish", json!({"id": id}))
            .await
            .expect("publish");
        id
    }
}
