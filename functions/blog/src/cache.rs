//! Published blogs and list pages in Redis, and the invalidation that keeps them honest.
//!
//! Every call is best-effort with a short timeout: with Redis down, reads fall through to MongoDB.
//! List pages are keyed by a generation number that every change bumps, so one `INCR` retires all
//! of them at once, on every replica.

use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

/// Redis-backed cache of what the public reads.
#[derive(Clone)]
pub struct BlogCache {
    client: Option<redis::Client>,
    connection: std::sync::Arc<OnceCell<ConnectionManager>>,
    prefix: String,
    blog_ttl: u64,
    list_ttl: u64,
}

const TIMEOUT: Duration = Duration::from_millis(300);

impl BlogCache {
    /// A cache on `url` with keys under `prefix`; `None` disables caching (the cold-path benchmark).
    pub fn new(
        url: Option<&str>,
        prefix: &str,
        blog_ttl: Duration,
        list_ttl: Duration,
    ) -> Result<Self, redis::RedisError> {
        Ok(Self {
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
        let mut redis = self.connection().await?;
        let found: Option<String> = match tokio::time::timeout(TIMEOUT, redis.get(key)).await {
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::warn!(%err, "cache read failed");
                None
            }
            Err(_) => None,
        };
        serde_json::from_str(&found?).ok()
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T, ttl: u64) {
        let (Some(mut redis), Ok(json)) = (self.connection().await, serde_json::to_string(value))
        else {
            return;
        };
        if let Ok(Err(err)) =
            tokio::time::timeout(TIMEOUT, redis.set_ex::<_, _, ()>(key, json, ttl)).await
        {
            tracing::warn!(%err, "cache write failed");
        }
    }

    /// A cached published blog by `id:<hex>` or `slug:<slug>`.
    pub async fn blog<T: DeserializeOwned>(&self, by: &str) -> Option<T> {
        self.get(&self.key(&format!("blog:{by}"))).await
    }

    /// Caches a published blog under its id and its slug.
    pub async fn put_blog<T: Serialize>(&self, id: &str, slug: &str, blog: &T) {
        self.put(&self.key(&format!("blog:id:{id}")), blog, self.blog_ttl)
            .await;
        self.put(&self.key(&format!("blog:slug:{slug}")), blog, self.blog_ttl)
            .await;
    }

    async fn generation(&self) -> Option<i64> {
        let mut redis = self.connection().await?;
        let generation: Option<i64> =
            tokio::time::timeout(TIMEOUT, redis.get(self.key("lists:generation")))
                .await
                .ok()?
                .ok()?;
        Some(generation.unwrap_or(0))
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

    /// Drops a blog under its id and slugs, and retires every list page.
    pub async fn forget(&self, id: &str, slugs: &[&str]) {
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
        match tokio::time::timeout(TIMEOUT, forget).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(%err, "cache invalidation failed; entries expire by TTL")
            }
            Err(_) => tracing::warn!("cache invalidation timed out; entries expire by TTL"),
        }
    }
}
