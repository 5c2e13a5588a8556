//! The real platform spread over hosts (network namespaces): three hosts each run a node of a
//! NATS cluster on the shipped users and permissions, one auth and one blog replica; a fourth runs
//! the bridge, listing every node. Load comes over HTTP. Measured and asserted: even shares of a
//! steady load, a whole host killed under write load, a rolling restart under load, SIGTERM with
//! the function's node unreachable.
//!
//! Needs root (network namespaces) and `cargo build --bins` (the test says so otherwise); the
//! stores of the root namespace are reached through forwarders on the network's gateway.

#[path = "../common/mod.rs"]
mod common;
mod forward;
mod host_kill;
mod load;
mod platform;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use load::{
    Kind, Load, Target, acknowledged, failures, lost_writes, nats_server_before_2_11, ran_twice,
};
use platform::{FUNCTIONS, NODES, Platform};

/// Writers of the host-kill tests.
const WORKERS: usize = 6;

/// One platform at a time: four at once would be measuring the machine's two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_load_is_served_by_every_blog_replica_in_even_shares() {
    let _serial = SERIAL.lock().await;
    let platform = Platform::start(5).await;
    let target = Target::prepare(&platform.api).await;
    let before = platform.served("blog", "blog.get.id").await;

    let requests = 900;
    let statuses: Vec<_> = futures::stream::iter(0..requests)
        .map(|n| {
            let target = target.clone();
            async move { target.send(Kind::Read, &n.to_string()).await.0 }
        })
        .buffer_unordered(12)
        .collect()
        .await;
    let failed: Vec<_> = statuses.iter().filter(|s| !s.is_success()).collect();
    assert!(
        failed.is_empty(),
        "reads failed under a steady load: {failed:?}"
    );

    let after = platform.served("blog", "blog.get.id").await;
    let shares: Vec<u64> = after
        .iter()
        .map(|(id, n)| n - before.get(id).copied().unwrap_or(0))
        .collect();
    eprintln!("{requests} reads through the bridge, served per blog replica: {shares:?}");
    assert_eq!(shares.len(), NODES, "one blog replica per host: {after:?}");
    assert_eq!(shares.iter().sum::<u64>(), requests as u64, "{shares:?}");
    let mean = requests as f64 / NODES as f64;
    for share in &shares {
        assert!(
            (*share as f64 - mean).abs() <= 0.25 * mean,
            "blog replica shares {shares:?} stray more than 25% from the mean {mean}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_killed_under_write_load_loses_no_acknowledged_write_and_is_back_within_2s() {
    let _serial = SERIAL.lock().await;
    let mut platform = Platform::start(5).await;
    let target = Target::prepare(&platform.api).await;
    // A host that leads none of the idempotency bucket's replicas: JetStream keeps writing.
    let leader = platform.stream_leader(0, "KV_idempotency");
    let host = (0..NODES)
        .rev()
        .find(|i| Some(*i) != leader)
        .expect("a host that does not lead");
    let after = Duration::from_secs(4);
    let report = host_kill::under_write_load(&mut platform, &target, host, WORKERS, after).await;
    eprintln!("host {host} killed (not the bucket's leader, {leader:?}): {report}");
    report.assert_no_acknowledged_write_lost();
    report.assert_failed_only_in_flight(WORKERS);
    report.assert_back_within(Duration::from_secs(2), &platform);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_leading_the_idempotency_bucket_killed_under_write_load_loses_no_acknowledged_write() {
    let _serial = SERIAL.lock().await;
    let mut platform = Platform::start(5).await;
    let target = Target::prepare(&platform.api).await;
    let host = platform
        .stream_leader(0, "KV_idempotency")
        .expect("the bucket has a leader");
    let after = Duration::from_secs(14);
    let report = host_kill::under_write_load(&mut platform, &target, host, WORKERS, after).await;
    eprintln!("host {host} killed (the bucket's leader): {report}");
    report.assert_no_acknowledged_write_lost();
    // Keyed writes wait for the bucket's surviving replicas to elect a leader (nats-server's raft
    // election timeout, 4 to 9 s): measured, and bounded by it.
    report.assert_back_within(Duration::from_secs(12), &platform);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restart_with_lame_duck_nodes_and_drained_functions_fails_no_request() {
    let _serial = SERIAL.lock().await;
    let mut platform = Platform::start(5).await;
    let target = Target::prepare(&platform.api).await;
    let kinds = [Kind::Write, Kind::Write, Kind::Read, Kind::Read];
    let load = Load::start(&target, &kinds);

    // One host at a time: SIGTERM drains its functions, its node goes lame duck (SIGUSR2, what
    // `nats-server --signal ldm` sends) until it exits, then both start again.
    for i in 0..NODES {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for name in FUNCTIONS {
            let (code, _) = platform
                .take_function(name, i)
                .stop(Duration::from_secs(20))
                .await;
            assert_eq!(code, Some(0), "host {i}: drained {name}'s exit status");
        }
        let node = platform.take_node(i);
        let signalled = std::process::Command::new("kill")
            .args(["-USR2", &node.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(signalled.success(), "cannot signal node {i}");
        node.exited(Duration::from_secs(45)).await;
        tokio::task::block_in_place(|| platform.restart_node(i));
        for name in FUNCTIONS {
            platform.start_function(name, i);
        }
        platform.wait_for_replicas(NODES).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let outcomes = load.finish().await;

    let lost = lost_writes(&target, &outcomes).await;
    let mut failed = failures(&outcomes);
    let answered = outcomes.iter().flatten().count();
    eprintln!(
        "rolling restart of {NODES} hosts (lame-duck node, drained functions): {answered} requests, \
         {} failed, {} writes acknowledged, {} lost",
        failed.len(),
        acknowledged(&outcomes).len(),
        lost.len()
    );
    assert!(answered > 0, "the load ran");
    let twice = ran_twice(&outcomes);
    if !twice.is_empty() && nats_server_before_2_11() {
        // Not this platform's to fix: the production images run nats:2.11. Reported, not hidden.
        eprintln!(
            "KNOWN nats-server < 2.11 DEFECT (nats-io/nats-server#6194): {} keyed writes ran twice \
             across an idempotency-bucket leader change: {twice:#?}",
            twice.len()
        );
        failed.retain(|f| !twice.contains(f));
    }
    assert!(
        failed.is_empty(),
        "requests failed; logs in {}: {failed:#?}",
        platform.logs()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_the_functions_nats_node_unreachable_exits_within_grace_on_every_host() {
    let _serial = SERIAL.lock().await;
    let grace = Duration::from_secs(2);
    let mut platform = Platform::start(grace.as_secs()).await;
    let mut took = BTreeMap::new();
    for i in 0..NODES {
        platform.take_node(i).kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stops = FUNCTIONS.map(|name| {
            platform
                .take_function(name, i)
                .stop(Duration::from_secs(20))
        });
        for (name, (code, exited_in)) in
            FUNCTIONS.iter().zip(futures::future::join_all(stops).await)
        {
            assert_eq!(code, Some(0), "{name} on host {i}: exit status");
            took.insert(format!("{name}{i}"), exited_in);
        }
    }
    eprintln!("SIGTERM with the node down, exited after: {took:?} (grace {grace:?})");
    for (function, exited_in) in &took {
        assert!(
            // The runtime stops 200 ms before the grace; the rest covers signal delivery, process
            // teardown and the 20 ms poll.
            *exited_in <= grace + Duration::from_millis(300),
            "{function} exited after {exited_in:?}, past its {grace:?} grace"
        );
    }
}
