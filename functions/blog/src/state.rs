//! What the blog handlers share, connected once at start-up: the store and the cache.

use std::time::Duration;

use crate::cache::BlogCache;
use crate::settings::Settings;
use crate::store::BlogStore;

/// The connections the service registers as state; handlers take each part as `State<T>`.
#[derive(Clone)]
pub struct BlogState {
    /// MongoDB.
    pub store: BlogStore,
    /// Redis and the in-process layer in front of it.
    pub cache: BlogCache,
}

impl BlogState {
    /// Connects the store (creating its indexes) and the cache; any failure is a start-up error.
    pub async fn connect(settings: &Settings) -> Result<Self, runtime::Error> {
        let store = BlogStore::connect(&settings.mongodb_url, &settings.mongodb_db)
            .await
            .map_err(|err| runtime::Error::startup("MongoDB", err))?;
        store
            .ensure_indexes()
            .await
            .map_err(|err| runtime::Error::startup("MongoDB indexes", err))?;
        let cache = BlogCache::new(
            (!settings.no_cache).then_some(settings.redis_url.as_str()),
            &settings.redis_prefix,
            Duration::from_secs(settings.blog_cache_secs),
            Duration::from_secs(settings.list_cache_secs),
        )
        .map_err(|err| runtime::Error::startup("Redis URL", err))?;
        Ok(Self { store, cache })
    }
}
