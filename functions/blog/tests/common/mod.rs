//! A private nats-server, a stand-in for `auth.token.verify`, and blog replicas on SecantusDB and Redis.

#![allow(dead_code)]

use std::ops::Deref;

use contracts::auth::{TOKEN_VERIFY, TokenVerifyRequest};
use contracts::{Caller, CallerUser};
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

/// Blog replicas on a private NATS with the stand-in auth; the calls of [`harness::World`] are
/// reached through it.
pub struct World {
    pub world: harness::World,
    pub settings: blog::Settings,
}

impl Deref for World {
    type Target = harness::World;

    fn deref(&self) -> &harness::World {
        &self.world
    }
}

impl World {
    /// A private NATS with the stand-in auth, and settings for a fresh database and key prefix.
    pub async fn start() -> Self {
        let world = harness::World::start().await;
        world
            .stand_in(TOKEN_VERIFY, |request: TokenVerifyRequest| {
                caller(&request.access_token)
                    .ok_or_else(|| ApiError::Unauthorized("unknown token".into()))
            })
            .await;
        let settings = blog::Settings::local(
            &harness::mongodb_url(),
            &harness::unique_name("blog"),
            &harness::redis_url(),
            &format!("{}:", harness::unique_name("blog")),
        );
        Self { world, settings }
    }

    /// A world with one blog replica serving every blog subject.
    pub async fn serving() -> (Self, Running) {
        let world = Self::start().await;
        let replica = world.replica().await;
        (world, replica)
    }

    /// One blog replica (they share MongoDB and Redis).
    pub async fn replica(&self) -> Running {
        self.replica_serving(&["blog.>", "auth.events.>"]).await
    }

    /// A replica serving only the subjects matching `only`.
    pub async fn replica_serving(&self, only: &[&str]) -> Running {
        let service = blog::connected(&self.settings, self.world.config(only))
            .await
            .expect("blog connects");
        self.world.start_service(service).await
    }

    /// Calls `subject` as `token` (None: anonymous) with a JSON body.
    pub async fn call(
        &self,
        token: Option<&str>,
        subject: &str,
        body: Value,
    ) -> Result<Value, ApiError> {
        match token {
            Some(token) => self.world.call_as(token, subject, body).await,
            None => self.world.call(subject, body).await,
        }
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

/// The `_id`s of a list reply, in order.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list reply")
        .iter()
        .map(|b| b["_id"].as_str().expect("id").to_owned())
        .collect()
}
