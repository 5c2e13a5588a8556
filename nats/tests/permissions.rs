//! `nats/permissions.conf` against the handler registry: each function may subscribe to exactly
//! the subjects its handlers serve, and the bridge may publish to exactly the HTTP ones.

use std::path::Path;

use nats_config::{AUTH, BLOG, BRIDGE, OPERATOR, PERMISSIONS_PATH, owner, permissions};

fn linked() {
    // Naming the functions links their handlers into this test binary's registry.
    let services = [auth::service(), blog::service()];
    assert_eq!(services.len(), 2);
}

#[test]
fn permissions_conf_follows_the_handler_registry() {
    linked();
    let expected = nats_config::permissions_conf(runtime::handlers());
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .join(PERMISSIONS_PATH);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &expected).expect("write permissions.conf");
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == expected,
        "{} is out of date with the handlers; regenerate it with \
         `BLESS=1 cargo test -p nats-config --test permissions` and review the diff",
        path.display()
    );
}

#[test]
fn every_handler_belongs_to_a_function_that_may_serve_it() {
    linked();
    for def in runtime::handlers().iter() {
        let user = owner(def).unwrap_or_else(|| {
            panic!("{} ({}) is in no function crate", def.subject, def.location)
        });
        let own = permissions(user, runtime::handlers());
        match def.durable {
            // A durable handler pulls from its consumer and parks failures on its dead-letter subject.
            Some(durable) => assert!(
                own.publish.contains("$JS.API.STREAM.NAMES")
                    && own.publish.contains(&durable.dead_letter_subject()),
                "{} may not consume {} durably",
                user.name,
                def.subject
            ),
            None => assert!(
                own.subscribe.contains(def.subject),
                "{} may not serve {}",
                user.name,
                def.subject
            ),
        }
        assert!(own.responds, "{} may not answer {}", user.name, def.subject);
        if def.subject.contains(".events.") {
            continue; // events fan out to every interested user; only requests have one owner
        }
        for other in [AUTH, BLOG].into_iter().filter(|u| *u != user) {
            let could = permissions(other, runtime::handlers())
                .subscribe
                .into_iter()
                .any(|s| {
                    s == def.subject
                        || (s.ends_with('>') && def.subject.starts_with(s.trim_end_matches('>')))
                });
            assert!(
                !could,
                "{} could serve {}'s {}",
                other.name, user.name, def.subject
            );
        }
    }
}

#[test]
fn the_bridge_may_publish_only_http_subjects_and_discovery() {
    linked();
    let bridge = permissions(BRIDGE, runtime::handlers());
    for subject in &bridge.publish {
        let http = runtime::handlers()
            .iter()
            .any(|d| d.subject == subject && d.http.is_some());
        assert!(
            http || subject == "auth.apikey.verify" || subject == "$SRV.>",
            "the bridge may publish to {subject}, which no handler exposes over HTTP"
        );
    }
    assert!(!bridge.publish.contains("auth.token.verify"));
    assert!(!bridge.responds, "the bridge answers no requests");
    assert!(
        bridge
            .subscribe
            .iter()
            .all(|s| !s.starts_with("auth.") || s.starts_with("auth.events."))
    );
}

#[test]
fn functions_may_answer_discovery_only_under_their_own_name() {
    linked();
    let blog = permissions(BLOG, runtime::handlers());
    assert!(
        !blog
            .subscribe
            .iter()
            .any(|s| s.contains("auth") && s.starts_with("$SRV"))
    );
    assert!(!blog.subscribe.contains("$SRV.>"));
    let operator = permissions(OPERATOR, runtime::handlers());
    assert!(!operator.responds);
    assert!(operator.publish.iter().all(|s| {
        s == "$SRV.>"
            || runtime::handlers()
                .iter()
                .any(|d| d.subject == s && matches!(d.http, Some(("GET", _))))
    }));
}
