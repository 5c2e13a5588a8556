//! kong.yml against the handler registry: every route a handler declares must pass through Kong.

use std::path::Path;

use kong_config::KongConfig;

fn kong() -> KongConfig {
    KongConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("kong.yml"))
        .expect("kong.yml parses")
}

/// `/blog/id/:id` as a client would send it.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with(':') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_handler_route_is_reachable_through_kong() {
    // Naming the functions links their handlers into this test binary's registry.
    let services = [auth::service(), blog::service()];
    assert_eq!(services.len(), 2);
    let kong = kong();

    let declared: Vec<_> = runtime::handlers()
        .iter()
        .filter_map(|def| def.http)
        .collect();
    assert!(
        declared.len() >= 30,
        "expected every auth and blog route, found {}",
        declared.len()
    );
    let missing: Vec<_> = declared
        .iter()
        .filter(|(method, path)| kong.route_for(method, &concrete(path)).is_none())
        .collect();

    assert!(
        missing.is_empty(),
        "handlers not reachable through Kong: {missing:?}"
    );
}

#[test]
fn a_route_kong_does_not_cover_is_detected() {
    let only_auth = KongConfig::parse(
        r#"
_format_version: "3.0"
services:
  - name: auth-api
    host: bridge
    routes:
      - name: auth
        paths: [/auth]
        methods: [GET]
"#,
    )
    .expect("parses");

    assert!(only_auth.route_for("GET", "/auth/profile/mine").is_some());
    assert!(
        only_auth.route_for("POST", "/auth/signup/basic").is_none(),
        "method not listed"
    );
    assert!(
        only_auth.route_for("GET", "/blog/id/x").is_none(),
        "path not listed"
    );
}

#[test]
fn every_service_points_at_the_bridge_upstream_and_keeps_paths() {
    let kong = kong();

    assert_eq!(kong.format_version, "3.0");
    assert!(!kong.services.is_empty());
    for (service, route) in kong.routes() {
        assert!(
            kong.has_upstream(&service.host),
            "service {} points at unknown upstream {}",
            service.name,
            service.host
        );
        assert!(
            !route.strip_path,
            "route {} strips its path; the bridge routes on full paths",
            route.name
        );
    }
}

#[test]
fn only_services_without_writes_are_retried() {
    let kong = kong();

    for (service, route) in kong.routes() {
        let writes = route.methods.is_empty()
            || route
                .methods
                .iter()
                .any(|m| ["POST", "PUT", "DELETE", "PATCH"].contains(&m.as_str()));
        assert!(
            !(writes && service.retries > 0),
            "service {} retries {} times but route {} carries writes",
            service.name,
            service.retries,
            route.name
        );
    }
}
