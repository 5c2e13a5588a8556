//! `examples/greeter.rs` is what the README shows, and it works: the built example, started against
//! a private nats-server, answers real requests and drains on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{Process, World, assert_error};
use serde_json::json;

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/greeter.rs")
}

#[test]
fn the_readme_shows_the_example_verbatim() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&readme).expect("README.md is readable");
    let example = std::fs::read_to_string(source()).expect("the example is readable");

    assert!(
        readme.contains(&format!("```rust\n{example}```\n")),
        "README.md must show examples/greeter.rs verbatim in a rust block"
    );
}

/// Waits until the service answers its own PING, i.e. every endpoint is subscribed.
async fn wait_until_serving(world: &World, name: &str) {
    let started = Instant::now();
    let subject = format!("$SRV.PING.{name}");
    while world
        .client
        .request(subject.clone(), "".into())
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name} did not answer {subject} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_example_serves_its_handlers_and_drains_on_sigterm() {
    let world = World::start().await;
    let mut greeter = Process::spawn(
        "greeter",
        Command::new(harness::example("greeter", &source()))
            .env("NATS_URL", world.nats.url())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null()),
    );
    wait_until_serving(&world, "greeter").await;

    let hello = world.call("greet.hello", json!({"name": "Ada"})).await;
    let nameless = world.call("greet.hello", json!({"name": " "})).await;
    let count = world.call("greet.count", "").await;
    let info = world.discover("$SRV.INFO.greeter").await;

    assert_eq!(hello, Ok(json!("Hello, Ada!")));
    assert_error(nameless, 400, "name must not be empty");
    assert_eq!(count, Ok(json!(1)), "only the valid greeting counts");
    let routes: Vec<_> = info["endpoints"]
        .as_array()
        .expect("INFO lists endpoints")
        .iter()
        .map(|e| (e["subject"].clone(), e["metadata"]["http.path"].clone()))
        .collect();
    assert_eq!(
        routes,
        [
            (json!("greet.count"), json!("/greet/count")),
            (json!("greet.hello"), json!("/greet/hello"))
        ]
    );
    greeter.terminate();
    assert_eq!(greeter.wait_exit(Duration::from_secs(10)), Some(0));
}
