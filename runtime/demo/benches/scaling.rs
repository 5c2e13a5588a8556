//! Per-handler scaling: throughput of an I/O-bound handler (`demo.store`, a 20 ms call on a pool of
//! 4 connections per replica) with one replica and with two, and the share of reads a replica
//! started with `--only` takes next to a full one. Prints figures; asserts nothing.
//!
//! `cargo bench -p demo --bench scaling` (or `cargo test -p demo --bench scaling` for a quick run).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use harness::{NatsServer, Process, nats_load};
use serde_json::Value;

const WORKERS: usize = 16;
const ROUND: Duration = Duration::from_secs(3);
const PAYLOAD: &str = r#"{"message":"stored"}"#;

fn replica(nats: &NatsServer, only: Option<&str>) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_demo"));
    command
        .env("NATS_URL", nats.url())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null());
    if let Some(only) = only {
        command.args(["--only", only]);
    }
    Process::spawn("demo", &mut command)
}

/// `demo.store` requests served by each running instance, from `$SRV.STATS.demo`.
async fn served(client: &async_nats::Client) -> Vec<u64> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await.expect("subscribe");
    client
        .publish_with_reply("$SRV.STATS.demo", inbox, "".into())
        .await
        .expect("publish");
    let mut counts = Vec::new();
    let window = tokio::time::sleep(Duration::from_millis(300));
    tokio::pin!(window);
    loop {
        tokio::select! {
            () = &mut window => return counts,
            Some(reply) = replies.next() => if !reply.payload.is_empty() {
                let stats: Value = serde_json::from_slice(&reply.payload).expect("JSON");
                let count = stats["endpoints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| e["subject"] == "demo.store")
                    .and_then(|e| e["num_requests"].as_u64())
                    .unwrap_or(0);
                counts.push(count);
            }
        }
    }
}

async fn wait_for(client: &async_nats::Client, instances: usize) {
    let start = Instant::now();
    while served(client).await.len() < instances {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "replicas did not start"
        );
    }
}

#[tokio::main]
async fn main() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let measure = || {
        nats_load(
            &client,
            "demo.store",
            Default::default(),
            PAYLOAD.into(),
            WORKERS,
            ROUND,
        )
    };

    let _first = replica(&nats, None);
    wait_for(&client, 1).await;
    let one = measure().await;
    println!("demo.store, 1 replica:  {one}");

    let _second = replica(&nats, None);
    wait_for(&client, 2).await;
    let two = measure().await;
    println!("demo.store, 2 replicas: {two}");
    println!(
        "scaling 1 -> 2 replicas: {:.2}x (target >= 1.8x)",
        two.rps() / one.rps()
    );
    drop(_second);

    let before = served(&client).await;
    let _hot = replica(&nats, Some("demo.store,demo.echo"));
    wait_for(&client, 2).await;
    let mixed = measure().await;
    let after = served(&client).await;
    let full_share = after.iter().max().copied().unwrap_or(0) - before.iter().sum::<u64>();
    let hot_share = after.iter().min().copied().unwrap_or(0);
    println!("full + --only replica: {mixed}");
    println!(
        "reads served: full replica {full_share}, --only replica {hot_share} ({:.0}% of {})",
        100.0 * hot_share as f64 / (full_share + hot_share) as f64,
        full_share + hot_share
    );
}
