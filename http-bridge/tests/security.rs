//! The shipped NATS configuration (`nats/nats.conf` + `permissions.conf`) against a real
//! nats-server: each component is held to its own subjects, and bad credentials stop a binary.

use std::process::{Command, Stdio};
use std::time::Duration;

use async_nats::ConnectErrorKind;
use futures::StreamExt;
use harness::{NatsServer, Process};

const QUIET: Duration = Duration::from_millis(300);

/// True when `subscriber` receives nothing within [`QUIET`].
async fn hears_nothing(subscriber: &mut async_nats::Subscriber) -> bool {
    tokio::time::timeout(QUIET, subscriber.next())
        .await
        .is_err()
}

/// Sends a request and says whether anyone answered it.
async fn answered(client: &async_nats::Client, subject: &str) -> bool {
    let request = async_nats::Request::new()
        .payload("{}".into())
        .timeout(Some(Duration::from_secs(1)));
    client
        .send_request(subject.to_owned(), request)
        .await
        .is_ok()
}

#[tokio::test]
async fn client_without_credentials_is_refused() {
    let nats = NatsServer::secured();
    let err = async_nats::connect(nats.url())
        .await
        .expect_err("an anonymous client must be refused");
    assert_eq!(err.kind(), ConnectErrorKind::AuthorizationViolation);
}

#[tokio::test]
async fn blog_cannot_serve_auth_requests() {
    let nats = NatsServer::secured();
    let blog = nats.connect_as("blog").await;
    let bridge = nats.connect_as("bridge").await;
    let mut signin = blog.subscribe("auth.signin.basic").await.unwrap();
    let mut verify = blog.subscribe("auth.token.verify").await.unwrap();
    blog.flush().await.unwrap();
    let rogue = blog.clone();
    tokio::spawn(async move {
        // Would answer as a rogue auth if the server let the subscription through.
        while let Some(m) = signin.next().await {
            if let Some(reply) = m.reply {
                let _ = rogue.publish(reply, r#"{"user":"forged"}"#.into()).await;
            }
        }
    });
    assert!(
        !answered(&bridge, "auth.signin.basic").await,
        "blog's subscription to auth.signin.basic reached a request"
    );
    assert!(hears_nothing(&mut verify).await);
}

#[tokio::test]
async fn blog_cannot_publish_auth_events() {
    let nats = NatsServer::secured();
    let auth = nats.connect_as("auth").await;
    let blog = nats.connect_as("blog").await;
    let mut events = auth.subscribe("auth.events.>").await.unwrap();
    auth.flush().await.unwrap();
    for subject in ["auth.events.user.updated", "auth.events.token.revoked"] {
        blog.publish(subject, r#"{"userId":"x","name":"forged"}"#.into())
            .await
            .unwrap();
    }
    blog.flush().await.unwrap();
    assert!(
        hears_nothing(&mut events).await,
        "a forged event from blog got through"
    );
    auth.publish("auth.events.user.updated", "{}".into())
        .await
        .unwrap();
    assert!(
        !hears_nothing(&mut events).await,
        "auth's own event must arrive"
    );
}

#[tokio::test]
async fn blog_cannot_answer_discovery_as_auth() {
    let nats = NatsServer::secured();
    let blog = nats.connect_as("blog").await;
    let operator = nats.connect_as("operator").await;
    let mut named = blog.subscribe("$SRV.INFO.auth").await.unwrap();
    let mut instance = blog.subscribe("$SRV.INFO.auth.fake").await.unwrap();
    blog.flush().await.unwrap();
    assert!(!answered(&operator, "$SRV.INFO.auth").await);
    assert!(hears_nothing(&mut named).await);
    assert!(hears_nothing(&mut instance).await);
}

#[tokio::test]
async fn bridge_cannot_read_auth_traffic() {
    let nats = NatsServer::secured();
    let bridge = nats.connect_as("bridge").await;
    let mut everything = bridge.subscribe("auth.>").await.unwrap();
    bridge.flush().await.unwrap();
    // The bridge may publish a sign-in; if its auth.> subscription stood, it would echo back.
    bridge
        .publish("auth.signin.basic", r#"{"password":"secret"}"#.into())
        .await
        .unwrap();
    bridge.flush().await.unwrap();
    assert!(hears_nothing(&mut everything).await);
}

#[tokio::test]
async fn each_user_reads_only_its_own_inbox() {
    let nats = NatsServer::secured();
    let blog = nats.connect_as("blog").await;
    let mut others = blog.subscribe("_INBOX.http-bridge.>").await.unwrap();
    blog.flush().await.unwrap();
    let bridge = nats.connect_as("bridge").await;
    let _ = answered(&bridge, "auth.signin.basic").await;
    assert!(hears_nothing(&mut others).await);
}

#[tokio::test]
async fn wrong_password_stops_the_bridge_at_once() {
    let nats = NatsServer::secured();
    let wrong = std::env::temp_dir().join(format!("wrong-{}.password", nuid_like()));
    std::fs::write(&wrong, "not-the-password").unwrap();
    let mut bridge = Process::spawn(
        "http-bridge",
        Command::new(env!("CARGO_BIN_EXE_http-bridge"))
            .env("NATS_URL", nats.url())
            .env("NATS_USER", "bridge")
            .env("NATS_PASSWORD_FILE", &wrong)
            .env("BRIDGE_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let code = bridge.wait_exit(Duration::from_secs(10));
    let _ = std::fs::remove_file(&wrong);
    assert!(
        matches!(code, Some(c) if c != 0),
        "expected a failing exit, got {code:?}"
    );
}

#[tokio::test]
async fn bad_credentials_error_says_so() {
    let nats = NatsServer::secured();
    let wrong = std::env::temp_dir().join(format!("wrong-{}.password", nuid_like()));
    std::fs::write(&wrong, "not-the-password").unwrap();
    let connection = runtime::Connection {
        user: Some("blog".into()),
        password_file: Some(wrong.clone()),
        ..runtime::Connection::plain(nats.url())
    };
    let started = std::time::Instant::now();
    let err = connection.connect("blog").await.unwrap_err();
    let _ = std::fs::remove_file(&wrong);
    assert!(matches!(err, runtime::Error::BadCredentials(_)), "{err}");
    assert!(err.to_string().contains("refused the credentials"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn own_credentials_connect_through_the_runtime_settings() {
    let nats = NatsServer::secured();
    let connection = runtime::Connection {
        nats_url: format!("nats://127.0.0.1:1,{}", nats.url()),
        user: Some("operator".into()),
        password_file: Some(nats.password_file("operator")),
        ..runtime::Connection::plain("")
    };
    let client = connection.connect("operator").await.expect("connects");
    // Discovery is allowed to the operator; with nothing serving, the server says no responders.
    assert!(!answered(&client, "$SRV.PING").await);
}

fn nuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A CA and a server certificate for 127.0.0.1, made with the openssl CLI in a fresh directory.
fn make_ca(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed (scripts/dev installs it)");
        assert!(status.success(), "openssl {args:?} failed");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test-ca",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server-key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server-cert.pem",
    ]);
}

#[tokio::test]
async fn tls_connection_works_with_a_ca_made_in_the_test() {
    let dir = std::env::temp_dir().join(format!("nats-tls-{}", nuid_like()));
    make_ca(&dir);
    let tls = format!(
        "tls {{ cert_file: \"{0}/server-cert.pem\", key_file: \"{0}/server-key.pem\" }}",
        dir.display()
    );
    let nats = NatsServer::secured_with(&[tls.as_str()]);
    let connection = runtime::Connection {
        user: Some("operator".into()),
        password_file: Some(nats.password_file("operator")),
        tls_ca: Some(dir.join("ca.pem")),
        tls_required: true,
        ..runtime::Connection::plain(nats.url())
    };
    let client = connection.connect("operator").await.expect("TLS connect");
    assert!(!answered(&client, "$SRV.PING").await);
    let untrusted = runtime::Connection {
        tls_ca: None,
        ..connection.clone()
    };
    assert!(
        untrusted.connect("operator").await.is_err(),
        "a server certificate from an unknown CA must be refused"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
