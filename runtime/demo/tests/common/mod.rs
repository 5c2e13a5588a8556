//! What the runtime's tests serve: the demo service, on a [`harness::World`].

#![allow(dead_code)]

use harness::World;
use runtime::{Running, Service};

/// The demo service with a guard that gives up on `auth.token.verify` after a second.
pub fn demo() -> Service {
    let guard = contracts::GuardSettings {
        auth_timeout_ms: 1_000,
        ..contracts::GuardSettings::default()
    };
    demo::service(&guard)
}

/// A private NATS with one demo replica serving every subject.
pub async fn demo_bus() -> (World, Running) {
    let bus = World::start().await;
    let replica = bus.serve(demo(), &[]).await;
    (bus, replica)
}

/// The subjects the demo service's INFO lists, in its order.
pub async fn served_subjects(world: &World) -> Vec<String> {
    let info = world.discover("$SRV.INFO.demo").await;
    info["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| e["subject"].as_str().expect("subject").to_owned())
        .collect()
}
