//! Per-endpoint counters behind `$SRV.STATS`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters one endpoint updates on every request, lock-free except for the last error text.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    errors: AtomicU64,
    processing_nanos: AtomicU64,
    last_error: Mutex<String>,
}

/// A consistent-enough copy of [`Stats`] for one STATS reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Requests received.
    pub requests: u64,
    /// Requests answered with an error (or not answered at all).
    pub errors: u64,
    /// Total time from arrival to reply, in nanoseconds.
    pub processing_nanos: u64,
    /// `"<code> <message>"` of the most recent error; empty when none.
    pub last_error: String,
}

impl Stats {
    /// Records one finished request; `error` is set when it failed.
    pub fn record(&self, elapsed: Duration, error: Option<String>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.processing_nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Some(error) = error {
            self.errors.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut last) = self.last_error.lock() {
                *last = error;
            }
        }
    }

    /// Reads the counters.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            processing_nanos: self.processing_nanos.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .map(|s| s.clone())
                .unwrap_or_default(),
        }
    }
}

impl Snapshot {
    /// Mean processing time in nanoseconds; 0 before the first request.
    pub fn average_nanos(&self) -> u64 {
        self.processing_nanos
            .checked_div(self.requests)
            .unwrap_or(0)
    }
}
