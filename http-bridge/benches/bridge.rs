//! The bridge's cost over HTTP: a blog-sized JSON document served through the bridge (HTTP -> NATS ->
//! handler answering from memory -> HTTP) against the same bytes from a bare hyper server (the ceiling)
//! and from that hyper behind nginx (the reverse-proxy path a user would pick instead), all loaded by
//! `wrk` on loopback in one run. `scripts/bench-bridge` runs it in release mode.

#[path = "support/floor.rs"]
mod floor;
#[path = "support/nginx.rs"]
mod nginx;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Instant;

use bytes::Bytes;
use contracts::auth::{ApiKeyInfo, ApiKeyVerifyRequest};
use harness::NatsServer;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use runtime::{ApiError, Encoded, handler};
use serde_json::{Value, json};

const KEY: &str = "bench-key";

fn blog() -> Value {
    json!({
        "_id": "6744b3f0c2a4f1a2b3c4d5e6", "title": "Scaling handlers with NATS queue groups",
        "description": "Start another replica and it shares the load: no configuration, no restart.",
        "text": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(28),
        "slug": "scaling-handlers-with-nats-queue-groups", "imgUrl": "https://example.com/cover.png",
        "tags": ["NATS", "RUST", "SCALING"], "author": {"id": "0f8fad5b-d9cb-469f-a165-70867728950e", "name": "Ada", "profilePicUrl": null},
        "score": 0.01, "publishedAt": "2026-11-24T10:00:00Z"
    })
}

/// Accepts the benchmark's key, as `auth.apikey.verify` would (the bridge caches it after the first call).
#[handler(subject = "auth.apikey.verify")]
async fn verify(
    runtime::Json(input): runtime::Json<ApiKeyVerifyRequest>,
) -> Result<ApiKeyInfo, ApiError> {
    if input.key != KEY {
        return Err(ApiError::Forbidden("unknown key".into()));
    }
    Ok(ApiKeyInfo {
        id: "bench".into(),
        permissions: vec![],
    })
}

static BLOG: std::sync::LazyLock<Encoded<Value>> =
    std::sync::LazyLock::new(|| Encoded::encode(&blog()).expect("json"));

/// A published blog's JSON from memory: what `blog.get.id` does with a warm in-process cache.
#[handler(subject = "bench.blog.get", http = "GET /bench/blog/:id")]
async fn get(runtime::Json(_input): runtime::Json<Value>) -> Result<Encoded<Value>, ApiError> {
    Ok(BLOG.clone())
}

async fn bare_hyper(body: Bytes) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let body = body.clone();
                    async move {
                        let mut response = hyper::Response::new(Full::new(body));
                        response
                            .headers_mut()
                            .insert("content-type", "application/json".parse().expect("header"));
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// (requests/s, p50 ms, p99 ms) from `wrk --latency`.
fn wrk(url: &str) -> (f64, f64, f64) {
    let output = Command::new("wrk")
        .args([
            "-t2",
            "-c32",
            "-d5s",
            "--latency",
            "-H",
            &format!("x-api-key: {KEY}"),
            url,
        ])
        .output()
        .expect("wrk is installed (scripts/bench-bridge installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    let ms = |v: Option<String>| {
        let v = v.unwrap_or_default();
        if let Some(us) = v.strip_suffix("us") {
            us.parse::<f64>().unwrap_or(0.0) / 1000.0
        } else if let Some(ms) = v.strip_suffix("ms") {
            ms.parse().unwrap_or(0.0)
        } else if let Some(s) = v.strip_suffix('s') {
            s.parse::<f64>().unwrap_or(0.0) * 1000.0
        } else {
            0.0
        }
    };
    let rps = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let non_2xx = field("Non-2xx or 3xx responses:");
    assert!(non_2xx.is_none(), "{url} answered errors: {text}");
    (rps, ms(field("50%")), ms(field("99%")))
}

/// The allocator the shipped binaries use, so the benchmark measures what they cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let nats = NatsServer::start();
    let config = runtime::Config::with_nats_url(nats.url());
    let _handlers = runtime::Service::new("bench", "0.1.0")
        .config(config)
        .start(async_nats::connect(nats.url()).await.expect("connect"))
        .await
        .expect("handlers");
    // On worker threads, one per core, as the binary runs it.
    let bridge_config = http_bridge::Config::local(nats.url());
    let workers = bridge_config.worker_count();
    let bridge = http_bridge::Bridge::start_workers(
        bridge_config,
        async_nats::connect(nats.url()).await.expect("connect"),
        workers,
    )
    .await
    .expect("bridge");
    let payload = http_bridge::envelope::success(&serde_json::to_vec(&blog()).expect("json"));
    let ceiling = bare_hyper(payload.clone()).await;
    let through = format!(
        "http://{}/bench/blog/6744b3f0c2a4f1a2b3c4d5e6",
        bridge.addr()
    );
    let bare = format!("http://{ceiling}/bench/blog/6744b3f0c2a4f1a2b3c4d5e6");
    let floor = format!(
        "http://{}/bench/blog/6744b3f0c2a4f1a2b3c4d5e6",
        floor::start(&nats.url(), payload.clone(), workers)
    );
    let started = Instant::now();
    while !matches!(tokio::task::spawn_blocking({ let u = through.clone(); move || Command::new("curl").args(["-fs", "-H", &format!("x-api-key: {KEY}"), &u]).output() }).await, Ok(Ok(o)) if o.status.success())
    {
        assert!(
            started.elapsed().as_secs() < 20,
            "the bridge never routed the benchmark handler"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let proxy = nginx::Nginx::start(ceiling);
    let proxied = format!("http://{}/bench/blog/6744b3f0c2a4f1a2b3c4d5e6", proxy.addr);

    println!(
        "wrk -t2 -c32 -d5s, {} byte responses, 2 alternating rounds",
        payload.len()
    );
    let paths = [
        ("bridge -> NATS -> handler", through.clone()),
        ("nginx -> hyper", proxied),
        ("bare hyper", bare),
        ("floor: hyper -> NATS -> bare", floor),
    ];
    // Per path: summed req/s, and p50 and p99 of each round.
    let mut sums: [(f64, Vec<f64>, Vec<f64>); 4] = Default::default();
    for round in 1..=2 {
        for ((label, url), sum) in paths.iter().zip(sums.iter_mut()) {
            let u = url.clone();
            let (rps, p50, p99) = tokio::task::spawn_blocking(move || wrk(&u))
                .await
                .expect("wrk");
            println!(
                "round {round}  {label:<26} {rps:>9.0} req/s  p50 {p50:.2} ms  p99 {p99:.2} ms"
            );
            sum.0 += rps;
            sum.1.push(p50);
            sum.2.push(p99);
        }
    }
    drop(proxy);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!("mean of the rounds:");
    for ((label, _), (rps, p50, p99)) in paths.iter().zip(sums.iter()) {
        println!(
            "  {label:<26} {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms",
            rps / 2.0,
            mean(p50),
            mean(p99)
        );
    }
    let (a, n, b, f) = (sums[0].0, sums[1].0, sums[2].0, sums[3].0);
    println!(
        "bridge/nginx throughput ratio: {:.3} (aim >= 1.0), p50 {:.2} ms vs {:.2} ms (aim: no higher)",
        a / n,
        mean(&sums[0].1),
        mean(&sums[1].1)
    );
    println!(
        "bridge/bare hyper throughput ratio: {:.3} (aim >= 0.5)",
        a / b
    );
    println!(
        "floor/nginx throughput ratio: {:.3}, p50 {:.2} ms (no bridge on NATS request/reply beats this here); bridge/floor: {:.3}",
        f / n,
        mean(&sums[3].1),
        a / f
    );

    // Where the time goes: the NATS leg alone (same handler, same payload, no HTTP).
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let nats_only = harness::nats_load(
        &client,
        "bench.blog.get",
        Default::default(),
        r#"{"id":"x"}"#.into(),
        32,
        std::time::Duration::from_secs(5),
    )
    .await;
    println!("NATS leg alone (32 requesters)  {nats_only}");
    let (http_us, nats_us, bridged_us) = (2e6 / b, 1e6 / nats_only.rps(), 2e6 / a);
    println!(
        "machine time per request with both cores busy: bare HTTP {http_us:.1} µs + NATS leg {nats_us:.1} µs = {:.1} µs; bridged {bridged_us:.1} µs, so the bridge's own glue costs ~{:.1} µs",
        http_us + nats_us,
        bridged_us - http_us - nats_us
    );
    bridge.shutdown().await;
}
