//! The blog function's own settings (flags and env, local defaults).

/// Where the blog function keeps its data.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// How callers are resolved through `auth.token.verify`.
    #[command(flatten)]
    pub guard: contracts::GuardSettings,
    /// MongoDB (SecantusDB locally).
    #[arg(long, env = "MONGODB_URL", default_value = "mongodb://127.0.0.1:27017")]
    pub mongodb_url: String,
    /// Database name.
    #[arg(long, env = "MONGODB_DB", default_value = "blog")]
    pub mongodb_db: String,
    /// Redis for the read cache.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Prefix of every cache key.
    #[arg(long, env = "REDIS_PREFIX", default_value = "blog:")]
    pub redis_prefix: String,
    /// Seconds a published blog stays cached.
    #[arg(long, env = "BLOG_CACHE_SECS", default_value_t = 3600)]
    pub blog_cache_secs: u64,
    /// Seconds a list page stays cached.
    #[arg(long, env = "LIST_CACHE_SECS", default_value_t = 60)]
    pub list_cache_secs: u64,
    /// Turn the cache off (every read goes to MongoDB).
    #[arg(long, env = "BLOG_CACHE_DISABLED")]
    pub no_cache: bool,
}

impl Settings {
    /// Local defaults pointed at a database and key prefix (tests, benchmarks).
    pub fn local(mongodb_url: &str, db: &str, redis_url: &str, prefix: &str) -> Self {
        Self {
            guard: contracts::GuardSettings::default(),
            mongodb_url: mongodb_url.to_owned(),
            mongodb_db: db.to_owned(),
            redis_url: redis_url.to_owned(),
            redis_prefix: prefix.to_owned(),
            blog_cache_secs: 3600,
            list_cache_secs: 60,
            no_cache: false,
        }
    }
}
