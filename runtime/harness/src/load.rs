//! A closed-loop NATS load generator shared by every benchmark, so their figures compare.

use std::time::{Duration, Instant};

use bytes::Bytes;

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Successful round trips.
    pub ok: u64,
    /// Round trips that failed (error reply, timeout, no responders).
    pub errors: u64,
    /// How long the run took.
    pub elapsed: Duration,
    /// Median round-trip latency.
    pub p50: Duration,
    /// 99th-percentile round-trip latency.
    pub p99: Duration,
}

impl LoadReport {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs  ({} ok, {} errors)",
            self.rps(),
            self.p50.as_secs_f64() * 1e6,
            self.p99.as_secs_f64() * 1e6,
            self.ok,
            self.errors
        )
    }
}

/// Sends requests from `workers` concurrent loops for `duration`, each waiting for its reply.
pub async fn nats_load(
    client: &async_nats::Client,
    subject: &str,
    headers: async_nats::HeaderMap,
    payload: Bytes,
    workers: usize,
    duration: Duration,
) -> LoadReport {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let client = client.clone();
        let subject = subject.to_owned();
        let headers = headers.clone();
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let request = async_nats::Request::new()
                    .headers(headers.clone())
                    .payload(payload.clone())
                    .timeout(Some(Duration::from_secs(5)));
                match client.send_request(subject.clone(), request).await {
                    Ok(reply) if is_success(&reply) => latencies.push(sent.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (mut l, e) = task.await.expect("load worker does not panic");
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    LoadReport {
        ok: latencies.len() as u64,
        errors,
        elapsed,
        p50: percentile(0.50),
        p99: percentile(0.99),
    }
}

fn is_success(reply: &async_nats::Message) -> bool {
    reply.status.is_none_or(|s| s.is_success())
        && reply
            .headers
            .as_ref()
            .is_none_or(|h| h.get("Nats-Service-Error-Code").is_none())
}
