//! What the runtime's tests serve: the demo service, on a [`harness::World`].

use runtime::Service;

/// The demo service with a guard that gives up on `auth.token.verify` after a second.
pub fn demo() -> Service {
    let guard = contracts::GuardSettings {
        auth_timeout_ms: 1_000,
        ..contracts::GuardSettings::default()
    };
    demo::service(&guard)
}
