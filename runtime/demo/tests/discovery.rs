//! ADR-32 discovery: PING, INFO and STATS on every subject form, valid against the micro/v1 schemas.

mod common;

use common::{demo, demo_bus, served_subjects};
use harness::World;
use serde_json::Value;

fn validator(name: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/tests/fixtures/micro-v1/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture exists"))
            .expect("fixture is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("fixture is a valid schema")
}

fn assert_valid(validator: &jsonschema::Validator, reply: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(reply)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?} in {reply:#}");
}

#[tokio::test]
async fn every_discovery_subject_answers_with_a_schema_valid_reply() {
    let bus = World::start().await;
    let replica = bus.serve(demo(), &[]).await;

    for (verb, schema) in [
        ("PING", "ping_response"),
        ("INFO", "info_response"),
        ("STATS", "stats_response"),
    ] {
        let validator = validator(schema);
        for subject in [
            format!("$SRV.{verb}"),
            format!("$SRV.{verb}.demo"),
            format!("$SRV.{verb}.demo.{}", replica.id()),
        ] {
            let reply = bus.discover(&subject).await;
            assert_valid(&validator, &reply);
            assert_eq!(reply["id"], replica.id(), "{subject}");
            assert!(reply["metadata"].is_object(), "{subject} carries metadata");
        }
    }
}

#[tokio::test]
async fn info_lists_endpoints_in_subject_order_with_http_metadata() {
    let (bus, _replica) = demo_bus().await;

    let subjects = served_subjects(&bus).await;
    let info = bus.discover("$SRV.INFO.demo").await;
    let endpoints = info["endpoints"].as_array().expect("endpoints");
    let mut sorted = subjects.clone();
    sorted.sort_unstable();

    assert_eq!(subjects, sorted);
    let whoami = endpoints
        .iter()
        .find(|e| e["subject"] == "demo.whoami")
        .expect("whoami listed");
    assert_eq!(whoami["name"], "demo_whoami");
    assert_eq!(whoami["queue_group"], "q");
    assert_eq!(whoami["metadata"]["http.method"], "GET");
    assert_eq!(whoami["metadata"]["http.path"], "/demo/whoami");
    assert_eq!(whoami["metadata"]["roles"], "AUTHOR");
    assert_eq!(whoami["metadata"]["auth"], "bearer");
    assert!(
        whoami["metadata"]["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Who the caller is"))
    );
    let fanout = endpoints
        .iter()
        .find(|e| e["subject"] == "demo.fanout")
        .expect("fanout listed");
    assert!(
        fanout.get("queue_group").is_none(),
        "fan-out endpoint joins no queue group"
    );
}

#[tokio::test]
async fn stats_count_requests_errors_and_processing_time() {
    let (bus, _replica) = demo_bus().await;

    for _ in 0..3 {
        bus.call("demo.echo", r#"{"message":"x"}"#)
            .await
            .expect("echo");
    }
    let _ = bus.call("demo.echo", "not json").await;
    let _ = bus.call("demo.sleep", r#"{"ms": 50}"#).await;

    let stats = bus.discover("$SRV.STATS.demo").await;
    let endpoint = |subject: &str| {
        stats["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .find(|e| e["subject"] == subject)
            .cloned()
            .expect("listed")
    };
    let echo = endpoint("demo.echo");
    let sleep = endpoint("demo.sleep");

    assert_eq!(echo["num_requests"], 4);
    assert_eq!(echo["num_errors"], 1);
    assert!(
        echo["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("400 ")),
        "{echo}"
    );
    assert_eq!(echo["metadata"]["http.path"], "/demo/echo");
    assert!(
        sleep["processing_time"]
            .as_u64()
            .is_some_and(|ns| ns >= 50_000_000),
        "{sleep}"
    );
    assert_eq!(sleep["average_processing_time"], sleep["processing_time"]);
}
