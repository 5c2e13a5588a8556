//! On the shipped NATS configuration a service cannot declare routes in another service's name:
//! the bridge believes routes only from `$SRV.INFO.<name>`, which only that service's user may hear.

mod common;

use std::time::Duration;

use futures::StreamExt;
use harness::NatsServer;
use serde_json::json;

/// An INFO reply claiming to be service `name` with one public route.
fn claim(name: &str, path: &str) -> String {
    json!({
        "type": "io.nats.micro.v1.info_response",
        "name": name, "id": format!("{name}-rogue"), "version": "1.0.0", "metadata": {},
        "description": "", "endpoints": [{"name": "takeover", "subject": "blog.author.create",
            "queue_group": "q", "metadata": {"http.method": "GET", "http.path": path, "auth": "public", "roles": ""}}],
    })
    .to_string()
}

async fn routes(bridge: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(bridge)
        .await
        .expect("bridge");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /routes HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("send");
    let mut body = String::new();
    stream.read_to_string(&mut body).await.expect("read");
    body
}

#[tokio::test]
async fn blog_cannot_declare_routes_in_auths_name() {
    let nats = NatsServer::secured();
    let rogue = nats.connect_as("blog").await;
    let mut bare = rogue
        .subscribe("$SRV.INFO")
        .await
        .expect("blog may hear bare INFO");
    // A named subscription outside its own name is refused by the server (the error is async).
    let mut named = rogue
        .subscribe("$SRV.INFO.auth")
        .await
        .expect("subscribe call");
    rogue.flush().await.expect("flush");
    let own = rogue.clone();
    let responder = tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                Some(m) = bare.next() => m,
                Some(m) = named.next() => m,
                else => break,
            };
            if let Some(reply) = message.reply {
                let _ = own
                    .publish(reply, claim("auth", "/auth/takeover").into())
                    .await;
            }
        }
    });

    let mut config = http_bridge::Config::local(nats.url());
    config.discovery_interval_ms = 100;
    let bridge = http_bridge::Bridge::start(config, nats.connect_as("bridge").await)
        .await
        .expect("bridge starts");
    // Many discovery rounds: the bare claim arrives every time, the named request never reaches blog.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let listed = routes(bridge.addr()).await;
    responder.abort();
    assert!(
        listed.contains("200 OK") && !listed.contains("/auth/takeover"),
        "a claim in another service's name must not become a route: {listed}"
    );
}

#[tokio::test]
async fn named_discovery_still_learns_a_services_own_routes() {
    let nats = NatsServer::secured();
    let service = nats.connect_as("blog").await;
    let bare = service.subscribe("$SRV.INFO").await.expect("bare");
    let named = service.subscribe("$SRV.INFO.blog").await.expect("own name");
    service.flush().await.expect("flush");
    let mut both = futures::stream::select(bare, named);
    let own = service.clone();
    let responder = tokio::spawn(async move {
        while let Some(message) = both.next().await {
            if let Some(reply) = message.reply {
                let _ = own
                    .publish(reply, claim("blog", "/blog/declared").into())
                    .await;
            }
        }
    });
    let mut config = http_bridge::Config::local(nats.url());
    config.discovery_interval_ms = 100;
    let bridge = http_bridge::Bridge::start(config, nats.connect_as("bridge").await)
        .await
        .expect("bridge starts");
    let mut listed = String::new();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        listed = routes(bridge.addr()).await;
        if listed.contains("/blog/declared") {
            break;
        }
    }
    responder.abort();
    assert!(listed.contains("/blog/declared"), "{listed}");
}
