//! The bridge's own request rate and p99 per route over the last few seconds, kept in memory.
//!
//! Each route keeps one slot per second for [`WINDOW_SECS`] seconds; a slot counts requests in
//! log-spaced latency buckets (four per power of two, so a percentile is at most 25% above the truth),
//! which keeps memory bounded and an observation O(1) however busy the route is.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Seconds of history behind every rate and percentile.
pub const WINDOW_SECS: u64 = 10;

/// Buckets per slot: enough for latencies up to 2^40 µs.
const BUCKETS: usize = 4 * 40;

/// One second of one route.
#[derive(Clone)]
struct Slot {
    second: u64,
    count: u32,
    errors: u32,
    buckets: Box<[u32; BUCKETS]>,
}

impl Slot {
    fn empty() -> Self {
        Self {
            second: u64::MAX,
            count: 0,
            errors: 0,
            buckets: Box::new([0; BUCKETS]),
        }
    }
}

/// Maps a latency in µs to its bucket: exact below 4 µs, then four buckets per power of two.
fn bucket_of(micros: u64) -> usize {
    if micros < 4 {
        return micros as usize;
    }
    let exponent = 63 - micros.leading_zeros() as usize;
    let quarter = ((micros >> (exponent - 2)) & 3) as usize;
    (4 * (exponent - 1) + quarter).min(BUCKETS - 1)
}

/// The largest latency (µs) a bucket holds, reported as the percentile so it never flatters.
fn upper_bound(bucket: usize) -> u64 {
    if bucket < 4 {
        return bucket as u64;
    }
    let exponent = bucket / 4 + 1;
    let quarter = (bucket % 4) as u64;
    ((4 + quarter + 1) << (exponent - 2)) - 1
}

/// What the status page shows for one route.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RouteLoad {
    /// `GET /blog/id/:id`, or a label such as `(unmatched)`.
    pub route: String,
    /// Requests in the window.
    pub requests: u64,
    /// Answers with a 5xx status in the window.
    pub errors: u64,
    /// Requests per second over the window.
    pub rate: f64,
    /// 99th percentile latency in milliseconds (upper edge of its bucket).
    pub p99_ms: f64,
}

/// Rolling windows of every route the bridge answered.
pub struct Windows {
    epoch: Instant,
    /// Method, then route template, then the ring of slots.
    routes: Mutex<HashMap<String, HashMap<String, Vec<Slot>>>>,
}

impl Default for Windows {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            routes: Mutex::new(HashMap::new()),
        }
    }
}

impl Windows {
    /// Records one answered request; allocates only the first time a route is seen.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let second = self.epoch.elapsed().as_secs();
        let Ok(mut methods) = self.routes.lock() else {
            return;
        };
        let routes = match methods.get_mut(method) {
            Some(routes) => routes,
            None => methods.entry(method.to_owned()).or_default(),
        };
        let slots = match routes.get_mut(route) {
            Some(slots) => slots,
            None => routes
                .entry(route.to_owned())
                .or_insert_with(|| vec![Slot::empty(); WINDOW_SECS as usize]),
        };
        let slot = &mut slots[(second % WINDOW_SECS) as usize];
        if slot.second != second {
            *slot = Slot {
                second,
                ..Slot::empty()
            };
        }
        slot.count += 1;
        slot.errors += u32::from(status >= 500);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        slot.buckets[bucket_of(micros)] += 1;
    }

    /// Rate and p99 of every route with requests in the window, busiest first.
    pub fn snapshot(&self) -> Vec<RouteLoad> {
        let now = self.epoch.elapsed().as_secs();
        // A bridge younger than the window divides by the seconds it has been up, not by ten.
        let span = (now + 1).min(WINDOW_SECS) as f64;
        let Ok(methods) = self.routes.lock() else {
            return Vec::new();
        };
        let mut loads: Vec<RouteLoad> = methods
            .iter()
            .flat_map(|(method, routes)| {
                routes
                    .iter()
                    .map(move |(route, slots)| (method, route, slots))
            })
            .filter_map(|(method, route, slots)| {
                let mut merged = [0u64; BUCKETS];
                let (mut requests, mut errors) = (0u64, 0u64);
                for slot in slots
                    .iter()
                    .filter(|s| s.second <= now && now - s.second < WINDOW_SECS)
                {
                    requests += u64::from(slot.count);
                    errors += u64::from(slot.errors);
                    for (sum, n) in merged.iter_mut().zip(slot.buckets.iter()) {
                        *sum += u64::from(*n);
                    }
                }
                (requests > 0).then(|| RouteLoad {
                    route: format!("{method} {route}"),
                    requests,
                    errors,
                    rate: requests as f64 / span,
                    p99_ms: p99(&merged, requests) as f64 / 1000.0,
                })
            })
            .collect();
        loads.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.route.cmp(&b.route)));
        loads
    }
}

/// The bucket bound below which 99% of `total` observations fall.
fn p99(buckets: &[u64; BUCKETS], total: u64) -> u64 {
    let rank = (total * 99).div_ceil(100).max(1);
    let mut seen = 0;
    for (bucket, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return upper_bound(bucket);
        }
    }
    upper_bound(BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_latency_falls_in_a_bucket_whose_bound_covers_it() {
        for micros in [0, 1, 3, 4, 5, 7, 8, 100, 999, 1000, 65_535, 1 << 30] {
            let bound = upper_bound(bucket_of(micros));
            assert!(bound >= micros, "{micros} -> {bound}");
            assert!(
                bound as f64 <= (micros as f64 * 1.25).max(3.0),
                "{micros} -> {bound}"
            );
        }
    }

    #[test]
    fn p99_and_rate_reflect_what_was_observed() {
        let windows = Windows::default();
        for _ in 0..99 {
            windows.observe("GET", "/a", 200, Duration::from_micros(500));
        }
        windows.observe("GET", "/a", 503, Duration::from_millis(40));
        windows.observe("GET", "/b", 200, Duration::from_millis(1));

        let loads = windows.snapshot();

        assert_eq!(loads[0].route, "GET /a");
        assert_eq!(loads[0].requests, 100);
        assert_eq!(loads[0].errors, 1);
        assert!(
            loads[0].p99_ms >= 0.5 && loads[0].p99_ms < 0.63,
            "{loads:?}"
        );
        assert!(loads[0].rate >= 10.0, "{loads:?}");
        assert_eq!(loads[1].route, "GET /b");
    }
}
