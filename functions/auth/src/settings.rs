//! The auth function's own settings, from flags and env with defaults for a local run.

use std::path::PathBuf;
use std::time::Duration;

use crate::throttle::Limit;

/// Where the auth function finds its stores and keys, and how long its tokens live.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// How callers are resolved through `auth.token.verify`.
    #[command(flatten)]
    pub guard: contracts::GuardSettings,
    /// PostgreSQL holding users, roles, keystores and API keys.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/auth"
    )]
    pub database_url: String,
    /// Redis caching token and API-key checks.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// Prefix of every Redis key this function writes, so deployments and tests do not collide.
    #[arg(long, env = "REDIS_PREFIX", default_value = "auth:")]
    pub redis_prefix: String,
    /// PKCS#8 PEM RSA private key that signs JWTs.
    #[arg(
        long,
        env = "JWT_PRIVATE_KEY_PATH",
        default_value = ".dev/keys/jwt-private.pem"
    )]
    pub jwt_private_key_path: PathBuf,
    /// PEM RSA public key that verifies JWTs.
    #[arg(
        long,
        env = "JWT_PUBLIC_KEY_PATH",
        default_value = ".dev/keys/jwt-public.pem"
    )]
    pub jwt_public_key_path: PathBuf,
    /// `iss` claim written into and required of every token.
    #[arg(long, env = "JWT_ISSUER", default_value = "blog-auth")]
    pub jwt_issuer: String,
    /// `aud` claim written into and required of every token.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "blog")]
    pub jwt_audience: String,
    /// Lifetime of an access token in seconds.
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 3_600)]
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token in seconds.
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 604_800)]
    pub refresh_token_ttl_secs: u64,
    /// Seconds a valid API key stays cached in Redis (revocation deletes it sooner).
    #[arg(long, env = "APIKEY_CACHE_SECS", default_value_t = 30)]
    pub apikey_cache_secs: u64,
    /// Failed API-key guesses one client address may make per window before it gets 429.
    #[arg(long, env = "APIKEY_GUESS_LIMIT", default_value_t = 20)]
    pub apikey_guess_limit: u32,
    /// Length in seconds of the API-key guess window, and of the first lockout.
    #[arg(long, env = "APIKEY_GUESS_WINDOW_SECS", default_value_t = 60)]
    pub apikey_guess_window_secs: u64,
    /// Ceiling in seconds of the doubling API-key lockouts.
    #[arg(long, env = "APIKEY_GUESS_MAX_LOCKOUT_SECS", default_value_t = 3_600)]
    pub apikey_guess_max_lockout_secs: u64,
    /// Failed sign-ins one account may take per window before it gets 429 (OWASP ASVS 6.3).
    #[arg(long, env = "SIGNIN_ACCOUNT_LIMIT", default_value_t = 10)]
    pub signin_account_limit: u32,
    /// Failed sign-ins one client address may make per window, over all accounts.
    #[arg(long, env = "SIGNIN_ADDR_LIMIT", default_value_t = 50)]
    pub signin_addr_limit: u32,
    /// Length in seconds of the sign-in windows, and of the first lockout.
    #[arg(long, env = "SIGNIN_WINDOW_SECS", default_value_t = 900)]
    pub signin_window_secs: u64,
    /// Ceiling in seconds of the doubling sign-in lockouts.
    #[arg(long, env = "SIGNIN_MAX_LOCKOUT_SECS", default_value_t = 86_400)]
    pub signin_max_lockout_secs: u64,
    /// Email of the admin user created at start, when set with `SEED_ADMIN_PASSWORD`.
    #[arg(long, env = "SEED_ADMIN_EMAIL")]
    pub seed_admin_email: Option<String>,
    /// Password of the seeded admin user.
    #[arg(long, env = "SEED_ADMIN_PASSWORD", hide_env_values = true)]
    pub seed_admin_password: Option<String>,
    /// An API key created at start, so a fresh deployment can be called at all.
    #[arg(long, env = "SEED_API_KEY", hide_env_values = true)]
    pub seed_api_key: Option<String>,
}

impl Settings {
    /// Defaults of a local run pointed at the given stores and key files, for tests and benches.
    pub fn local(
        database_url: impl Into<String>,
        redis_url: impl Into<String>,
        redis_prefix: impl Into<String>,
        private_key: impl Into<PathBuf>,
        public_key: impl Into<PathBuf>,
    ) -> Self {
        Self {
            guard: contracts::GuardSettings::default(),
            database_url: database_url.into(),
            redis_url: redis_url.into(),
            redis_prefix: redis_prefix.into(),
            jwt_private_key_path: private_key.into(),
            jwt_public_key_path: public_key.into(),
            jwt_issuer: "blog-auth".into(),
            jwt_audience: "blog".into(),
            access_token_ttl_secs: 3_600,
            refresh_token_ttl_secs: 604_800,
            apikey_cache_secs: 30,
            apikey_guess_limit: 20,
            apikey_guess_window_secs: 60,
            apikey_guess_max_lockout_secs: 3_600,
            signin_account_limit: 10,
            signin_addr_limit: 50,
            signin_window_secs: 900,
            signin_max_lockout_secs: 86_400,
            seed_admin_email: None,
            seed_admin_password: None,
            seed_api_key: None,
        }
    }

    /// How long an access token lives.
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    /// How many API-key guesses one client address gets.
    pub fn apikey_guesses(&self) -> Limit {
        Limit {
            max_failures: self.apikey_guess_limit,
            window: Duration::from_secs(self.apikey_guess_window_secs),
            max_lockout: Duration::from_secs(self.apikey_guess_max_lockout_secs),
        }
    }

    /// How many failed sign-ins one account (`per_account`) or one client address gets.
    pub fn signin_failures(&self, per_account: bool) -> Limit {
        Limit {
            max_failures: if per_account {
                self.signin_account_limit
            } else {
                self.signin_addr_limit
            },
            window: Duration::from_secs(self.signin_window_secs),
            max_lockout: Duration::from_secs(self.signin_max_lockout_secs),
        }
    }

    /// How long a refresh token lives.
    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_secs)
    }
}
