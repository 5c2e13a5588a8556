//! The root namespace's stores, reachable from the hosts: PostgreSQL, Redis and the MongoDB-wire
//! server listen on 127.0.0.1 only, which no other namespace can reach.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

/// TCP forwarders from the network's gateway address to loopback ports, on a runtime of their
/// own so a test blocking its thread never stalls a store; stopped on drop.
pub struct Forwarder {
    runtime: Option<tokio::runtime::Runtime>,
    gateway: String,
    /// Loopback port and the gateway address forwarding to it.
    forwarded: Vec<(u16, String)>,
}

const LOOPBACK: &str = "127.0.0.1:";

impl Forwarder {
    /// Forwarders that listen on `gateway` (an address every host reaches).
    pub fn on(gateway: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the forwarders");
        Self {
            runtime: Some(runtime),
            gateway: gateway.to_owned(),
            forwarded: Vec::new(),
        }
    }

    /// `url` with every `127.0.0.1:<port>` in it replaced by a forwarder to that port.
    pub fn reroute(&mut self, url: &str) -> String {
        let (mut out, mut rest) = (String::new(), url);
        while let Some(at) = rest.find(LOOPBACK) {
            out.push_str(&rest[..at]);
            rest = &rest[at + LOOPBACK.len()..];
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let port: u16 = rest[..digits].parse().expect("a port after 127.0.0.1:");
            rest = &rest[digits..];
            out.push_str(&self.forward(port));
        }
        out.push_str(rest);
        out
    }

    /// Forwards a port of the gateway to `127.0.0.1:<port>` (one per target); the `host:port`
    /// the hosts use.
    fn forward(&mut self, port: u16) -> String {
        if let Some((_, addr)) = self.forwarded.iter().find(|(p, _)| *p == port) {
            return addr.clone();
        }
        let listener = std::net::TcpListener::bind((self.gateway.as_str(), 0))
            .unwrap_or_else(|err| panic!("cannot listen on {}: {err}", self.gateway));
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let local: SocketAddr = listener.local_addr().expect("bound address");
        let runtime = self.runtime.as_ref().expect("running");
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).expect("a tokio listener");
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", port)).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        self.forwarded.push((port, local.to_string()));
        local.to_string()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
