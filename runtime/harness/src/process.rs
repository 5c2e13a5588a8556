//! Child processes that die with the test, the workspace binaries they run, and port helpers.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A port nobody listens on right now (the OS picks it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("the OS hands out a free port")
}

/// Waits until something accepts TCP connections on `port`; panics after `limit`.
pub fn wait_for_port(port: u16, limit: Duration, what: &str) {
    let start = Instant::now();
    // `free_port` hands out ephemeral ports, so a connect to one nobody listens on yet can pick
    // that same port as its source and connect to itself (TCP simultaneous open): not a listener.
    let listening = || {
        TcpStream::connect(("127.0.0.1", port))
            .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok())
    };
    while !listening() {
        assert!(
            start.elapsed() < limit,
            "{what} did not listen on 127.0.0.1:{port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed when dropped, so a failing test leaves nothing behind.
#[derive(Debug)]
pub struct Process {
    child: Option<Child>,
    name: String,
}

impl Process {
    /// Spawns `command`, panicking with its name if it cannot start.
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {name} ({command:?}): {err}"));
        Self {
            child: Some(child),
            name: name.to_owned(),
        }
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .expect("process is running")
    }

    /// Sends SIGTERM, as an orchestrator would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill is available");
        assert!(status.success(), "cannot signal {}", self.name);
    }

    /// Waits for the process to exit and returns its exit code (None if killed by a signal).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let child = self.child.as_mut().expect("process is running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("can poll child") {
                self.child = None;
                return status.code();
            }
            assert!(
                start.elapsed() < limit,
                "{} did not exit within {limit:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the exit without blocking the async runtime; the exit code (None if killed by a
    /// signal). Panics after `limit`.
    pub async fn exited(mut self, limit: Duration) -> Option<i32> {
        tokio::task::spawn_blocking(move || self.wait_exit(limit))
            .await
            .expect("the waiting thread does not panic")
    }

    /// Sends SIGTERM, as an orchestrator would, and waits for the exit: its code and how long it
    /// took from the signal. Panics after `limit`.
    pub async fn stop(self, limit: Duration) -> (Option<i32>, Duration) {
        let asked = Instant::now();
        self.terminate();
        let code = self.exited(limit).await;
        (code, asked.elapsed())
    }

    /// Kills the process at once.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A workspace binary next to the running test executable (`target/<profile>/<name>`); panics,
/// naming the build command, when it is missing.
///
/// `cargo test --workspace` builds every binary before it runs a test; a test run alone says what
/// to build rather than skip.
pub fn binary(name: &str) -> PathBuf {
    let path = profile_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --bin {name}` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// An example next to the running test executable (`target/<profile>/examples/<name>`), built from
/// `source`; panics, naming the build command, when it is missing or older than its source.
///
/// `cargo test -p <crate>` builds the crate's examples before it runs a test.
pub fn example(name: &str, source: &Path) -> PathBuf {
    let path = profile_dir().join("examples").join(name);
    let built = std::fs::metadata(&path).and_then(|m| m.modified());
    let written = std::fs::metadata(source)
        .and_then(|m| m.modified())
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", source.display()));
    assert!(
        built.is_ok_and(|built| built >= written),
        "{} is missing or older than {}: build it with `cargo build --example {name}` (cargo test does)",
        path.display(),
        source.display()
    );
    path
}

/// `target/<profile>`: test executables run from its `deps` folder.
fn profile_dir() -> PathBuf {
    let test = std::env::current_exe().expect("the test executable's path");
    test.parent()
        .and_then(Path::parent)
        .expect("the test executable sits in target/<profile>/deps")
        .to_path_buf()
}
