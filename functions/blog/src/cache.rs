//! Published blogs and list pages in Redis, and the invalidation that keeps them honest.
//!
//! Every call is best-effort with a short timeout: with Redis down, reads fall through to MongoDB.
//! List pages are keyed by a generation number that every change bumps, so one `INCR` retires all
//! of them at once, on every replica.
//!
//! In front of Redis sits a small in-process layer with a short TTL: a warm read then costs no
//! network round trip at all. Every replica empties it when `blog.events.changed` arrives (a fan-out
//! subscription, so all replicas hear it), and the writing replica empties its own before replying.

use std::time::Duration;

use bytes::Bytes;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use tracing::Instrument;

/// Redis-backed cache of what the public reads.
#[derive(Clone)]
pub struct BlogCache {
    /// Encoded JSON by key: a warm read sends these bytes as they are (see `runtime::Encoded`).
    local: moka::future::Cache<String, Bytes>,
    client: Option<redis::Client>,
    connection: std::sync::Arc<OnceCell<ConnectionManager>>,
    prefix: String,
    blog_ttl: u64,
    list_ttl: u64,
}

const TIMEOUT: Duration = Duration::from_millis(300);
/// Bounds how long a replica that missed a change event (e.g. while reconnecting) can serve it stale.
const LOCAL_TTL: Duration = Duration::from_secs(5);

impl BlogCache {
    /// A cache on `url` with keys under `prefix`; `None` disables caching (the cold-path benchmark).
    pub fn new(
        url: Option<&str>,
        prefix: &str,
        blog_ttl: Duration,
        list_ttl: Duration,
    ) -> Result<Self, redis::RedisError> {
        Ok(Self {
            local: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(LOCAL_TTL)
                .build(),
            client: url.map(redis::Client::open).transpose()?,
            connection: std::sync::Arc::new(OnceCell::new()),
            prefix: prefix.to_owned(),
            blog_ttl: blog_ttl.as_secs().max(1),
            list_ttl: list_ttl.as_secs().max(1),
        })
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        let client = self.client.clone()?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        // A failed first connection is retried on the next call rather than remembered.
        match self
            .connection
            .get_or_try_init(|| ConnectionManager::new_with_config(client, config))
            .await
        {
            Ok(connection) => Some(connection.clone()),
            Err(err) => {
                tracing::warn!(%err, "redis unavailable; reading from MongoDB");
                None
            }
        }
    }

    fn key(&self, parts: &str) -> String {
        format!("{}{parts}", self.prefix)
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_slice(&self.get_json(key).await?).ok()
    }

    /// The JSON stored under `key`, from this replica's memory when it is there.
    async fn get_json(&self, key: &str) -> Option<Bytes> {
        // A disabled cache (no Redis URL) has no local layer either.
        self.client.as_ref()?;
        if let Some(json) = self.local.get(key).await {
            return Some(json);
        }
        let mut redis = self.connection().await?;
        let found: Option<String> = match tokio::time::timeout(TIMEOUT, redis.get(key))
            .instrument(runtime::telemetry::store_span("redis", "GET"))
            .await
        {
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::warn!(%err, "cache read failed");
                None
            }
            Err(_) => None,
        };
        let found = Bytes::from(found?);
        self.local.insert(key.to_owned(), found.clone()).await;
        Some(found)
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T, ttl: u64) {
        if let Ok(json) = serde_json::to_vec(value) {
            self.put_json(key, json.into(), ttl).await;
        }
    }

    async fn put_json(&self, key: &str, json: Bytes, ttl: u64) {
        let Some(mut redis) = self.connection().await else {
            return;
        };
        self.local.insert(key.to_owned(), json.clone()).await;
        if let Ok(Err(err)) =
            tokio::time::timeout(TIMEOUT, redis.set_ex::<_, _, ()>(key, &json[..], ttl))
                .instrument(runtime::telemetry::store_span("redis", "SETEX"))
                .await
        {
            tracing::warn!(%err, "cache write failed");
        }
    }

    /// A cached published blog's JSON by `id:<hex>` or `slug:<slug>`, to send without parsing.
    pub async fn blog(&self, by: &str) -> Option<Bytes> {
        self.get_json(&self.key(&format!("blog:{by}"))).await
    }

    /// Caches a published blog's JSON under its id and its slug.
    pub async fn put_blog(&self, id: &str, slug: &str, json: &Bytes) {
        self.put_json(
            &self.key(&format!("blog:id:{id}")),
            json.clone(),
            self.blog_ttl,
        )
        .await;
        self.put_json(
            &self.key(&format!("blog:slug:{slug}")),
            json.clone(),
            self.blog_ttl,
        )
        .await;
    }

    async fn generation(&self) -> Option<i64> {
        let key = self.key("lists:generation");
        if let Some(generation) = self.local.get(&key).await {
            return std::str::from_utf8(&generation).ok()?.parse().ok();
        }
        let mut redis = self.connection().await?;
        let generation: Option<i64> = tokio::time::timeout(TIMEOUT, redis.get(&key))
            .instrument(runtime::telemetry::store_span("redis", "GET"))
            .await
            .ok()?
            .ok()?;
        let generation = generation.unwrap_or(0);
        self.local
            .insert(key, generation.to_string().into_bytes().into())
            .await;
        Some(generation)
    }

    /// A cached list page (`name` says which list and page).
    pub async fn list<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        let generation = self.generation().await?;
        self.get(&self.key(&format!("list:{generation}:{name}")))
            .await
    }

    /// Caches a list page under the current generation.
    pub async fn put_list<T: Serialize>(&self, name: &str, value: &T) {
        if let Some(generation) = self.generation().await {
            self.put(
                &self.key(&format!("list:{generation}:{name}")),
                value,
                self.list_ttl,
            )
            .await;
        }
    }

    /// Empties this replica's in-process layer (on `blog.events.changed`).
    pub fn forget_local(&self) {
        self.local.invalidate_all();
    }

    /// Drops a blog under its id and slugs, and retires every list page.
    pub async fn forget(&self, id: &str, slugs: &[&str]) {
        self.forget_local();
        let Some(mut redis) = self.connection().await else {
            return;
        };
        let mut keys = vec![self.key(&format!("blog:id:{id}"))];
        keys.extend(
            slugs
                .iter()
                .map(|slug| self.key(&format!("blog:slug:{slug}"))),
        );
        let forget = async {
            redis.del::<_, ()>(keys).await?;
            redis
                .incr::<_, _, ()>(self.key("lists:generation"), 1)
                .await
        };
        let forgotten = tokio::time::timeout(TIMEOUT, forget)
            .instrument(runtime::telemetry::store_span("redis", "DEL+INCR"))
            .await;
        match forgotten {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(%err, "cache invalidation failed; entries expire by TTL")
            }
            Err(_) => tracing::warn!("cache invalidation timed out; entries expire by TTL"),
        }
    }
}
