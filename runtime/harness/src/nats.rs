//! A private nats-server per test, for tests that stop or restart it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Process, free_port, wait_for_port};

/// A nats-server on a free port of 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    process: Process,
    port: u16,
    secrets: Option<PathBuf>,
    scratch: Option<PathBuf>,
    /// What an open server was started with, to start it again the same way.
    args: Vec<String>,
}

/// How much of the shipped `nats/permissions.conf` a server keeps.
#[derive(Debug, Clone, Copy)]
enum Authorization {
    /// No users: any client may connect, with or without credentials.
    None,
    /// The users and their passwords, no permissions.
    UsersOnly,
    /// The shipped file as it is.
    Permissions,
}

/// The users of the shipped `nats/permissions.conf`, with the client name each connects as.
pub const USERS: [(&str, &str); 4] = [
    ("auth", "auth"),
    ("blog", "blog"),
    ("bridge", "http-bridge"),
    ("operator", "operator"),
];

impl NatsServer {
    /// Starts `nats-server` (or `$NATS_SERVER_BIN`) and waits until it accepts connections.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts on a given port, e.g. to bring a stopped server back where clients expect it.
    pub fn start_on(port: u16) -> Self {
        Self::open_on(port, &[])
    }

    /// An open server with JetStream on a fresh store directory, removed on drop.
    pub fn jetstream() -> Self {
        let dir = std::env::temp_dir().join(format!("nats-js-{}", nuid::next()));
        let mut server = Self::jetstream_on(free_port(), &dir);
        server.scratch = Some(dir);
        server
    }

    /// An open server with JetStream on file storage in `store_dir`: start it again on the same
    /// port and directory to restart it with its streams and consumers intact.
    pub fn jetstream_on(port: u16, store_dir: &std::path::Path) -> Self {
        let store = store_dir.display().to_string();
        Self::open_on(port, &["-js", "-sd", &store])
    }

    /// `nodes` open servers joined by routes into one cluster with clustered JetStream, each on
    /// free ports with its own store (removed on drop); start at least 3 so JetStream keeps a
    /// quorum when one is killed.
    pub fn cluster(nodes: usize) -> Vec<Self> {
        let routes: Vec<String> = (0..nodes)
            .map(|_| format!("nats://127.0.0.1:{}", free_port()))
            .collect();
        (0..nodes)
            .map(|i| {
                let others: Vec<&str> = (0..nodes)
                    .filter(|&j| j != i)
                    .map(|j| routes[j].as_str())
                    .collect();
                let others = others.join(",");
                let name = format!("node{i}");
                let dir = std::env::temp_dir().join(format!("nats-js-{}", nuid::next()));
                let store = dir.display().to_string();
                let mut node = Self::open_on(
                    free_port(),
                    &[
                        "-js",
                        "-sd",
                        &store,
                        "--name",
                        &name,
                        "--cluster_name",
                        "harness",
                        "--cluster",
                        &routes[i],
                        "--routes",
                        &others,
                    ],
                );
                node.scratch = Some(dir);
                node
            })
            .collect()
    }

    fn open_on(port: u16, extra: &[&str]) -> Self {
        let bin = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned());
        let process = Process::spawn(
            "nats-server",
            Command::new(&bin)
                .args(["-a", "127.0.0.1", "-p", &port.to_string()])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for_port(port, Duration::from_secs(10), "nats-server");
        Self {
            process,
            port,
            secrets: None,
            scratch: None,
            args: extra.iter().map(|arg| (*arg).to_owned()).collect(),
        }
    }

    /// Starts the shipped `nats/nats.conf` (users and permissions, JetStream) with a fresh
    /// password per user, written to files as a deployment would.
    pub fn secured() -> Self {
        Self::secured_with(&[])
    }

    /// Like [`NatsServer::secured`], with extra config lines (e.g. a `tls { .. }` block).
    pub fn secured_with(extra: &[&str]) -> Self {
        Self::shipped(extra, Authorization::Permissions)
    }

    /// The shipped `nats/nats.conf` with its users and permissions left out: the same server as
    /// [`NatsServer::secured`] otherwise, so a benchmark comparing the two measures authorization alone.
    /// Any credentials are accepted, so [`NatsServer::connect_as`] works on it too.
    pub fn shipped_open() -> Self {
        Self::shipped(&[], Authorization::None)
    }

    /// The shipped `nats/nats.conf` with its users and passwords but no permissions: against
    /// [`NatsServer::shipped_open`] it measures authentication alone, against
    /// [`NatsServer::secured`] what the permissions add.
    pub fn shipped_users_only() -> Self {
        Self::shipped(&[], Authorization::UsersOnly)
    }

    fn shipped(extra: &[&str], authorization: Authorization) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("nats-secured-{}", nuid::next()));
        std::fs::create_dir_all(dir.join("js")).expect("temp dir for nats-server");
        // nats-server resolves includes relative to the including file only: copy the shipped pair.
        copy_shipped("nats.conf", &dir);
        let users = Users::write(&dir);
        match authorization {
            Authorization::Permissions => {}
            Authorization::None => {
                std::fs::write(dir.join("permissions.conf"), "").expect("write permissions.conf");
            }
            Authorization::UsersOnly => {
                let entries: Vec<String> = USERS
                    .iter()
                    .map(|(user, _)| {
                        format!(
                            "{{ user: {user}, password: $NATS_{}_PASSWORD }}",
                            user.to_uppercase()
                        )
                    })
                    .collect();
                let conf = format!("authorization {{ users = [\n{}\n] }}\n", entries.join("\n"));
                std::fs::write(dir.join("permissions.conf"), conf).expect("write permissions.conf");
            }
        }
        let mut conf = String::from("include \"nats.conf\"\n");
        for line in extra {
            conf.push_str(line);
            conf.push('\n');
        }
        std::fs::write(dir.join("server.conf"), conf).expect("write server.conf");
        let bin = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned());
        let mut command = Command::new(&bin);
        command
            .args(["-c"])
            .arg(dir.join("server.conf"))
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-m", "0", "-sd"])
            .arg(dir.join("js"))
            // A pid file of its own, so lame-duck tests can signal it (`nats-server --signal ldm=`).
            .arg("-P")
            .arg(dir.join("nats.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.envs(users.server_env());
        let process = Process::spawn("nats-server", &mut command);
        wait_for_port(port, Duration::from_secs(10), "nats-server (secured)");
        Self {
            process,
            port,
            secrets: Some(dir),
            scratch: None,
            args: Vec::new(),
        }
    }

    /// The password file of `user` on a [`NatsServer::secured`] server.
    pub fn password_file(&self, user: &str) -> PathBuf {
        self.users().password_file(user)
    }

    fn users(&self) -> Users {
        Users {
            dir: self.secrets.clone().expect("a secured() server has users"),
        }
    }

    /// Environment a binary needs to sign in as `user` (`NATS_URL`, `NATS_USER`, `NATS_PASSWORD_FILE`).
    pub fn env_for(&self, user: &str) -> Vec<(&'static str, String)> {
        self.users().env_for(user, &self.url())
    }

    /// Client options signed in as `user`, with that user's inbox prefix.
    pub fn options_for(&self, user: &str) -> async_nats::ConnectOptions {
        self.users().options_for(user)
    }

    /// A client signed in as `user`.
    pub async fn connect_as(&self, user: &str) -> async_nats::Client {
        self.options_for(user)
            .connect(self.url())
            .await
            .unwrap_or_else(|err| panic!("cannot connect as {user}: {err}"))
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

    /// Kills a [`NatsServer::jetstream`] server and starts it again on its port and store, as a
    /// crash and a supervisor's restart would: streams and KV buckets survive, connections do not.
    pub fn crash_and_restart(&mut self) {
        self.process.kill();
        self.restart();
    }

    /// Starts an open server again after [`kill`](Self::kill), on its port and with its
    /// arguments (a [`NatsServer::jetstream`] server keeps its store, a cluster node its routes).
    pub fn restart(&mut self) {
        assert!(
            self.secrets.is_none(),
            "restart starts open servers only; a secured one would come back open"
        );
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        // The new server's value owns no directory, so dropping it (with the dead process) is safe.
        let mut restarted = Self::open_on(self.port, &args);
        std::mem::swap(&mut self.process, &mut restarted.process);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        for dir in self.secrets.iter().chain(&self.scratch) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The shipped users with a fresh password each, in files of one directory as a deployment
/// mounts them: for servers started by hand, such as the nodes of a cluster.
#[derive(Debug, Clone)]
pub struct Users {
    dir: PathBuf,
}

impl Users {
    /// Writes a fresh password file per user and the shipped `permissions.conf` into `dir`, so a
    /// config there can `include "permissions.conf"`.
    pub fn write(dir: &Path) -> Self {
        copy_shipped("permissions.conf", dir);
        for (user, _) in USERS {
            std::fs::write(
                dir.join(format!("{user}.password")),
                nuid::next().to_string(),
            )
            .expect("write password file");
        }
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The environment nats-server resolves the passwords of `permissions.conf` from.
    pub fn server_env(&self) -> Vec<(String, String)> {
        USERS
            .iter()
            .map(|(user, _)| {
                let password =
                    std::fs::read_to_string(self.password_file(user)).expect("password file");
                // nats-server parses a variable's value as config: quoted, it is always a string.
                (
                    format!("NATS_{}_PASSWORD", user.to_uppercase()),
                    format!("\"{password}\""),
                )
            })
            .collect()
    }

    /// The password file of `user`.
    pub fn password_file(&self, user: &str) -> PathBuf {
        assert!(
            USERS.iter().any(|(u, _)| *u == user),
            "no NATS user '{user}'"
        );
        self.dir.join(format!("{user}.password"))
    }

    /// Environment a binary needs to sign in as `user` on `urls` (`NATS_URL`, `NATS_USER`,
    /// `NATS_PASSWORD_FILE`).
    pub fn env_for(&self, user: &str, urls: &str) -> Vec<(&'static str, String)> {
        vec![
            ("NATS_URL", urls.to_owned()),
            ("NATS_USER", user.to_owned()),
            (
                "NATS_PASSWORD_FILE",
                self.password_file(user).display().to_string(),
            ),
        ]
    }

    /// Client options signed in as `user`, with that user's inbox prefix.
    pub fn options_for(&self, user: &str) -> async_nats::ConnectOptions {
        let (_, client) = USERS
            .iter()
            .find(|(u, _)| *u == user)
            .unwrap_or_else(|| panic!("no NATS user '{user}'"));
        let password = std::fs::read_to_string(self.password_file(user)).expect("password file");
        async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password)
            .name(*client)
            .custom_inbox_prefix(format!("_INBOX.{client}"))
    }
}

fn copy_shipped(file: &str, dir: &Path) {
    std::fs::copy(workspace_root().join("nats").join(file), dir.join(file))
        .unwrap_or_else(|err| panic!("cannot copy nats/{file}: {err}"));
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("runtime/harness sits two levels below the workspace root")
        .to_path_buf()
}
