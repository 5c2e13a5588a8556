//! Resolved callers cached in-process, emptied by revocation events before every lookup: the
//! guard keeps one per service, and auth keeps one in front of Redis for `auth.token.verify`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;
use tokio::sync::OnceCell;

use crate::auth::{TOKEN_REVOKED, TokenRevoked};
use crate::caller::Caller;
use crate::revocations::Revocations;

/// Callers by key (a token, or its hash), safe to trust for as long as the revocation
/// subscription is live; cheap to clone.
#[derive(Clone)]
pub struct CallerCache {
    cache: Cache<String, Arc<Caller>>,
    /// Bumped by every eviction, so a lookup that raced with one does not re-cache what it evicted.
    epoch: Arc<AtomicU64>,
    /// Token and user ids revoked lately: a caller they cover is never cached again, even when a
    /// slower source (a Redis that missed the revocation) still vouches for it.
    revoked: moka::sync::Cache<String, ()>,
    /// Revocation events not applied yet; applied before every lookup.
    revocations: Revocations<TokenRevoked>,
    /// Set once the revocation subscription is in place (see [`CallerCache::listen_once`]).
    listening: Arc<OnceCell<()>>,
}

impl CallerCache {
    /// Keeps a caller for at most `ttl` (and never past its token's expiry).
    pub fn new(ttl: Duration) -> Self {
        let cache: Cache<String, Arc<Caller>> = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(ttl)
            .support_invalidation_closures()
            .build();
        let epoch = Arc::new(AtomicU64::new(0));
        let revoked = moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(ttl)
            .build();
        let revocations = Revocations::new({
            let (cache, epoch, revoked) = (cache.clone(), epoch.clone(), revoked.clone());
            move |event: TokenRevoked| evict(&cache, &epoch, &revoked, &event)
        });
        Self {
            cache,
            epoch,
            revoked,
            revocations,
            listening: Arc::new(OnceCell::new()),
        }
    }

    /// Subscribes to revocation events; the returned task applies them while no lookups come.
    pub async fn listen(
        &self,
        nats: &async_nats::Client,
    ) -> Result<tokio::task::JoinHandle<()>, async_nats::SubscribeError> {
        let task = self.revocations.listen(nats, TOKEN_REVOKED).await?;
        let _ = self.listening.set(());
        Ok(task)
    }

    /// Subscribes on first use, and waits until the server has the subscription: a revocation
    /// committed after that reaches this cache, one committed before is what the source answers.
    /// Until it is subscribed, lookups find nothing and nothing is kept.
    pub async fn listen_once(&self, nats: &async_nats::Client) {
        if self.listening.initialized() {
            return;
        }
        let subscribed = self
            .listening
            .get_or_try_init(|| async {
                self.revocations.listen(nats, TOKEN_REVOKED).await?;
                nats.flush().await.map_err(|err| err.to_string())?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            })
            .await;
        if let Err(err) = subscribed {
            tracing::warn!(%err, "cannot subscribe to revocations; not caching callers in-process");
        }
    }

    /// The cached caller of `key`, unless revoked or expired at `now` (unix seconds); always
    /// `None` until the revocation subscription is in place.
    pub async fn get(&self, key: &str, now: i64) -> Option<Caller> {
        if !self.listening.initialized() {
            return None;
        }
        self.revocations.apply_pending();
        let caller = self.cache.get(key).await?;
        if caller.expires_at.is_none_or(|exp| exp > now) {
            return Some((*caller).clone());
        }
        self.cache.invalidate(key).await;
        None
    }

    /// Where evictions stand: take it before asking the source, hand it to [`CallerCache::insert`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Caches `caller` unless something was evicted since `epoch` (it may have been this caller)
    /// or a revocation seen lately covers it.
    pub async fn insert(&self, key: String, caller: Caller, epoch: u64) {
        self.revocations.apply_pending();
        let revoked =
            self.revoked.contains_key(&caller.token_id) || self.revoked.contains_key(caller.id());
        if self.listening.initialized() && !revoked && self.epoch() == epoch {
            self.cache.insert(key, Arc::new(caller)).await;
        }
    }

    /// Drops every cached caller the event covers.
    pub fn evict(&self, event: &TokenRevoked) {
        evict(&self.cache, &self.epoch, &self.revoked, event);
    }

    /// Drops everything: events may have been missed while the connection was down.
    pub fn reset(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.invalidate_all();
    }
}

fn evict(
    cache: &Cache<String, Arc<Caller>>,
    epoch: &AtomicU64,
    revoked: &moka::sync::Cache<String, ()>,
    event: &TokenRevoked,
) {
    epoch.fetch_add(1, Ordering::SeqCst);
    // Token ids and user ids are distinct kinds of random ids, so one set holds both.
    for id in event.token_id.iter().chain(event.user_id.iter()) {
        revoked.insert(id.clone(), ());
    }
    let event = event.clone();
    // Only fails when closures are unsupported, which `CallerCache::new` rules out.
    let _ = cache.invalidate_entries_if(move |_, caller| event.covers(caller));
}
