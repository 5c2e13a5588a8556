//! The demo binary as operators run it: `--only`, SIGTERM drain, `--check`, NATS restarts.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::served_subjects;
use harness::{NatsServer, Process, World};
use serde_json::Value;

/// The demo binary on `world`'s server with `args`.
fn demo(world: &World, args: &[&str]) -> Process {
    let mut command = world.command(env!("CARGO_BIN_EXE_demo"));
    Process::spawn("demo", command.args(args))
}

#[tokio::test]
async fn only_flag_serves_exactly_the_selected_subjects() {
    let world = World::start().await;
    let _demo = demo(&world, &["--only", "demo.echo,demo.s*"]);
    world.wait_for_service("demo").await;

    // `demo.s*` is not a NATS pattern for `demo.sleep`/`demo.slow`; only whole-token wildcards match.
    // Fan-out handlers are always served: they keep replica-local state current.
    assert_eq!(
        served_subjects(&world).await,
        vec!["demo.echo", "demo.fanout"]
    );
    let err = world.call("demo.panic", "{}").await.unwrap_err();
    assert_eq!(err.code(), 503, "unselected handler has no responders");
}

#[tokio::test]
async fn only_env_var_selects_with_nats_wildcards() {
    let world = World::start().await;
    let mut command = world.command(env!("CARGO_BIN_EXE_demo"));
    let _demo = Process::spawn(
        "demo",
        command.env("ONLY", "demo.sleep,demo.slow,demo.who*"),
    );
    world.wait_for_service("demo").await;

    assert_eq!(
        served_subjects(&world).await,
        vec!["demo.fanout", "demo.sleep", "demo.slow"]
    );
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits_zero() {
    let world = World::start().await;
    let demo = demo(&world, &[]);
    world.wait_for_service("demo").await;

    let in_flight: Vec<_> = (0..50)
        .map(|i| {
            let client = world.client.clone();
            tokio::spawn(async move {
                let body = format!(r#"{{"ms": {}}}"#, 400 + i * 4);
                runtime::request(
                    &client,
                    "demo.slow",
                    Default::default(),
                    body.into(),
                    Duration::from_secs(5),
                )
                .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    demo.terminate();

    for reply in futures::future::join_all(in_flight).await {
        let reply = reply
            .expect("task")
            .expect("in-flight request answered despite SIGTERM");
        assert!(serde_json::from_slice::<Value>(&reply).expect("JSON")["ms"].is_u64());
    }
    assert_eq!(demo.exited(Duration::from_secs(10)).await, Some(0));
}

#[tokio::test]
async fn sigterm_exits_within_grace_while_nats_is_unreachable() {
    let grace = Duration::from_secs(2);
    for round in 0..3 {
        let mut world = World::start().await;
        let mut command = world.command(env!("CARGO_BIN_EXE_demo"));
        let demo = Process::spawn(
            "demo",
            command.env("DRAIN_GRACE_SECS", grace.as_secs().to_string()),
        );
        world.wait_for_service("demo").await;
        // A request in flight that can never be answered: the drain has real work to give up on.
        let pending = world.client.request("demo.slow", r#"{"ms": 60000}"#.into());
        let _ = tokio::time::timeout(Duration::from_millis(100), pending).await;

        world.nats.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (code, took) = demo.stop(Duration::from_secs(20)).await;
        assert_eq!(code, Some(0), "round {round}: exit status");
        assert!(
            // The runtime stops 200 ms before the grace; the rest covers signal delivery, process
            // teardown and this 20 ms poll on a machine busy with the other tests.
            took <= grace + Duration::from_millis(300),
            "round {round}: exited after {took:?}, past the {grace:?} grace"
        );
    }
}

#[tokio::test]
async fn function_whose_nats_is_down_at_start_fails_at_once() {
    let port = harness::free_port();
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env("NATS_URL", format!("nats://127.0.0.1:{port}"))
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("runs");
    assert!(!status.success(), "no NATS, no service");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "failed only after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn check_flag_reports_health_by_exit_code() {
    let world = World::start().await;
    let check = || {
        world
            .command(env!("CARGO_BIN_EXE_demo"))
            .arg("--check")
            .env("RUST_LOG", "error")
            .stderr(Stdio::null())
            .status()
            .expect("runs")
    };

    assert!(!check().success(), "no instance running yet");
    let _demo = demo(&world, &[]);
    world.wait_for_service("demo").await;
    assert!(check().success(), "instance running");
}

#[tokio::test]
async fn service_reconnects_after_nats_restarts() {
    let mut world = World::start().await;
    let port = world.nats.port();
    let _demo = demo(&world, &[]);
    world.wait_for_service("demo").await;

    world.nats.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restarted = NatsServer::start_on(port);
    let fresh = async_nats::connect(restarted.url())
        .await
        .expect("connect to restarted server");

    let start = Instant::now();
    loop {
        let reply = runtime::request(
            &fresh,
            "demo.echo",
            Default::default(),
            r#"{"message":"back"}"#.into(),
            Duration::from_secs(1),
        )
        .await;
        if let Ok(body) = reply {
            assert_eq!(
                serde_json::from_slice::<Value>(&body).expect("JSON")["message"],
                "back"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "demo did not come back: {reply:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn json_log_lines_carry_subject_and_request_id() {
    let world = World::start().await;
    let log = std::env::temp_dir().join(format!("demo-log-{}.jsonl", harness::unique_name("t")));
    let file = std::fs::File::create(&log).expect("log file");
    let mut command = world.command(env!("CARGO_BIN_EXE_demo"));
    let demo = Process::spawn(
        "demo",
        command
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stderr(file),
    );
    world.wait_for_service("demo").await;

    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Request-Id", "req-42");
    let err = world
        .call_with("demo.panic", headers, "{}")
        .await
        .unwrap_err();
    assert_eq!(err.code(), 500);
    demo.stop(Duration::from_secs(10)).await;

    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("log written")
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    let failure = lines
        .iter()
        .find(|l| l["message"] == "request failed")
        .expect("the 500 is logged");
    assert_eq!(failure["subject"], "demo.panic");
    assert_eq!(failure["request_id"], "req-42");
    assert!(
        failure["cause"]
            .as_str()
            .is_some_and(|c| c.contains("panicked on purpose")),
        "{failure}"
    );
    let _ = std::fs::remove_file(log);
}
