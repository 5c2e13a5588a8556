//! The demo binary as operators run it: `--only`, SIGTERM drain, `--check`, NATS restarts.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{NatsServer, Process};
use serde_json::Value;

fn demo(nats: &NatsServer, args: &[&str]) -> Process {
    Process::spawn(
        "demo",
        Command::new(env!("CARGO_BIN_EXE_demo"))
            .args(args)
            .env("NATS_URL", nats.url())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null()),
    )
}

async fn wait_until_serving(client: &async_nats::Client) {
    let start = Instant::now();
    loop {
        let ping = tokio::time::timeout(
            Duration::from_millis(200),
            client.request("$SRV.PING.demo", "".into()),
        )
        .await;
        if matches!(ping, Ok(Ok(_))) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "demo never answered $SRV.PING"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn endpoints(client: &async_nats::Client) -> Vec<String> {
    let reply = client
        .request("$SRV.INFO.demo", "".into())
        .await
        .expect("INFO answers");
    let info: Value = serde_json::from_slice(&reply.payload).expect("JSON");
    info["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| e["subject"].as_str().expect("subject").to_owned())
        .collect()
}

#[tokio::test]
async fn only_flag_serves_exactly_the_selected_subjects() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let _demo = demo(&nats, &["--only", "demo.echo,demo.s*"]);
    wait_until_serving(&client).await;

    // `demo.s*` is not a NATS pattern for `demo.sleep`/`demo.slow`; only whole-token wildcards match.
    // Fan-out handlers are always served: they keep replica-local state current.
    assert_eq!(endpoints(&client).await, vec!["demo.echo", "demo.fanout"]);
    let err = runtime::request(
        &client,
        "demo.panic",
        Default::default(),
        "{}".into(),
        Duration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), 503, "unselected handler has no responders");
}

#[tokio::test]
async fn only_env_var_selects_with_nats_wildcards() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let _demo = Process::spawn(
        "demo",
        Command::new(env!("CARGO_BIN_EXE_demo"))
            .env("NATS_URL", nats.url())
            .env("ONLY", "demo.sleep,demo.slow,demo.who*")
            .env("RUST_LOG", "warn"),
    );
    wait_until_serving(&client).await;

    assert_eq!(
        endpoints(&client).await,
        vec!["demo.fanout", "demo.sleep", "demo.slow"]
    );
}

#[tokio::test]
async fn sigterm_finishes_in_flight_requests_then_exits_zero() {
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut demo = demo(&nats, &[]);
    wait_until_serving(&client).await;

    let in_flight: Vec<_> = (0..50)
        .map(|i| {
            let client = client.clone();
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
    let code = tokio::task::spawn_blocking(move || demo.wait_exit(Duration::from_secs(10)))
        .await
        .expect("join");
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn sigterm_exits_within_grace_while_nats_is_unreachable() {
    let grace = Duration::from_secs(2);
    for round in 0..3 {
        let mut nats = NatsServer::start();
        let client = async_nats::connect(nats.url()).await.expect("connect");
        let mut demo = Process::spawn(
            "demo",
            Command::new(env!("CARGO_BIN_EXE_demo"))
                .env("NATS_URL", nats.url())
                .env("DRAIN_GRACE_SECS", grace.as_secs().to_string())
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null()),
        );
        wait_until_serving(&client).await;
        // A request in flight that can never be answered: the drain has real work to give up on.
        let pending = client.request("demo.slow", r#"{"ms": 60000}"#.into());
        let _ = tokio::time::timeout(Duration::from_millis(100), pending).await;

        nats.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        demo.terminate();
        let code = tokio::task::spawn_blocking(move || demo.wait_exit(Duration::from_secs(20)))
            .await
            .expect("join");
        let took = asked.elapsed();
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
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let check = |nats: &NatsServer| {
        Command::new(env!("CARGO_BIN_EXE_demo"))
            .arg("--check")
            .env("NATS_URL", nats.url())
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("runs")
    };

    assert!(!check(&nats).success(), "no instance running yet");
    let _demo = demo(&nats, &[]);
    wait_until_serving(&client).await;
    assert!(check(&nats).success(), "instance running");
}

#[tokio::test]
async fn service_reconnects_after_nats_restarts() {
    let mut nats = NatsServer::start();
    let port = nats.port();
    let _demo = demo(&nats, &[]);
    let client = async_nats::connect(nats.url()).await.expect("connect");
    wait_until_serving(&client).await;

    nats.kill();
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
    let nats = NatsServer::start();
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let log = std::env::temp_dir().join(format!("demo-log-{}.jsonl", harness::unique_name("t")));
    let file = std::fs::File::create(&log).expect("log file");
    let mut demo = Process::spawn(
        "demo",
        Command::new(env!("CARGO_BIN_EXE_demo"))
            .env("NATS_URL", nats.url())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stderr(file),
    );
    wait_until_serving(&client).await;

    let mut headers = async_nats::HeaderMap::new();
    headers.insert("X-Request-Id", "req-42");
    let err = runtime::request(
        &client,
        "demo.panic",
        headers,
        "{}".into(),
        Duration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), 500);
    demo.terminate();
    tokio::task::spawn_blocking(move || demo.wait_exit(Duration::from_secs(10)))
        .await
        .expect("join");

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
