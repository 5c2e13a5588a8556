//! What every auth handler shares: the store, the cache, the JWT keys and the password hasher.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::AuthCache;
use crate::password::Passwords;
use crate::seed;
use crate::settings::Settings;
use crate::store::AuthStore;
use crate::throttle::Throttle;
use crate::tokens::TokenKeys;

/// Shared state registered with the runtime; cheap to clone.
#[derive(Clone)]
pub struct AuthState {
    /// PostgreSQL.
    pub store: AuthStore,
    /// Redis.
    pub cache: AuthCache,
    /// JWT signing and verification.
    pub tokens: Arc<TokenKeys>,
    /// Argon2id.
    pub passwords: Passwords,
    /// Failed `auth.apikey.verify` guesses per client address.
    pub apikey_guesses: Throttle,
    /// Failed sign-ins per account.
    pub signin_accounts: Throttle,
    /// Failed sign-ins per client address.
    pub signin_addrs: Throttle,
}

impl AuthState {
    /// Loads the keys, connects, migrates and seeds; any failure is a clear start-up error.
    pub async fn connect(settings: &Settings) -> Result<Self, runtime::Error> {
        let tokens = Arc::new(TokenKeys::load(settings)?);
        let passwords = Passwords::new().map_err(|err| runtime::Error::startup("argon2", err))?;
        let store = AuthStore::connect(&settings.database_url)
            .await
            .map_err(|err| runtime::Error::startup("cannot connect to PostgreSQL", err))?;
        store
            .migrate()
            .await
            .map_err(|err| runtime::Error::startup("migrations failed", err))?;
        let cache = AuthCache::connect(
            &settings.redis_url,
            &settings.redis_prefix,
            Duration::from_secs(settings.apikey_cache_secs),
            settings.access_ttl(),
            Duration::from_secs(settings.guard.identity_cache_secs),
        )
        .map_err(|err| runtime::Error::startup("invalid REDIS_URL", err))?;
        let throttle = |name: &str, limit| {
            Throttle::connect(&settings.redis_url, &settings.redis_prefix, name, limit)
                .map_err(|err| runtime::Error::startup("invalid REDIS_URL", err))
        };
        let apikey_guesses = throttle("apikey", settings.apikey_guesses())?;
        let signin_accounts = throttle("signin-account", settings.signin_failures(true))?;
        let signin_addrs = throttle("signin-addr", settings.signin_failures(false))?;
        seed::run(&store, &passwords, settings)
            .await
            .map_err(|err| runtime::Error::startup("seeding failed", format!("{err:?}")))?;
        tracing::info!(argon2 = %passwords.describe(), "auth state ready");
        Ok(Self {
            store,
            cache,
            tokens,
            passwords,
            apikey_guesses,
            signin_accounts,
            signin_addrs,
        })
    }
}
