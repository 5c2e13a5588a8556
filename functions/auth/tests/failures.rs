//! Dependencies that go away: PostgreSQL down is a prompt 503 and the service recovers by itself;
//! Redis down leaves the service working from PostgreSQL.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Auth, SEED_API_KEY, access};
use harness::assert_error;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// A TCP proxy in front of the shared PostgreSQL that the test can cut and restore, since the
/// shared server itself must not be stopped.
struct Outage {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Outage {
    async fn proxy(target: &str) -> Self {
        let outage = Self {
            port: harness::free_port(),
            target: target.to_owned(),
            tasks: Arc::default(),
        };
        outage.restore().await;
        outage
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("proxy binds");
        let (target, tasks) = (self.target.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// Drops the listener and every proxied connection, as a crashed database would.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[tokio::test]
async fn postgres_down_is_a_prompt_503_and_the_service_recovers_on_its_own() {
    let mut settings = common::settings();
    let outage = Outage::proxy("127.0.0.1:5432").await;
    settings.database_url = settings
        .database_url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", outage.port));
    let auth = Auth::start_with(settings).await;
    let reply = auth.signup("quinn@example.com").await;
    let id = reply["user"]["id"].clone();

    outage.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    assert_error(
        auth.call("auth.profile.get", json!({"id": id})).await,
        503,
        "unavailable",
    );
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "503 took {:?}",
        start.elapsed()
    );
    assert_error(
        auth.signin("quinn@example.com", common::PASSWORD).await,
        503,
        "unavailable",
    );

    outage.restore().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match auth.call("auth.profile.get", json!({"id": id})).await {
            Ok(profile) => {
                assert_eq!(profile["id"], id);
                break;
            }
            Err(err) if Instant::now() < deadline => {
                assert_eq!(err.code(), 503, "only 503 while recovering: {err:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("did not recover: {err:?}"),
        }
    }
    auth.signin("quinn@example.com", common::PASSWORD)
        .await
        .expect("signin after recovery");
    auth.shutdown().await;
}

#[tokio::test]
async fn redis_down_leaves_every_endpoint_answering_from_postgres() {
    let mut settings = common::settings();
    settings.redis_url = format!("redis://127.0.0.1:{}", harness::free_port());
    let auth = Auth::start_with(settings).await;

    let reply = auth.signup("rae@example.com").await;
    let token = access(&reply);
    auth.verify(&token).await.expect("verify without redis");
    auth.call("auth.apikey.verify", json!({"key": SEED_API_KEY}))
        .await
        .expect("api key without redis");
    auth.call_as(&token, "auth.profile.mine", json!({}))
        .await
        .expect("profile without redis");
    auth.call_as(&token, "auth.signout", json!({}))
        .await
        .expect("signout without redis");
    assert_error(auth.verify(&token).await, 401, "revoked");
    auth.shutdown().await;
}
