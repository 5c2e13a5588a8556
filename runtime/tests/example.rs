//! `examples/greeter.rs` is what the README shows, and it works: the built example, started against
//! a private nats-server, answers real requests and drains on SIGTERM.

use std::path::{Path, PathBuf};
use std::time::Duration;

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

#[tokio::test]
async fn the_example_serves_its_handlers_and_drains_on_sigterm() {
    let world = World::start().await;
    let greeter = Process::spawn(
        "greeter",
        &mut world.command(harness::example("greeter", &source())),
    );
    world.wait_for_service("greeter").await;

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
    let (code, _) = greeter.stop(Duration::from_secs(10)).await;
    assert_eq!(code, Some(0), "drained and exited on SIGTERM");
}
