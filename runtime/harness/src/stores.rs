//! The machine's PostgreSQL, Redis and MongoDB-wire server, isolated per test.
//!
//! `scripts/dev test` starts any of them that is not running; a test that cannot reach one panics.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn assert_reachable(what: &str, host_port: &str) {
    let addr = host_port
        .parse()
        .unwrap_or_else(|err| panic!("{what} address '{host_port}' is not host:port: {err}"));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap_or_else(|err| {
        panic!("{what} is not reachable on {host_port} ({err}); run `scripts/dev test`, which starts it")
    });
}

/// A name no other test uses, usable as a database name or key prefix.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", nuid::next().to_string().to_lowercase())
}

/// Creates a fresh PostgreSQL database and returns its URL (trust auth, user `postgres`).
pub fn fresh_postgres_database() -> String {
    let host = env_or("TEST_PGHOST", "127.0.0.1");
    let port = env_or("TEST_PGPORT", "5432");
    assert_reachable("PostgreSQL", &format!("{host}:{port}"));
    let name = unique_name("test");
    let output = Command::new("psql")
        .args([
            "-h",
            &host,
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ])
        .args(["-c", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql is installed");
    assert!(
        output.status.success(),
        "cannot create database {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    format!("postgres://postgres@{host}:{port}/{name}")
}

/// The Redis URL tests share (`TEST_REDIS_URL` or the local server); isolate with [`unique_name`] prefixes.
pub fn redis_url() -> String {
    let url = env_or("TEST_REDIS_URL", "redis://127.0.0.1:6379");
    let host_port = url.trim_start_matches("redis://").trim_end_matches('/');
    assert_reachable("Redis", host_port);
    url
}

/// The MongoDB-wire server (SecantusDB locally); isolate with a [`unique_name`] database.
pub fn mongodb_url() -> String {
    let url = env_or("TEST_MONGODB_URL", "mongodb://127.0.0.1:27017");
    let host_port = url
        .trim_start_matches("mongodb://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_reachable("MongoDB (SecantusDB)", &host_port);
    url
}
