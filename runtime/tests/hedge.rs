//! A request safe to run twice survives losing its first copy: to a replica draining under load,
//! or to a subscriber that takes it and never answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use futures::StreamExt;
use harness::World;
use runtime::{ApiError, Json, Service, State, handler, wire};
use serde::Deserialize;
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(2);

/// Answers with what it was sent.
#[handler(subject = "hedge.echo")]
async fn echo(Json(value): Json<Value>) -> Result<Value, ApiError> {
    Ok(value)
}

/// How many times the keyed write really ran.
#[derive(Clone, Default)]
struct Runs(Arc<AtomicU32>);

#[derive(Deserialize)]
struct Slow {
    ms: u64,
}

/// A keyed write slower than the hedge delay.
#[handler(subject = "hedge.slow")]
async fn slow(State(runs): State<Runs>, Json(slow): Json<Slow>) -> Result<Value, ApiError> {
    tokio::time::sleep(Duration::from_millis(slow.ms)).await;
    Ok(json!({"run": runs.0.fetch_add(1, Ordering::SeqCst) + 1}))
}

/// A subscriber that takes the first request on `subject` and drops it, as a draining replica's
/// client does with a message already on its way; it is gone before the second copy goes out.
async fn swallow_first(world: &World, subject: &'static str) -> tokio::task::JoinHandle<()> {
    let client = async_nats::connect(world.nats.url())
        .await
        .expect("connects");
    let mut hole = client
        .queue_subscribe(subject, "hedge".into())
        .await
        .expect("subscribes");
    // Flushing only writes the SUB; a request's answer (here, "no responders") comes after the
    // server has taken it.
    let probe = client.request("hedge.nobody", "".into()).await;
    assert!(probe.is_err(), "nothing serves hedge.nobody");
    tokio::spawn(async move {
        hole.next().await.expect("the first copy arrives");
        hole.unsubscribe().await.expect("unsubscribes");
        client.flush().await.expect("flushes");
    })
}

async fn hedged(
    world: &World,
    subject: &str,
    headers: HeaderMap,
    body: Value,
) -> Result<Value, ApiError> {
    let reply = runtime::request_hedged(
        &world.client,
        subject,
        || headers.clone(),
        body.to_string().into(),
        TIMEOUT,
    )
    .await
    .and_then(runtime::decode)?;
    Ok(serde_json::from_slice(&reply).expect("JSON reply"))
}

#[tokio::test]
async fn a_lost_first_copy_is_answered_by_the_second_within_the_deadline() {
    let world = World::start().await;
    let hole = swallow_first(&world, "hedge.echo").await;
    // The replica subscribes once the hole has the first copy, so only the second can reach it.
    let request = hedged(&world, "hedge.echo", HeaderMap::new(), json!({"n": 1}));
    let started = Instant::now();
    let (reply, running) = tokio::join!(request, async {
        hole.await.expect("the hole took the first copy");
        world
            .serve(Service::new("hedge", "1.0.0"), &["hedge.echo"])
            .await
    });

    let took = started.elapsed();
    assert_eq!(reply, Ok(json!({"n": 1})));
    assert!(
        took >= runtime::hedge_delay(TIMEOUT) && took < TIMEOUT,
        "answered after {took:?}: by the second copy, before the {TIMEOUT:?} deadline"
    );
    running.shutdown().await.expect("drains");
}

#[tokio::test]
async fn without_a_second_copy_the_same_loss_is_a_504_at_the_deadline() {
    let world = World::start().await;
    let hole = swallow_first(&world, "hedge.echo").await;
    let request = runtime::request_message(
        &world.client,
        "hedge.echo",
        HeaderMap::new(),
        "{}".into(),
        TIMEOUT,
    );
    let (reply, running) = tokio::join!(request, async {
        hole.await.expect("the hole took the first copy");
        world
            .serve(Service::new("hedge", "1.0.0"), &["hedge.echo"])
            .await
    });

    assert_eq!(reply.map(|_| ()).map_err(|e| e.code()), Err(504));
    running.shutdown().await.expect("drains");
}

#[tokio::test]
async fn a_second_copy_of_a_slow_keyed_write_waits_for_the_first_and_it_runs_once() {
    let world = World::start().await;
    let runs = Runs::default();
    let running = world
        .serve(
            Service::new("hedge", "1.0.0").state(runs.clone()),
            &["hedge.slow"],
        )
        .await;
    let mut headers = HeaderMap::new();
    headers.insert(wire::IDEMPOTENCY_KEY, "slow-1");
    let slower_than_the_hedge = runtime::hedge_delay(TIMEOUT).as_millis() as u64 + 500;

    let reply = hedged(
        &world,
        "hedge.slow",
        headers,
        json!({"ms": slower_than_the_hedge}),
    )
    .await;

    assert_eq!(reply, Ok(json!({"run": 1})), "the first copy's answer");
    assert_eq!(runs.0.load(Ordering::SeqCst), 1, "the write ran once");
    running.shutdown().await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_draining_one_after_another_under_load_lose_no_hedged_request() {
    let world = Arc::new(World::start().await);
    let only = ["hedge.echo"];
    let mut replica = world.serve(Service::new("hedge", "1.0.0"), &only).await;
    let (answered, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let done = tokio_util::sync::CancellationToken::new();
    let load: Vec<_> = (0..16)
        .map(|n| {
            let (world, answered, failed, done) = (
                world.clone(),
                answered.clone(),
                failed.clone(),
                done.clone(),
            );
            tokio::spawn(async move {
                let mut errors = Vec::new();
                while !done.is_cancelled() {
                    match hedged(&world, "hedge.echo", HeaderMap::new(), json!({"n": n})).await {
                        Ok(reply) if reply == json!({"n": n}) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            errors.push(format!("{other:?}"));
                        }
                    }
                }
                errors
            })
        })
        .collect();

    // Each round a new replica joins and the old one drains while requests keep coming.
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let next = world.serve(Service::new("hedge", "1.0.0"), &only).await;
        replica.shutdown().await.expect("drains");
        replica = next;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    done.cancel();
    let mut errors = Vec::new();
    for task in load {
        errors.extend(task.await.expect("load task"));
    }
    replica.shutdown().await.expect("drains");

    let answered = answered.load(Ordering::Relaxed);
    eprintln!(
        "60 drains under load: {answered} answered, {} failed",
        errors.len()
    );
    assert!(answered > 1_000, "the load ran: {answered} answered");
    assert!(
        errors.is_empty(),
        "requests failed across drains: {errors:#?}"
    );
}
