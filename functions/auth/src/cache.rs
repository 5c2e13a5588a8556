//! Caching of token-verify results (in-process, then Redis) and API-key results (Redis). Every call is best-effort with a short
//! timeout: with Redis down the service answers from PostgreSQL, slower, and logs a warning.
//!
//! PostgreSQL is the truth, so a cached entry may only be trusted while it cannot outlive a
//! revocation. A revocation (or role change) Redis does not take is kept as pending; while any is
//! pending this replica neither trusts nor writes cache entries, and retries them before every
//! read, so a Redis that comes back with its data (persistence, a partition) cannot serve an entry
//! whose revocation it missed.
//!
//! In front of Redis, verified callers are also kept in-process by token ([`CallerCache`]), so a
//! warm verify costs neither a hash nor a Redis round trip. Revocations made here evict them
//! directly; those made by other replicas arrive as the same `auth.events.token.revoked` events
//! every guard applies, before the next lookup; a reconnect empties them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use contracts::auth::{ApiKeyInfo, TokenRevoked};
use contracts::{Caller, CallerCache};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

/// Longest a Redis call may take before the caller gives up on it.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How often pending changes are retried in the background.
const SETTLE_EVERY: Duration = Duration::from_millis(200);
/// What the cache does when Redis cannot answer, for the log.
const NO_CACHE: &str = "answering without the cache";

/// The auth function's view of Redis.
#[derive(Clone)]
pub struct AuthCache {
    conn: ConnectionManager,
    prefix: String,
    api_key_ttl: u64,
    /// How long a revocation marker lives: the longest an access token can be valid.
    revoked_ttl: u64,
    /// Cache changes Redis has not taken yet; see the module doc.
    pending: Arc<Mutex<Vec<Undone>>>,
    /// Verified callers by access token, in this process.
    local: CallerCache,
}

/// A cache change that must reach Redis before its entries can be trusted again.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Undone {
    /// Drop the cached caller of this access-token hash and mark it revoked.
    Revoke(String),
    /// Drop this key (a caller whose roles changed, a revoked API key).
    Delete(String),
}

impl AuthCache {
    /// Connects lazily, so a Redis that is down at start does not stop the service; callers stay
    /// in-process for at most `local_ttl`.
    pub fn connect(
        url: &str,
        prefix: &str,
        api_key_ttl: Duration,
        access_token_ttl: Duration,
        local_ttl: Duration,
    ) -> Result<Self, redis::RedisError> {
        let cache = Self {
            conn: connect_lazily(url)?,
            prefix: prefix.to_owned(),
            api_key_ttl: api_key_ttl.as_secs().max(1),
            revoked_ttl: access_token_ttl.as_secs().max(1),
            pending: Arc::new(Mutex::new(Vec::new())),
            local: CallerCache::new(local_ttl),
        };
        cache.keep_settling();
        Ok(cache)
    }

    /// Retries pending changes in the background too, so Redis takes them soon after it returns
    /// even while this replica serves nothing (other replicas trust Redis meanwhile). Ends when
    /// every other clone of this cache is gone. Needs a Tokio runtime, which the service has.
    fn keep_settling(&self) {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SETTLE_EVERY);
            while Arc::strong_count(&cache.pending) > 1 {
                tick.tick().await;
                if cache.unsettled() {
                    cache.settle().await;
                }
            }
        });
    }

    /// Subscribes the in-process layer to revocations on first use; until it is subscribed, it
    /// holds nothing.
    pub async fn follow_revocations(&self, nats: &async_nats::Client) {
        self.local.listen_once(nats).await;
    }

    /// The caller this process verified `token` as, still valid at `now`.
    pub async fn local_caller(&self, token: &str, now: i64) -> Option<Caller> {
        self.local.get(token, now).await
    }

    /// Where in-process evictions stand: taken before Redis or PostgreSQL is asked, handed to
    /// [`AuthCache::keep_local`].
    pub fn epoch(&self) -> u64 {
        self.local.epoch()
    }

    /// Keeps a verified caller in-process, unless a revocation since `epoch` may cover it.
    pub async fn keep_local(&self, token: &str, caller: &Caller, epoch: u64) {
        self.local
            .insert(token.to_owned(), caller.clone(), epoch)
            .await;
    }

    /// Drops what this process cached for a pair or a user revoked here, before the reply.
    pub fn evict_local(&self, event: &TokenRevoked) {
        self.local.evict(event);
    }

    /// Forgets every in-process caller: revocations may have been missed while NATS was away.
    pub fn forget_local(&self) {
        self.local.reset();
    }

    /// The caller an access token was verified as, by the token's SHA-256: an entry exists only
    /// for a token that passed every check. A revocation marker wins over an entry, so a verify
    /// that raced with the revocation and re-cached the caller is ignored.
    pub async fn caller(&self, token_hash: &str) -> Option<Caller> {
        if !self.settle().await {
            return None;
        }
        let keys = [self.caller_key(token_hash), self.revoked_key(token_hash)];
        let mut conn = self.conn.clone();
        let values: Vec<Option<Vec<u8>>> = best_effort("MGET", NO_CACHE, conn.mget(&keys)).await?;
        match values.as_slice() {
            [Some(raw), None] => serde_json::from_slice(raw)
                .inspect_err(|err| tracing::warn!(%err, "ignoring malformed cached caller"))
                .ok(),
            _ => None,
        }
    }

    /// Caches a verified caller for `ttl_secs` (until its token expires).
    pub async fn put_caller(&self, token_hash: &str, caller: &Caller, ttl_secs: u64) {
        if self.unsettled() {
            return;
        }
        self.put(&self.caller_key(token_hash), caller, ttl_secs)
            .await;
    }

    /// Marks these access tokens revoked and drops their cached callers (before replying).
    pub async fn revoke_callers(&self, token_hashes: &[String]) {
        self.apply(token_hashes.iter().cloned().map(Undone::Revoke).collect())
            .await;
    }

    /// Drops the cached callers of these still-valid access tokens (their roles changed).
    pub async fn forget_callers(&self, token_hashes: &[String]) {
        let keys = token_hashes
            .iter()
            .map(|h| Undone::Delete(self.caller_key(h)));
        self.apply(keys.collect()).await;
    }

    /// The cached check of the API key with this hash.
    pub async fn api_key(&self, key_hash: &str) -> Option<ApiKeyInfo> {
        if !self.settle().await {
            return None;
        }
        self.get(&self.api_key_key(key_hash)).await
    }

    /// Caches a valid API key briefly.
    pub async fn put_api_key(&self, key_hash: &str, info: &ApiKeyInfo) {
        if self.unsettled() {
            return;
        }
        self.put(&self.api_key_key(key_hash), info, self.api_key_ttl)
            .await;
    }

    /// Drops the cached check of a revoked API key.
    pub async fn forget_api_key(&self, key_hash: &str) {
        self.apply(vec![Undone::Delete(self.api_key_key(key_hash))])
            .await;
    }

    /// Sends `changes` to Redis; those it does not take stay pending (see the module doc).
    async fn apply(&self, changes: Vec<Undone>) {
        if changes.is_empty() {
            return;
        }
        self.lock_pending().extend(changes);
        self.settle().await;
    }

    /// Retries every pending change; true when none is left, so entries can be trusted again.
    /// Changes stay listed until Redis took them, so a concurrent read never trusts too early.
    async fn settle(&self) -> bool {
        let changes = self.lock_pending().clone();
        if changes.is_empty() {
            return true;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for change in &changes {
            match change {
                Undone::Revoke(hash) => {
                    pipe.del(self.caller_key(hash)).ignore();
                    pipe.set_ex(self.revoked_key(hash), 1, self.revoked_ttl)
                        .ignore();
                }
                Undone::Delete(key) => {
                    pipe.del(key).ignore();
                }
            }
        }
        let mut conn = self.conn.clone();
        let done = best_effort::<()>(
            "revoke",
            "trusting no cache entry until it is retried",
            pipe.query_async(&mut conn),
        )
        .await
        .is_some();
        if done {
            self.lock_pending()
                .retain(|change| !changes.contains(change));
        }
        done
    }

    fn unsettled(&self) -> bool {
        !self.lock_pending().is_empty()
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Undone>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn caller_key(&self, token_hash: &str) -> String {
        format!("{}token:{token_hash}", self.prefix)
    }

    fn revoked_key(&self, token_hash: &str) -> String {
        format!("{}revoked:{token_hash}", self.prefix)
    }

    fn api_key_key(&self, key_hash: &str) -> String {
        format!("{}apikey:{key_hash}", self.prefix)
    }

    async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut conn = self.conn.clone();
        let raw: Vec<u8> = best_effort("GET", NO_CACHE, conn.get::<_, Option<Vec<u8>>>(key))
            .await
            .flatten()?;
        serde_json::from_slice(&raw)
            .inspect_err(|err| tracing::warn!(%err, key, "ignoring malformed cache entry"))
            .ok()
    }

    async fn put<T: Serialize>(&self, key: &str, value: &T, ttl_secs: u64) {
        let Ok(json) = serde_json::to_string(value) else {
            return;
        };
        let mut conn = self.conn.clone();
        best_effort::<()>("SET", NO_CACHE, conn.set_ex(key, json, ttl_secs.max(1))).await;
    }
}

/// A Redis connection made on first use with short timeouts, shared by the cache and the throttles.
pub(crate) fn connect_lazily(url: &str) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CALL_TIMEOUT))
        .set_response_timeout(Some(CALL_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(1));
    ConnectionManager::new_lazy_with_config(client, config)
}

/// Runs one Redis call with the short timeout; a failure or timeout is logged and read as `None`,
/// and `fallback` says in the log what the caller does instead.
pub(crate) async fn best_effort<T>(
    what: &str,
    fallback: &str,
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Option<T> {
    let timed = tokio::time::timeout(CALL_TIMEOUT, call)
        .instrument(runtime::telemetry::store_span("redis", what))
        .await;
    match timed {
        Ok(Ok(value)) => Some(value),
        Ok(Err(err)) => {
            tracing::warn!(%err, "redis {what} failed; {fallback}");
            None
        }
        Err(_) => {
            tracing::warn!("redis {what} timed out; {fallback}");
            None
        }
    }
}
