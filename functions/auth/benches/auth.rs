//! Auth hot paths against the runtime's echo baseline, on one private nats-server in one run:
//! `auth.token.verify` and `auth.apikey.verify` with a warm Redis cache, and the argon2-bound
//! `auth.signin.basic`. `scripts/bench-auth` runs it in release mode; the ratios are the result.

use std::time::Duration;

use auth::{AuthState, Settings};
use bytes::Bytes;
use harness::{LoadReport, NatsServer, nats_load};
use serde_json::json;

const WORKERS: usize = 32;
/// Sign-in is CPU-bound on argon2 (19 MiB each): more workers than cores only queue.
const SIGNIN_WORKERS: usize = 4;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;
const API_KEY: &str = "bench-api-key";
const PASSWORD: &str = "bench password";
const ECHO: &str = r#"{"message":"hello, runtime","count":1}"#;

async fn measure(
    client: &async_nats::Client,
    subject: &str,
    payload: &Bytes,
    workers: usize,
) -> LoadReport {
    nats_load(
        client,
        subject,
        Default::default(),
        payload.clone(),
        workers,
        ROUND,
    )
    .await
}

async fn request(
    client: &async_nats::Client,
    subject: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let reply = runtime::request(
        client,
        subject,
        Default::default(),
        serde_json::to_vec(&body).expect("json").into(),
        Duration::from_secs(10),
    )
    .await
    .unwrap_or_else(|err| panic!("{subject} failed: {err:?}"));
    serde_json::from_slice(&reply).expect("json reply")
}

/// The allocator the shipped binaries use, so the benchmark measures what they cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // Log set-up as in a function process, so per-request spans cost what they cost in production.
    runtime::init_logging(runtime::LogFormat::Text);
    let harness::KeyPair { private, public } = harness::rsa_key_pair("auth_bench_keys");
    let mut settings = Settings::local(
        harness::fresh_postgres_database(),
        harness::redis_url(),
        format!("{}:", harness::unique_name("auth_bench")),
        private,
        public,
    );
    settings.seed_api_key = Some(API_KEY.into());
    let argon2 = AuthState::connect(&settings)
        .await
        .expect("auth state")
        .passwords
        .describe();

    // JetStream on, as auth's events and outbox need it.
    let nats = NatsServer::jetstream();
    let demo_side = async_nats::connect(nats.url()).await.expect("connect");
    let auth_side = async_nats::connect(nats.url()).await.expect("connect");
    let load_side = async_nats::connect(nats.url()).await.expect("connect");
    let only = |pattern: &str| runtime::Config {
        only: vec![pattern.into()],
        ..runtime::Config::with_nats_url(nats.url())
    };
    let echo = demo::service(&contracts::GuardSettings::default())
        .config(only("demo.echo"))
        .start(demo_side)
        .await
        .expect("echo starts");
    // As the binary starts it: migrated, seeded, with its outbox relay and guard.
    let auth = auth::connected(&settings, only("auth.>"))
        .await
        .expect("auth state")
        .start(auth_side)
        .await
        .expect("auth starts");

    let signed_up = request(
        &load_side,
        "auth.signup.basic",
        json!({"email": "bench@example.com", "password": PASSWORD, "name": "Bench"}),
    )
    .await;
    let token = signed_up["tokens"]["accessToken"]
        .as_str()
        .expect("access token");
    let payload = |value: serde_json::Value| Bytes::from(serde_json::to_vec(&value).expect("json"));
    let cases = [
        (
            "runtime echo",
            "demo.echo",
            Bytes::from_static(ECHO.as_bytes()),
        ),
        (
            "token verify (warm)",
            "auth.token.verify",
            payload(json!({"accessToken": token})),
        ),
        (
            "apikey verify (warm)",
            "auth.apikey.verify",
            payload(json!({"key": API_KEY})),
        ),
    ];

    // Warm every path (and the Redis cache), then alternate rounds so machine drift hits all alike.
    for (_, subject, body) in &cases {
        measure(&load_side, subject, body, WORKERS).await;
    }
    println!("{WORKERS} concurrent requesters, {ROUNDS} alternating rounds of {ROUND:?}");
    let mut totals = [(0u64, 0f64); 3];
    for round in 1..=ROUNDS {
        for (index, (label, subject, body)) in cases.iter().enumerate() {
            let report = measure(&load_side, subject, body, WORKERS).await;
            println!("round {round}  {label:<22} {report}");
            totals[index].0 += report.ok;
            totals[index].1 += report.elapsed.as_secs_f64();
        }
    }
    let signin_body = payload(json!({"email": "bench@example.com", "password": PASSWORD}));
    let signin = measure(
        &load_side,
        "auth.signin.basic",
        &signin_body,
        SIGNIN_WORKERS,
    )
    .await;
    println!("signin ({SIGNIN_WORKERS} requesters)     {signin}");

    let rps: Vec<f64> = totals.iter().map(|(ok, secs)| *ok as f64 / secs).collect();
    println!(
        "token verify/echo throughput ratio:  {:.3} ({:.0} vs {:.0} req/s; target >= 0.5)",
        rps[1] / rps[0],
        rps[1],
        rps[0]
    );
    println!(
        "apikey verify/echo throughput ratio: {:.3} ({:.0} vs {:.0} req/s)",
        rps[2] / rps[0],
        rps[2],
        rps[0]
    );
    println!(
        "signin/echo throughput ratio:        {:.4} (argon2-bound: {argon2})",
        signin.rps() / rps[0]
    );
    auth.shutdown().await.expect("auth drains");
    echo.shutdown().await.expect("echo drains");
}
