//! A redis-server of the test's own, persisting every write, that the test can kill and restart
//! with its data: what a Redis outage looks like to a service that cached in it.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{Process, free_port, wait_for_port};
use crate::stores::unique_name;

/// A private redis-server with `appendonly yes` and `appendfsync always` in a temp dir.
pub struct PrivateRedis {
    process: Option<Process>,
    port: u16,
    dir: PathBuf,
}

impl PrivateRedis {
    /// Starts it on a free port; panics, naming redis-server, when it cannot.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(unique_name("private-redis"));
        std::fs::create_dir_all(&dir).expect("can create the redis dir");
        let mut redis = Self {
            process: None,
            port: free_port(),
            dir,
        };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it at once (SIGKILL): connections drop, nothing is flushed that was not already.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Starts it again (after [`PrivateRedis::kill`]) on the same port with the data it had.
    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir);
        self.process = Some(Process::spawn("redis-server", &mut command));
        wait_for_port(self.port, Duration::from_secs(10), "redis-server");
    }

    /// Runs `redis-cli` against it; its trimmed output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli is available");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
