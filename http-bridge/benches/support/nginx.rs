//! Debian's nginx as a keep-alive reverse proxy, the path a user would pick instead of the bridge:
//! config in a temp dir, started for the benchmark and stopped (SIGQUIT, graceful) when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use harness::{Process, free_port, wait_for_port};

/// A running nginx proxying every path to one upstream.
pub struct Nginx {
    process: Process,
    dir: PathBuf,
    /// Where nginx listens.
    pub addr: SocketAddr,
}

/// `upstream` with `keepalive`, HTTP/1.1 and an empty `Connection` header, so nginx reuses its
/// connections to the upstream instead of opening one per request (the fair set-up).
fn config(dir: &std::path::Path, listen: SocketAddr, upstream: SocketAddr) -> String {
    let dir = dir.display();
    format!(
        r#"daemon off;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    upstream hyper {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://hyper;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
    )
}

impl Nginx {
    /// Writes the config to a fresh temp dir and starts nginx in front of `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let dir = std::env::temp_dir().join(format!("bench-nginx-{}", nuid::next()));
        std::fs::create_dir_all(&dir).expect("nginx temp dir");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(&dir, addr, upstream)).expect("nginx.conf written");
        let process = Process::spawn(
            "nginx",
            Command::new("nginx")
                .arg("-p")
                .arg(&dir)
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(&conf),
        );
        wait_for_port(addr.port(), Duration::from_secs(10), "nginx");
        Self { process, dir, addr }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT lets the master stop its workers; killing the master alone would orphan them.
        let _ = Command::new("kill")
            .args(["-QUIT", &self.process.pid().to_string()])
            .status();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.process.wait_exit(Duration::from_secs(10))
        }));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
