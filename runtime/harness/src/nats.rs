//! A private nats-server per test, for tests that stop or restart it.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Process, free_port, wait_for_port};

/// A nats-server on a free port of 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    process: Process,
    port: u16,
}

impl NatsServer {
    /// Starts `nats-server` (or `$NATS_SERVER_BIN`) and waits until it accepts connections.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts on a given port, e.g. to bring a stopped server back where clients expect it.
    pub fn start_on(port: u16) -> Self {
        let bin = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned());
        let process = Process::spawn(
            "nats-server",
            Command::new(&bin)
                .args(["-a", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(port, Duration::from_secs(10), "nats-server");
        Self { process, port }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server, as a crash would.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}
