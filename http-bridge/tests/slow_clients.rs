//! Slow and careless clients cannot lock others out, and every client reads its status.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{KEY, Setup};
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one HTTP/1.1 response with a content-length; returns its status line and headers+body text.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().expect("length"))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("the bridge answers in time")
            .expect("read");
        assert!(n > 0, "connection closed before a full response: {text}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_and_slow_uploads_do_not_lock_out_normal_requests() {
    let setup = Setup::serving("/t/echo/:id", |config| {
        config.header_read_timeout_ms = 1_000;
        config.body_read_timeout_ms = 1_000;
        config.max_in_flight = 16;
    })
    .await;
    let addr = setup.bridge.as_ref().expect("bridge").addr();

    let mut slowloris = Vec::new();
    let mut uploads = Vec::new();
    for _ in 0..200 {
        let mut half = TcpStream::connect(addr).await.expect("connect");
        half.write_all(b"POST /t/echo/1 HTTP/1.1\r\nhost: bridge\r\n")
            .await
            .expect("write");
        slowloris.push(half);
        let mut upload = TcpStream::connect(addr).await.expect("connect");
        upload
            .write_all(format!("POST /t/echo/1 HTTP/1.1\r\nhost: bridge\r\nx-api-key: {KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"a\":").as_bytes())
            .await
            .expect("write");
        uploads.push(upload);
    }

    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let (status, _) = setup.call(Method::POST, "/t/echo/1", Some("{}")).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(status, StatusCode::OK);
    }
    let upload_answer = read_response(&mut uploads[0]).await;
    let mut rest = Vec::new();
    let closed =
        tokio::time::timeout(Duration::from_secs(5), slowloris[0].read_to_end(&mut rest)).await;

    assert!(
        slowest < Duration::from_millis(250),
        "slowest normal request took {slowest:?}"
    );
    assert!(upload_answer.starts_with("HTTP/1.1 408"), "{upload_answer}");
    assert!(
        closed.is_ok(),
        "a half-sent header is closed after the header-read timeout"
    );
}

#[tokio::test]
async fn client_writing_its_whole_body_first_reads_the_413() {
    let setup = Setup::serving("/t/echo/:id", |config| config.max_body_bytes = 1024).await;
    let addr = setup.bridge.as_ref().expect("bridge").addr();

    let answer = tokio::task::spawn_blocking(move || {
        let body = format!(r#"{{"text":"{}"}}"#, "x".repeat(2 * 1024 * 1024));
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let head = format!(
            "POST /t/echo/1 HTTP/1.1\r\nhost: bridge\r\nx-api-key: {KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("head written");
        stream.write_all(body.as_bytes()).expect("the whole body is accepted");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).to_string()
    })
    .await
    .expect("client thread");

    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn keep_alive_survives_a_404_with_a_body() {
    let setup = Setup::serving("/t/echo/:id", |_| {}).await;
    let addr = setup.bridge.as_ref().expect("bridge").addr();
    let mut stream = TcpStream::connect(addr).await.expect("connect");

    let body = format!(r#"{{"text":"{}"}}"#, "x".repeat(10_000));
    stream
        .write_all(format!("POST /nowhere HTTP/1.1\r\nhost: bridge\r\nx-api-key: {KEY}\r\ncontent-length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .await
        .expect("write");
    let first = read_response(&mut stream).await;
    stream
        .write_all(b"GET /routes HTTP/1.1\r\nhost: bridge\r\n\r\n")
        .await
        .expect("same connection is still open");
    let second = read_response(&mut stream).await;

    assert!(first.starts_with("HTTP/1.1 404"), "{first}");
    assert!(
        !first.to_ascii_lowercase().contains("connection: close"),
        "{first}"
    );
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
}
