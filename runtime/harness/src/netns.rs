//! Hosts made of Linux network namespaces on one bridge, for tests of a platform spread over machines.
//!
//! Each host is a namespace with one veth into a Linux bridge and a private address that exists
//! only there; the test process reaches them through the bridge's own address. Everything is
//! created with names unique to the run and removed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A private network of `hosts` namespaces joined by a bridge, removed on drop.
#[derive(Debug)]
pub struct Network {
    bridge: String,
    gateway: String,
    hosts: Vec<Host>,
}

/// One namespace on the network: its own loopback, one interface and one address.
#[derive(Debug)]
pub struct Host {
    /// The namespace's name (`ip netns exec <name>`).
    pub namespace: String,
    /// The host end of its veth pair, on the bridge; downing it cuts the host off.
    pub link: String,
    /// Its address on the network.
    pub addr: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn ip(args: &[&str]) -> Result<(), String> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run ip {args:?} (package iproute2): {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

impl Network {
    /// Creates the bridge and `hosts` namespaces; the error says why the kernel or privileges
    /// refused, so a test can fail with that reason.
    pub fn create(hosts: usize) -> Result<Self, String> {
        let run = std::process::id() % 100_000;
        let seq = NEXT.fetch_add(1, Ordering::Relaxed);
        // Interface names are at most 15 bytes; pid and sequence keep parallel runs apart.
        let tag = format!("{run}{seq}");
        let subnet = format!("10.{}.{}", 100 + (run % 100), (run / 100 + seq * 7) % 250);
        let mut network = Self {
            bridge: format!("nbb{tag}"),
            gateway: format!("{subnet}.1"),
            hosts: Vec::new(),
        };
        ip(&["link", "add", &network.bridge, "type", "bridge"])?;
        ip(&[
            "addr",
            "add",
            &format!("{}/24", network.gateway),
            "dev",
            &network.bridge,
        ])?;
        ip(&["link", "set", &network.bridge, "up"])?;
        for i in 0..hosts {
            let host = Host {
                namespace: format!("nbh{tag}-{i}"),
                link: format!("nbv{tag}h{i}"),
                addr: format!("{subnet}.{}", 11 + i),
            };
            let inner = format!("nbv{tag}n{i}");
            ip(&["netns", "add", &host.namespace])?;
            network.hosts.push(host);
            let host = network.hosts.last().expect("just pushed");
            ip(&[
                "link", "add", &host.link, "type", "veth", "peer", "name", &inner,
            ])?;
            ip(&["link", "set", &inner, "netns", &host.namespace])?;
            ip(&["link", "set", &host.link, "master", &network.bridge])?;
            ip(&["link", "set", &host.link, "up"])?;
            let ns = ["netns", "exec", host.namespace.as_str(), "ip"];
            let inside = |rest: &[&str]| ip(&[&ns[..], rest].concat());
            inside(&["addr", "add", &format!("{}/24", host.addr), "dev", &inner])?;
            inside(&["link", "set", &inner, "up"])?;
            inside(&["link", "set", "lo", "up"])?;
        }
        Ok(network)
    }

    /// The `i`th host.
    pub fn host(&self, i: usize) -> &Host {
        &self.hosts[i]
    }

    /// The bridge's own address: the test process (the root namespace) as every host sees it,
    /// e.g. for a forwarder to servers that listen on the root namespace's loopback only.
    pub fn gateway(&self) -> &str {
        &self.gateway
    }
}

impl Host {
    /// A command that runs `program` inside this host's namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.namespace, program]);
        command
    }

    /// Cuts the host off the network, as a pulled cable would.
    pub fn link_down(&self) {
        ip(&["link", "set", &self.link, "down"]).expect("can down a link we created");
    }

    /// Reconnects the host.
    pub fn link_up(&self) {
        ip(&["link", "set", &self.link, "up"]).expect("can up a link we created");
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for host in &self.hosts {
            let _ = ip(&["link", "del", &host.link]);
            let _ = ip(&["netns", "del", &host.namespace]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}

/// The config of one node of a NATS cluster whose nodes listen on `addrs`; `extra` is appended
/// (e.g. `include "permissions.conf"`) so a secured config can be swapped in.
pub fn nats_cluster_config(node: usize, addrs: &[&str], extra: &str) -> String {
    let routes: Vec<String> = addrs
        .iter()
        .map(|addr| format!("    \"nats-route://{addr}:6222\""))
        .collect();
    format!(
        "server_name: n{node}\nlisten: \"{addr}:4222\"\nhttp: \"{addr}:8222\"\n\
         cluster {{\n  name: \"test\"\n  listen: \"{addr}:6222\"\n  routes: [\n{}\n  ]\n}}\n{extra}\n",
        routes.join("\n"),
        addr = addrs[node],
    )
}

/// Waits until the NATS node whose monitoring port is `addr:8222` reports `routes` routes: the
/// cluster has formed. Panics after 20 s.
pub fn wait_for_routes(addr: &str, routes: usize) {
    let start = Instant::now();
    loop {
        let body = TcpStream::connect((addr, 8222))
            .ok()
            .and_then(|mut stream| {
                stream.write_all(b"GET /routez HTTP/1.0\r\n\r\n").ok()?;
                let mut body = String::new();
                stream.read_to_string(&mut body).ok()?;
                Some(body)
            });
        if body
            .as_ref()
            .is_some_and(|b| b.contains(&format!("\"num_routes\": {routes}")))
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "NATS node {addr} did not join its {routes} routes: {body:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
