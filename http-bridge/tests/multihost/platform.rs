//! The platform on four hosts made of network namespaces: hosts 0..3 each run a node of a
//! three-node NATS cluster (the shipped users and permissions, JetStream) and one replica of auth
//! and of blog attached to that node; host 3 runs the bridge with every node in its server list.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use harness::netns::{Network, nats_cluster_config, wait_for_routes};
use harness::{Http, Process, Users, binary};
use serde_json::Value;

use crate::common::platform::{Api, functions_env};
use crate::forward::Forwarder;

/// Hosts with a NATS node and the functions.
pub const NODES: usize = 3;
/// The host of the bridge.
const BRIDGE_HOST: usize = NODES;
/// The API key the auth binary seeds.
const KEY: &str = "multihost-key";
/// The functions every node's host runs.
pub const FUNCTIONS: [&str; 2] = ["auth", "blog"];

/// Everything running, stopped and removed on drop (processes first, then the namespaces).
pub struct Platform {
    /// `(function, host)` → its process, while it runs.
    pub functions: BTreeMap<(&'static str, usize), Process>,
    /// Each node's process, while it runs.
    pub nodes: Vec<Option<Process>>,
    bridge: Option<Process>,
    /// A client outside the hosts signed in as `operator`, for `$SRV.STATS`.
    pub operator: async_nats::Client,
    /// The REST API through the bridge's host.
    pub api: Api,
    env: BTreeMap<&'static str, Vec<(&'static str, String)>>,
    grace_secs: u64,
    users: Users,
    dir: PathBuf,
    _forwarder: Forwarder,
    /// The hosts.
    pub network: Network,
}

impl Platform {
    /// Starts the cluster, the functions (draining for `grace_secs` on SIGTERM) and the bridge;
    /// returns once the bridge routes to both functions and every replica answers STATS.
    pub async fn start(grace_secs: u64) -> Self {
        let network = Network::create(NODES + 1).unwrap_or_else(|err| {
            panic!("cannot make hosts from network namespaces (needs root and netns): {err}")
        });
        let dir = std::env::temp_dir().join(harness::unique_name("multihost"));
        std::fs::create_dir_all(&dir).expect("config dir");
        let users = Users::write(&dir);
        let mut forwarder = Forwarder::on(network.gateway());
        let env = functions_env(KEY)
            .into_iter()
            .map(|(name, env)| {
                let env = env
                    .into_iter()
                    .map(|(k, v)| (k, direct(&forwarder.reroute(&v))))
                    .collect();
                (name, env)
            })
            .collect();
        let bridge_addr: SocketAddr = format!("{}:8080", network.host(BRIDGE_HOST).addr)
            .parse()
            .expect("bridge address");
        let nodes: Vec<Option<Process>> = (0..NODES)
            .map(|i| Some(spawn_node(&network, &dir, &users, i)))
            .collect();
        wait_for_cluster(&network);
        let operator = users
            .options_for("operator")
            .connect(
                (0..NODES)
                    .map(|i| node_url(&network, i).parse().expect("server address"))
                    .collect::<Vec<async_nats::ServerAddr>>(),
            )
            .await
            .expect("operator connects to the cluster");
        let mut platform = Self {
            functions: BTreeMap::new(),
            nodes,
            bridge: None,
            operator,
            api: Api {
                http: Http::new(),
                bridge: bridge_addr,
                key: KEY,
            },
            env,
            grace_secs,
            users,
            dir,
            _forwarder: forwarder,
            network,
        };
        // One host first: its auth migrates and seeds alone.
        for name in FUNCTIONS {
            platform.start_function(name, 0);
        }
        platform.bridge = Some(platform.spawn_bridge());
        platform.wait_for_bridge().await;
        crate::common::wait_for_route(&platform.api.http, bridge_addr, "/auth/signup/basic").await;
        for i in 1..NODES {
            for name in FUNCTIONS {
                platform.start_function(name, i);
            }
        }
        platform.wait_for_replicas(NODES).await;
        platform
    }

    /// Starts host `i`'s node again (after [`Platform::take_node`]) and waits for the full mesh.
    pub fn restart_node(&mut self, i: usize) {
        self.nodes[i] = Some(spawn_node(&self.network, &self.dir, &self.users, i));
        wait_for_cluster(&self.network);
    }

    /// Host `i`'s node, taken out to be stopped.
    pub fn take_node(&mut self, i: usize) -> Process {
        self.nodes[i].take().expect("node is running")
    }

    /// Starts `name` on host `i`, attached to that host's node.
    pub fn start_function(&mut self, name: &'static str, i: usize) {
        let mut env = self.env[name].clone();
        env.extend(self.users.env_for(name, &node_url(&self.network, i)));
        env.push(("EVENTS_STREAM_REPLICAS", NODES.to_string()));
        env.push(("DRAIN_GRACE_SECS", self.grace_secs.to_string()));
        let log = log(&self.dir, &format!("{name}{i}"));
        let process = Process::spawn(
            name,
            self.network
                .host(i)
                .command(&binary(name).display().to_string())
                .envs(env)
                .stdout(log.try_clone().expect("log file"))
                .stderr(log),
        );
        self.functions.insert((name, i), process);
    }

    /// `name`'s process on host `i`, taken out to be stopped.
    pub fn take_function(&mut self, name: &'static str, i: usize) -> Process {
        self.functions
            .remove(&(name, i))
            .unwrap_or_else(|| panic!("{name} is not running on host {i}"))
    }

    async fn wait_for_bridge(&self) {
        let start = Instant::now();
        while tokio::net::TcpStream::connect(self.api.bridge)
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the bridge did not listen on {}; logs in {}",
                self.api.bridge,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn spawn_bridge(&self) -> Process {
        let host = self.network.host(BRIDGE_HOST);
        let urls: Vec<String> = (0..NODES).map(|i| node_url(&self.network, i)).collect();
        let log = log(&self.dir, "bridge");
        Process::spawn(
            "http-bridge",
            host.command(&binary("http-bridge").display().to_string())
                .envs(self.users.env_for("bridge", &urls.join(",")))
                .env("BRIDGE_ADDR", self.api.bridge.to_string())
                .env("BRIDGE_DISCOVERY_INTERVAL_MS", "500")
                .env("BRIDGE_DISCOVERY_WINDOW_MS", "500")
                // A request whose replica died with its host fails at this deadline.
                .env("BRIDGE_TIMEOUT_MS", "5000")
                .stdout(log.try_clone().expect("log file"))
                .stderr(log),
        )
    }

    /// Waits until `count` replicas of each function answer `$SRV.STATS`; panics after 60 s.
    pub async fn wait_for_replicas(&self, count: usize) {
        let start = Instant::now();
        for name in FUNCTIONS {
            while self.stats(name).await.len() != count {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "not {count} replicas of {name} answered $SRV.STATS; logs in {}",
                    self.dir.display()
                );
            }
        }
    }

    /// Every replica of `service` and its `$SRV.STATS` reply, gathered for half a second.
    pub async fn stats(&self, service: &str) -> Vec<Value> {
        let client = &self.operator;
        let inbox = client.new_inbox();
        let mut replies = client.subscribe(inbox.clone()).await.expect("subscribe");
        client
            .publish_with_reply(format!("$SRV.STATS.{service}"), inbox, "".into())
            .await
            .expect("publish");
        let mut all = Vec::new();
        let window = tokio::time::sleep(Duration::from_millis(500));
        tokio::pin!(window);
        loop {
            tokio::select! {
                () = &mut window => return all,
                // A "no responders" status before the replicas are up has no body.
                Some(reply) = replies.next() => if !reply.payload.is_empty() {
                    all.push(serde_json::from_slice(&reply.payload).expect("STATS is JSON"));
                }
            }
        }
    }

    /// Requests each replica of `service` has served on `subject`, keyed by the replica's id.
    pub async fn served(&self, service: &str, subject: &str) -> BTreeMap<String, u64> {
        self.stats(service)
            .await
            .iter()
            .map(|stats| {
                let served = stats["endpoints"]
                    .as_array()
                    .expect("endpoints")
                    .iter()
                    .find(|e| e["subject"] == subject)
                    .and_then(|e| e["num_requests"].as_u64())
                    .unwrap_or(0);
                (stats["id"].as_str().expect("id").to_owned(), served)
            })
            .collect()
    }

    /// The host whose node leads `stream`'s replicas, as node `i`'s monitoring port reports it.
    pub fn stream_leader(&self, i: usize, stream: &str) -> Option<usize> {
        let mut http = std::net::TcpStream::connect((self.network.host(i).addr.as_str(), 8222))
            .expect("monitoring port");
        http.write_all(b"GET /jsz?accounts=true&streams=true HTTP/1.0\r\n\r\n")
            .expect("ask /jsz");
        let mut reply = String::new();
        http.read_to_string(&mut reply).expect("read /jsz");
        let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
        let jsz: Value = serde_json::from_str(body).expect("/jsz is JSON");
        let leader = jsz["account_details"]
            .as_array()?
            .iter()
            .flat_map(|account| {
                account["stream_detail"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|detail| detail["name"] == stream)?["cluster"]["leader"]
            .as_str()?
            .to_owned();
        leader.strip_prefix('n')?.parse().ok()
    }

    /// Where the logs are, for failure messages.
    pub fn logs(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Host `i`'s NATS node, on a config written once for it (a restart reuses it and its store).
fn spawn_node(network: &Network, dir: &Path, users: &Users, i: usize) -> Process {
    let config = dir.join(format!("n{i}.conf"));
    if !config.exists() {
        let addrs: Vec<&str> = (0..NODES).map(|n| network.host(n).addr.as_str()).collect();
        let store = dir.join(format!("js{i}"));
        // The shipped server settings that matter here: JetStream on file storage, the users and
        // permissions, and lame duck as `nats/cluster.conf` has it (with a shorter grace).
        let extra = format!(
            "jetstream {{ store_dir: \"{}\" }}\ninclude \"permissions.conf\"\n\
             lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"",
            store.display()
        );
        std::fs::write(&config, nats_cluster_config(i, &addrs, &extra)).expect("write config");
    }
    Process::spawn(
        "nats-server",
        network
            .host(i)
            .command("nats-server")
            .arg("-c")
            .arg(&config)
            .envs(users.server_env())
            .stdout(Stdio::null())
            .stderr(log(dir, &format!("nats{i}"))),
    )
}

fn wait_for_cluster(network: &Network) {
    for i in 0..NODES {
        wait_for_routes(&network.host(i).addr, NODES - 1);
    }
}

/// A log file of `dir`, appended to by each start of the same process.
fn log(dir: &Path, name: &str) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .expect("log file")
}

/// A MongoDB URL that keeps to the forwarder: the server names itself `127.0.0.1:27017` in its
/// replica set, which the driver would switch to and cannot reach from a host.
fn direct(url: &str) -> String {
    match url {
        _ if !url.starts_with("mongodb://") => url.to_owned(),
        _ if url.contains('?') => format!("{url}&directConnection=true"),
        _ => format!("{url}/?directConnection=true"),
    }
}

fn node_url(network: &Network, i: usize) -> String {
    format!("nats://{}:4222", network.host(i).addr)
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.bridge = None;
        self.functions.clear();
        self.nodes.clear();
        // A failed test leaves its logs behind; its message says where.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
