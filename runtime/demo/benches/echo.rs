//! Runtime overhead: round trips/s of the runtime's echo handler against the same echo written on bare
//! async-nats, on one private nats-server in one run; the same echo on a second nats-server with the
//! shipped users and permissions (`nats/nats.conf`), service and load client each signed in as its
//! own user; plus the idle memory of a function process.
//!
//! `scripts/bench-runtime` runs it in release mode. Absolute figures on a 2-core machine are noise; the
//! ratio is the result.

use std::process::{Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use harness::{LoadReport, NatsServer, Process, nats_load};

const WORKERS: usize = 32;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;
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

    let secured = NatsServer::secured();
    let secured_config = runtime::Config {
        only: vec!["auth.apikey.verify".into()],
        ..runtime::Config::with_nats_url(secured.url())
    };
    let secured_running = runtime::Service::new("auth", "0.1.0")
        .config(secured_config)
        .start(secured.connect_as("auth").await)
        .await
        .expect("authenticated echo starts");
    let secured_load = secured.connect_as("bridge").await;

    // Warm every path, then alternate rounds so drift on the machine hits all alike.
    let subjects = [
        ("runtime echo", "demo.echo", &load_side),
        ("bare typed echo", "bare.echo", &load_side),
        ("bare byte copy", "bare.bytes", &load_side),
        ("runtime echo+auth", "auth.apikey.verify", &secured_load),
    ];
    let mut totals = [(0u64, 0f64); 4];
    for (_, subject, client) in subjects {
        measure(client, subject).await;
    }
    println!(
        "{WORKERS} concurrent requesters, {ROUNDS} alternating rounds of {ROUND:?}, payload {} bytes",
        PAYLOAD.len()
    );
    for round in 1..=ROUNDS {
        for (index, (label, subject, client)) in subjects.iter().enumerate() {
            let report = measure(client, subject).await;
            println!("round {round}  {label:<17} {report}");
            totals[index].0 += report.ok;
            totals[index].1 += report.elapsed.as_secs_f64();
        }
    }
    let rps: Vec<f64> = totals.iter().map(|(ok, secs)| *ok as f64 / secs).collect();
    println!(
        "runtime/bare typed echo throughput ratio: {:.3} ({:.0} vs {:.0} req/s; target >= 0.9)",
        rps[0] / rps[1],
        rps[0],
        rps[1]
    );
    println!(
        "runtime/bare byte copy throughput ratio:  {:.3} (the cost of JSON plus the runtime)",
        rps[0] / rps[2]
    );
    println!(
        "authenticated/unauthenticated runtime echo throughput ratio: {:.3} ({:.0} vs {:.0} req/s; target >= 0.95)",
        rps[3] / rps[0],
        rps[3],
        rps[0]
    );
    running.shutdown().await.expect("drains");
    secured_running.shutdown().await.expect("drains");

    let rss = idle_rss_kib(&nats);
    println!(
        "idle demo function process: {:.1} MiB resident (target < 20 MiB)",
        rss as f64 / 1024.0
    );
}
