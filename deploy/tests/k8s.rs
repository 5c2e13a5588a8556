//! The Kubernetes overlays agree with the binaries they run: commands, env names, probes,
//! ports, drain timing, replica counts, and the NATS and Kong configs they embed.

use std::collections::BTreeSet;

use clap::{Args, CommandFactory};
use deploy_manifests::{named, of_kind, overlays, render, repo_root};
use serde_json::Value;

/// Env read by the tracing subscriber, not by clap.
const LOGGING_ENV: &[&str] = &["RUST_LOG"];

/// Every env name and long flag the binary `name` accepts, from its clap definition.
fn accepted(name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let command = match name {
        "auth" => {
            auth::Settings::augment_args(runtime::Config::augment_args(clap::Command::new("auth")))
        }
        "blog" => {
            blog::Settings::augment_args(runtime::Config::augment_args(clap::Command::new("blog")))
        }
        "http-bridge" => http_bridge::Config::command(),
        other => panic!("manifests run an unknown binary '{other}'"),
    };
    let envs = command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .chain(LOGGING_ENV.iter().map(|e| (*e).to_owned()))
        .collect();
    let flags = command
        .get_arguments()
        .filter_map(|arg| arg.get_long())
        .map(|long| format!("--{long}"))
        .collect();
    (envs, flags)
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?
        .get("value")?
        .as_str()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn app_containers(objects: &[Value]) -> Vec<(&str, &Value, &Value)> {
    of_kind(objects, "Deployment")
        .into_iter()
        .filter(|d| d["metadata"]["labels"]["app.kubernetes.io/component"] == "function")
        .map(|d| {
            let pod = &d["spec"]["template"]["spec"];
            let container = pod["containers"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["name"] == "app"))
                .expect("function Deployments name their container 'app'");
            (
                d["metadata"]["name"].as_str().expect("name"),
                pod,
                container,
            )
        })
        .collect()
}

#[test]
fn every_function_runs_a_binary_of_the_image_with_env_it_accepts() {
    for overlay in overlays() {
        let objects = render(&overlay);
        let apps = app_containers(&objects);
        assert_eq!(
            apps.len(),
            4,
            "{overlay}: auth, blog, blog-hot, http-bridge"
        );
        for (name, _, container) in apps {
            assert!(
                container["image"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("nats-blog:")),
                "{overlay}/{name}: runs the platform image, got {}",
                container["image"]
            );
            let command = strings(&container["command"]);
            let binary = command.first().copied().expect("an explicit command");
            let (envs, flags) = accepted(binary);
            for arg in &command[1..] {
                assert!(
                    flags.contains(*arg),
                    "{overlay}/{name}: {binary} has no flag {arg}"
                );
            }
            for env in container["env"].as_array().expect("env") {
                let env = env["name"].as_str().expect("env name");
                assert!(
                    envs.contains(env),
                    "{overlay}/{name}: {binary} reads no env {env}; it reads {envs:?}"
                );
            }
        }
    }
}

#[test]
fn function_probes_run_check_and_termination_outlasts_the_drain() {
    for overlay in overlays() {
        let objects = render(&overlay);
        for (name, pod, container) in app_containers(&objects) {
            let binary = strings(&container["command"])[0];
            let pre_stop: u64 =
                match strings(&container["lifecycle"]["preStop"]["exec"]["command"])[..] {
                    ["sleep", secs] => secs.parse().expect("preStop sleeps whole seconds"),
                    ref other => panic!("{overlay}/{name}: preStop should sleep, got {other:?}"),
                };
            let grace = pod["terminationGracePeriodSeconds"]
                .as_u64()
                .expect("grace set");
            if binary == "http-bridge" {
                let port = env_value(container, "BRIDGE_ADDR")
                    .and_then(|addr| addr.rsplit(':').next())
                    .and_then(|p| p.parse::<u64>().ok())
                    .expect("BRIDGE_ADDR with a port");
                let ports = container["ports"].as_array().expect("ports");
                assert_eq!(ports[0]["containerPort"], port, "{overlay}/{name}: port");
                for probe in ["readinessProbe", "livenessProbe"] {
                    assert_eq!(
                        container[probe]["httpGet"]["path"], "/health",
                        "{overlay}/{name} {probe}"
                    );
                }
                let timeout_secs = env_value(container, "BRIDGE_TIMEOUT_MS")
                    .and_then(|ms| ms.parse::<u64>().ok())
                    .expect("BRIDGE_TIMEOUT_MS")
                    .div_ceil(1000);
                assert!(
                    grace > pre_stop + timeout_secs + 1,
                    "{overlay}/{name}: {grace} s cannot hold preStop {pre_stop} s + {timeout_secs} s of requests"
                );
                continue;
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                assert_eq!(
                    strings(&container[probe]["exec"]["command"]),
                    vec![binary, "--check"],
                    "{overlay}/{name} {probe}"
                );
            }
            let drain: u64 = env_value(container, "DRAIN_GRACE_SECS")
                .expect("DRAIN_GRACE_SECS set so it matches the pod's grace")
                .parse()
                .expect("whole seconds");
            assert!(
                grace > pre_stop + drain && grace <= pre_stop + drain + 5,
                "{overlay}/{name}: terminationGracePeriodSeconds {grace} should just exceed preStop {pre_stop} + drain {drain}"
            );
        }
    }
}

#[test]
fn hot_replicas_serve_only_blog_reads_and_every_function_has_a_budget_and_autoscaler() {
    for overlay in overlays() {
        let objects = render(&overlay);
        let hot = named(&objects, "Deployment", "blog-hot");
        let only =
            env_value(&hot["spec"]["template"]["spec"]["containers"][0], "ONLY").expect("ONLY");
        assert_eq!(only, "blog.list.*,blog.get.*");
        for (name, pod, _) in app_containers(&objects) {
            named(&objects, "PodDisruptionBudget", name);
            let hpa = named(&objects, "HorizontalPodAutoscaler", name);
            assert_eq!(
                hpa["spec"]["metrics"][0]["resource"]["name"], "cpu",
                "{overlay}/{name}"
            );
            let replicas = named(&objects, "Deployment", name)["spec"]["replicas"]
                .as_u64()
                .expect("replicas");
            assert_eq!(
                hpa["spec"]["minReplicas"].as_u64(),
                Some(replicas),
                "{overlay}/{name}: HPA floor"
            );
            assert_eq!(
                pod["topologySpreadConstraints"][0]["topologyKey"], "kubernetes.io/hostname",
                "{overlay}/{name}: spread across nodes"
            );
            let resources = &pod["containers"][0]["resources"];
            assert!(
                resources["requests"]["cpu"].is_string()
                    && resources["limits"]["memory"].is_string()
            );
        }
    }
}

#[test]
fn prod_runs_a_three_node_nats_cluster_every_client_lists() {
    let objects = render("prod");
    let replicas = |kind, name| named(&objects, kind, name)["spec"]["replicas"].as_u64();
    assert_eq!(replicas("StatefulSet", "nats"), Some(3));
    for (name, count) in [
        ("auth", 2),
        ("blog", 3),
        ("blog-hot", 2),
        ("http-bridge", 2),
        ("kong", 2),
    ] {
        assert_eq!(replicas("Deployment", name), Some(count), "{name}");
    }
    let nats = named(&objects, "StatefulSet", "nats");
    assert_eq!(
        strings(&nats["spec"]["template"]["spec"]["containers"][0]["args"]),
        ["--config", "/etc/nats/cluster.conf"]
    );
    let config = named(
        &objects,
        "ConfigMap",
        &config_map_name(&objects, "nats-config"),
    );
    let cluster =
        std::fs::read_to_string(repo_root().join("nats/cluster.conf")).expect("cluster.conf");
    assert_eq!(config["data"]["cluster.conf"], cluster.as_str());
    assert!(
        config["data"]["permissions.conf"].is_string(),
        "permissions.conf is included"
    );
    for (name, _, container) in app_containers(&objects) {
        let urls: Vec<&str> = env_value(container, "NATS_URL")
            .expect("NATS_URL")
            .split(',')
            .collect();
        assert_eq!(urls.len(), 3, "{name} lists every node");
        for (i, url) in urls.iter().enumerate() {
            assert_eq!(
                *url,
                format!("nats://nats-{i}.nats-headless:4222"),
                "{name}"
            );
            assert!(
                cluster.contains(&format!("nats-route://nats-{i}.nats-headless:6222")),
                "route to nats-{i}"
            );
        }
    }
}

#[test]
fn kong_serves_the_same_kong_yml_and_reaches_the_bridge_service() {
    let kong_yml = std::fs::read_to_string(repo_root().join("kong/kong.yml")).expect("kong.yml");
    for overlay in overlays() {
        let objects = render(&overlay);
        let config = named(
            &objects,
            "ConfigMap",
            &config_map_name(&objects, "kong-config"),
        );
        assert_eq!(config["data"]["kong.yml"], kong_yml.as_str(), "{overlay}");
        let bridge = named(&objects, "Service", "http-bridge");
        assert_eq!(bridge["spec"]["ports"][0]["port"], 8080);
        assert!(
            kong_yml.contains("target: http-bridge:8080"),
            "Kong targets the bridge Service"
        );
    }
}

/// The generated (hash-suffixed) name of a configMapGenerator's ConfigMap.
fn config_map_name(objects: &[Value], prefix: &str) -> String {
    of_kind(objects, "ConfigMap")
        .into_iter()
        .filter_map(|c| c["metadata"]["name"].as_str())
        .find(|n| n.starts_with(&format!("{prefix}-")))
        .unwrap_or_else(|| panic!("no generated ConfigMap {prefix}"))
        .to_owned()
}
