//! A failed-attempt limiter shared by every auth check that can be guessed at (API keys, sign-in).
//!
//! Failures are counted per key (a client address, an account) in a sliding window held in Redis,
//! so every replica sees the same count. Reaching the limit locks the key out; each further lockout
//! doubles, up to a ceiling. When Redis cannot answer, an in-process copy of the same rules keeps
//! throttling, per replica, rather than letting guesses through.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::cache::{best_effort, connect_lazily};

/// Keys the in-process fallback tracks before it drops idle ones, so it cannot grow unbounded.
const LOCAL_CAPACITY: usize = 10_000;

/// Throttle bucket of requests that name no client address (direct NATS callers).
pub const UNKNOWN_CLIENT: &str = "unknown";

/// Records one failure atomically; returns the lockout in ms it started, or 0 under the limit.
/// KEYS: failures (sorted set), lock, strikes. ARGV: now ms, window ms, limit, member, max lock ms.
const FAILED: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local max_lock = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) < limit then
  return 0
end
local strikes = redis.call('INCR', KEYS[3])
local lock = math.min(window * 2 ^ (strikes - 1), max_lock)
redis.call('PEXPIRE', KEYS[3], math.min(lock * 2 + window, max_lock * 2))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(lock))
redis.call('DEL', KEYS[1])
return math.floor(lock)
";

/// How many failures a key may have and what happens after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures allowed within `window`; the next one starts a lockout.
    pub max_failures: u32,
    /// Length of the sliding window, and of the first lockout.
    pub window: Duration,
    /// Ceiling of the doubling lockouts.
    pub max_lockout: Duration,
}

/// A named limiter (e.g. `apikey`) over Redis with an in-process fallback; cheap to clone.
#[derive(Clone)]
pub struct Throttle {
    conn: ConnectionManager,
    prefix: String,
    limit: Limit,
    script: Arc<redis::Script>,
    local: Arc<Mutex<HashMap<String, Local>>>,
}

impl Throttle {
    /// Connects lazily, so a Redis that is down at start only moves counting in-process.
    pub fn connect(url: &str, prefix: &str, name: &str, limit: Limit) -> redis::RedisResult<Self> {
        Ok(Self {
            conn: connect_lazily(url)?,
            prefix: format!("{prefix}throttle:{name}:"),
            limit: Limit {
                max_failures: limit.max_failures.max(1),
                window: limit.window.max(Duration::from_millis(1)),
                max_lockout: limit.max_lockout.max(limit.window),
            },
            script: Arc::new(redis::Script::new(FAILED)),
            local: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// `Err(wait)` while `key` is locked out: refuse the attempt without checking it.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        let mut conn = self.conn.clone();
        let mut pttl = redis::cmd("PTTL");
        pttl.arg(self.redis_key(key, "lock"));
        // -2 (no lock) and -1 (no expiry, never written) both read as "not locked".
        let remaining = match call("PTTL", pttl.query_async::<i64>(&mut conn)).await {
            Some(ms) => u64::try_from(ms).ok().map(Duration::from_millis),
            None => self.with_local(key, |local, now| local.locked(now)),
        };
        match remaining {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt; `Some(wait)` when this one started a lockout.
    pub async fn failed(&self, key: &str) -> Option<Duration> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let mut conn = self.conn.clone();
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(self.redis_key(key, "failures"))
            .key(self.redis_key(key, "lock"))
            .key(self.redis_key(key, "strikes"))
            .arg(now_ms.to_string())
            .arg(millis(self.limit.window))
            .arg(self.limit.max_failures)
            .arg(uuid::Uuid::new_v4().to_string())
            .arg(millis(self.limit.max_lockout));
        let locked = match call("EVALSHA", invocation.invoke_async::<u64>(&mut conn)).await {
            Some(ms) => Duration::from_millis(ms),
            None => {
                let limit = self.limit;
                self.with_local(key, |local, now| local.failed(now, &limit))
            }
        };
        (!locked.is_zero()).then_some(locked)
    }

    /// Forgets every failure and strike of `key`, e.g. after a correct password.
    pub async fn reset(&self, key: &str) {
        let keys = ["failures", "lock", "strikes"].map(|part| self.redis_key(key, part));
        let mut conn = self.conn.clone();
        call::<()>("DEL", redis::cmd("DEL").arg(&keys).query_async(&mut conn)).await;
        if let Ok(mut local) = self.local.lock() {
            local.remove(key);
        }
    }

    fn redis_key(&self, key: &str, part: &str) -> String {
        format!("{}{part}:{key}", self.prefix)
    }

    fn with_local<T>(&self, key: &str, f: impl FnOnce(&mut Local, Instant) -> T) -> T {
        let now = Instant::now();
        let mut map = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= LOCAL_CAPACITY && !map.contains_key(key) {
            let limit = self.limit;
            map.retain(|_, local| !local.idle(now, &limit));
        }
        f(map.entry(key.to_owned()).or_default(), now)
    }
}

/// The in-process copy of the Redis script's state for one key.
#[derive(Default)]
struct Local {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
    strikes: u32,
    last: Option<Instant>,
}

impl Local {
    fn locked(&self, now: Instant) -> Option<Duration> {
        self.locked_until
            .map(|until| until.saturating_duration_since(now))
    }

    fn failed(&mut self, now: Instant, limit: &Limit) -> Duration {
        if self
            .last
            .is_some_and(|last| now - last > limit.max_lockout * 2)
        {
            self.strikes = 0;
        }
        self.last = Some(now);
        while self
            .failures
            .front()
            .is_some_and(|&at| now - at > limit.window)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() < limit.max_failures as usize {
            return Duration::ZERO;
        }
        self.strikes = self.strikes.saturating_add(1);
        let doubled = limit
            .window
            .saturating_mul(2u32.saturating_pow(self.strikes - 1));
        let lock = doubled.min(limit.max_lockout);
        self.locked_until = Some(now + lock);
        self.failures.clear();
        lock
    }

    fn idle(&self, now: Instant, limit: &Limit) -> bool {
        self.last
            .is_none_or(|last| now - last > limit.max_lockout * 2)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

async fn call<T>(what: &str, call: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
    best_effort(what, "throttling in-process", call).await
}

/// Whole seconds to put in `Retry-After`, rounded up so a client never retries too early.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit {
        max_failures: 3,
        window: Duration::from_secs(10),
        max_lockout: Duration::from_secs(25),
    };

    #[test]
    fn local_fallback_locks_after_the_limit_and_doubles_up_to_the_ceiling() {
        let mut local = Local::default();
        let start = Instant::now();
        assert_eq!(local.failed(start, &LIMIT), Duration::ZERO);
        assert_eq!(local.failed(start, &LIMIT), Duration::ZERO);
        assert_eq!(local.failed(start, &LIMIT), Duration::from_secs(10));
        assert_eq!(local.locked(start), Some(Duration::from_secs(10)));
        let later = start + Duration::from_secs(11);
        assert_eq!(local.locked(later), Some(Duration::ZERO));
        local.failed(later, &LIMIT);
        local.failed(later, &LIMIT);
        assert_eq!(local.failed(later, &LIMIT), Duration::from_secs(20));
        local.failed(later, &LIMIT);
        local.failed(later, &LIMIT);
        assert_eq!(local.failed(later, &LIMIT), Duration::from_secs(25));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }
}
