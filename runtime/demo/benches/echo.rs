//! Runtime overhead: round trips/s of the runtime's echo handler against the same echo written on bare
//! async-nats, on one private nats-server in one run; the same echo on three servers started from
//! the shipped `nats/nats.conf` (no users; users and passwords; users with their permissions),
//! service and load client signed in alike, so their ratios are what authentication and the
//! permissions cost; plus the idle memory of a function process.
//!
//! `scripts/bench-runtime` runs it in release mode. Absolute figures on a 2-core machine are noise; the
//! ratio is the result.

use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use harness::{LoadReport, NatsServer, Process, nats_load};

const WORKERS: usize = 32;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 5;
const PAYLOAD: &str = r#"{"message":"hello, runtime","count":1}"#;

/// The baseline: the same typed echo hand-written on async-nats, with no runtime in between.
/// `typed` decodes and re-encodes the JSON like the handler does; otherwise the bytes are copied back.
async fn serve_bare_echo(client: async_nats::Client, subject: &'static str, typed: bool) {
    let mut requests = client
        .queue_subscribe(subject, "q".into())
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    tokio::spawn(async move {
        while let Some(message) = requests.next().await {
            let Some(reply) = message.reply else { continue };
            let payload = if typed {
                match serde_json::from_slice::<demo::Echo>(&message.payload) {
                    Ok(echo) => serde_json::to_vec(&echo).expect("serialises").into(),
                    Err(_) => continue,
                }
            } else {
                message.payload
            };
            let _ = client.publish(reply, payload).await;
        }
    });
}

/// The demo echo under a subject the shipped permissions let `auth` serve and `bridge` call, so the
/// authenticated run measures the same handler code with NATS users and permissions on.
#[runtime::handler(subject = "auth.apikey.verify")]
async fn echo_as_auth(
    runtime::Json(input): runtime::Json<demo::Echo>,
) -> Result<demo::Echo, runtime::ApiError> {
    Ok(input)
}

/// Serves the echo as `auth` on `nats`, as the authenticated comparison runs it.
async fn serve_as_auth(nats: &NatsServer) -> runtime::Running {
    let config = runtime::Config {
        only: vec!["auth.apikey.verify".into()],
        ..runtime::Config::with_nats_url(nats.url())
    };
    runtime::Service::new("auth", "0.1.0")
        .config(config)
        .start(nats.connect_as("auth").await)
        .await
        .expect("echo as auth starts")
}

async fn measure(client: &async_nats::Client, subject: &str) -> LoadReport {
    nats_load(
        client,
        subject,
        Default::default(),
        PAYLOAD.into(),
        WORKERS,
        ROUND,
    )
    .await
}

/// `a`'s throughput over `b`'s: the median of each round's ratio, since both ran back to back in a
/// round and a burst of other load on the machine then skews one round, not the result; plus the
/// ratio of the totals.
fn paired_ratio(rounds: &[[f64; 6]], a: usize, b: usize) -> String {
    let mut ratios: Vec<f64> = rounds.iter().map(|r| r[a] / r[b]).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let total = |i: usize| rounds.iter().map(|r| r[i]).sum::<f64>();
    format!(
        "{median:.3} [{:.3}; {:.0} vs {:.0} req/s]",
        total(a) / total(b),
        total(a) / rounds.len() as f64,
        total(b) / rounds.len() as f64
    )
}

fn idle_rss_kib(nats: &NatsServer) -> u64 {
    let demo = Process::spawn(
        "demo",
        Command::new(env!("CARGO_BIN_EXE_demo"))
            .env("NATS_URL", nats.url())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null()),
    );
    std::thread::sleep(Duration::from_secs(2));
    let status = std::fs::read_to_string(format!("/proc/{}/status", demo.pid())).expect("procfs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

/// The allocator the shipped binaries use, so the benchmark measures what they cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // Log set-up as in a function process, so per-request spans cost what they cost in production.
    runtime::init_logging(runtime::LogFormat::Text);
    let nats = NatsServer::start();
    let server_side = async_nats::connect(nats.url()).await.expect("connect");
    let load_side = async_nats::connect(nats.url()).await.expect("connect");
    let config = runtime::Config {
        only: vec!["demo.echo".into()],
        ..runtime::Config::with_nats_url(nats.url())
    };
    let running = demo::service(&contracts::GuardSettings::default())
        .config(config)
        .start(server_side.clone())
        .await
        .expect("runtime echo starts");
    serve_bare_echo(server_side.clone(), "bare.echo", true).await;
    serve_bare_echo(server_side, "bare.bytes", false).await;

    // The bus's security alone: the same echo on three servers from the shipped config: without
    // users, with users and passwords only, with users and their permissions; every client signs
    // in the same way.
    let shipped_open = NatsServer::shipped_open();
    let users_only = NatsServer::shipped_users_only();
    let secured = NatsServer::secured();
    let open_running = serve_as_auth(&shipped_open).await;
    let users_running = serve_as_auth(&users_only).await;
    let secured_running = serve_as_auth(&secured).await;
    let shipped_open_load = shipped_open.connect_as("bridge").await;
    let users_load = users_only.connect_as("bridge").await;
    let secured_load = secured.connect_as("bridge").await;

    // Warm every path, then alternate rounds so drift on the machine hits all alike.
    let subjects = [
        ("runtime echo", "demo.echo", &load_side),
        ("bare typed echo", "bare.echo", &load_side),
        ("bare byte copy", "bare.bytes", &load_side),
        (
            "echo, shipped open",
            "auth.apikey.verify",
            &shipped_open_load,
        ),
        ("echo, shipped+users", "auth.apikey.verify", &users_load),
        ("echo, shipped+perms", "auth.apikey.verify", &secured_load),
    ];
    let mut rounds = vec![[0f64; 6]; ROUNDS];
    for (_, subject, client) in subjects {
        measure(client, subject).await;
    }
    println!(
        "{WORKERS} concurrent requesters, {ROUNDS} alternating rounds of {ROUND:?}, payload {} bytes",
        PAYLOAD.len()
    );
    for (round, rates) in rounds.iter_mut().enumerate() {
        for (index, (label, subject, client)) in subjects.iter().enumerate() {
            let report = measure(client, subject).await;
            println!("round {}  {label:<18} {report}", round + 1);
            rates[index] = report.ok as f64 / report.elapsed.as_secs_f64();
        }
    }
    let ratio = |a: usize, b: usize| paired_ratio(&rounds, a, b);
    println!(
        "ratios: median of the {ROUNDS} rounds' paired ratios (pooled over all rounds in brackets)"
    );
    println!(
        "runtime/bare typed echo throughput ratio: {} (target >= 0.95)",
        ratio(0, 1)
    );
    println!(
        "runtime/bare byte copy throughput ratio:  {} (the cost of JSON plus the runtime)",
        ratio(0, 2)
    );
    println!(
        "authenticated/unauthenticated runtime echo throughput ratio: {} (target >= 0.95)",
        ratio(4, 3)
    );
    println!(
        "with permissions/unauthenticated runtime echo throughput ratio: {} (users, passwords and least-privilege permissions)",
        ratio(5, 3)
    );
    println!(
        "shipped server (JetStream on, no users)/plain server echo ratio: {} (what the rest of the shipped config costs)",
        ratio(3, 0)
    );
    open_running.shutdown().await.expect("drains");
    users_running.shutdown().await.expect("drains");
    running.shutdown().await.expect("drains");
    secured_running.shutdown().await.expect("drains");

    let rss = idle_rss_kib(&nats);
    println!(
        "idle demo function process: {:.1} MiB resident (target < 20 MiB)",
        rss as f64 / 1024.0
    );
}
