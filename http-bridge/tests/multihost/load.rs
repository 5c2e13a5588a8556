//! Closed-loop HTTP load through the bridge: signed-in keyed writes of blogs and public reads,
//! each request's outcome kept with when it was sent and answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use harness::Http;
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::platform::Api;

/// What a worker sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /blog/author` with an `Idempotency-Key`.
    Write,
    /// `GET /blog/id/:id` of a published blog.
    Read,
}

/// One request: when it was sent and answered (since the load started), and how.
#[derive(Debug)]
pub struct Outcome {
    pub kind: Kind,
    pub sent: Duration,
    pub done: Duration,
    pub status: StatusCode,
    /// The created blog's id, for an acknowledged write.
    pub id: Option<String>,
    pub body: Value,
}

impl Outcome {
    /// Answered with a 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// One line for a failure report.
    pub fn describe(&self) -> String {
        format!(
            "{:?} sent at {:?}, answered at {:?}: {} {}",
            self.kind, self.sent, self.done, self.status, self.body
        )
    }
}

/// Workers running until [`Load::finish`].
pub struct Load {
    /// When the load started; outcomes are timed from here.
    pub start: Instant,
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<Vec<Outcome>>>,
}

/// What the workers need of the platform: the bridge, a signed-in author, a published blog.
#[derive(Clone)]
pub struct Target {
    pub http: Http,
    pub bridge: std::net::SocketAddr,
    pub key: &'static str,
    pub token: String,
    pub published: String,
}

impl Target {
    /// Signs an author in through `api` and publishes one blog for the reads.
    pub async fn prepare(api: &Api) -> Self {
        let email = format!("{}@example.com", harness::unique_name("mh"));
        let (_, token) = api.new_author(&email, "a-long-password", "Ada").await;
        let published = api.publish(&token, blog("read-me")).await;
        let target = Self {
            http: api.http.clone(),
            bridge: api.bridge,
            key: api.key,
            token,
            published,
        };
        // The first keyed write makes the R3 idempotency bucket, which takes a while: before the
        // load, as a deployment's first writes would have done long ago.
        let start = Instant::now();
        for n in 0.. {
            let key = format!("warm-up-{n}-{}", target.published);
            let (status, body) = target.send(Kind::Write, &key).await;
            if status.is_success() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no keyed write succeeded within 30 s: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        target
    }

    /// Sends one request of `kind`; `n` makes the write unique (title, slug and key).
    pub async fn send(&self, kind: Kind, n: &str) -> (StatusCode, Value) {
        let bearer = format!("Bearer {}", self.token);
        let mut headers = vec![
            ("x-api-key", self.key),
            ("content-type", "application/json"),
        ];
        let (method, path, body) = match kind {
            Kind::Write => {
                headers.push(("authorization", bearer.as_str()));
                headers.push(("idempotency-key", n));
                (Method::POST, "/blog/author".to_owned(), blog(n).to_string())
            }
            Kind::Read => (
                Method::GET,
                format!("/blog/id/{}", self.published),
                String::new(),
            ),
        };
        let url = format!("http://{}{path}", self.bridge);
        let reply = self.http.send(method, &url, body, &headers).await;
        (reply.status, reply.json())
    }

    /// Whether the blog `id` is stored: its author reads it back.
    pub async fn stored(&self, id: &str) -> bool {
        let url = format!("http://{}/blog/author/id/{id}", self.bridge);
        let bearer = format!("Bearer {}", self.token);
        let headers = [("x-api-key", self.key), ("authorization", bearer.as_str())];
        let reply = self.http.send(Method::GET, &url, "", &headers).await;
        reply.status == StatusCode::OK && reply.json()["data"]["_id"] == id
    }
}

/// A draft whose title and slug are made unique by `n`.
fn blog(n: &str) -> Value {
    json!({
        "title": format!("Load {n}"),
        "description": "Written under load",
        "draftText": "Text.",
        "slug": format!("load-{}", n.to_lowercase()),
        "tags": ["load"],
    })
}

impl Load {
    /// Starts one worker per entry of `kinds`, each sending requests of its kind back to back.
    pub fn start(target: &Target, kinds: &[Kind]) -> Self {
        let start = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let run = harness::unique_name("w").replace('_', "-");
        let workers = kinds
            .iter()
            .enumerate()
            .map(|(w, &kind)| {
                let (target, stop, run) = (target.clone(), stop.clone(), run.clone());
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    for n in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let sent = start.elapsed();
                        let (status, body) = target.send(kind, &format!("{run}-{w}-{n}")).await;
                        let id = (kind == Kind::Write && status.is_success())
                            .then(|| body["data"]["_id"].as_str().map(str::to_owned))
                            .flatten();
                        outcomes.push(Outcome {
                            kind,
                            sent,
                            done: start.elapsed(),
                            status,
                            id,
                            body,
                        });
                    }
                    outcomes
                })
            })
            .collect();
        Self {
            start,
            stop,
            workers,
        }
    }

    /// Stops the workers after their current request; every worker's outcomes.
    pub async fn finish(self) -> Vec<Vec<Outcome>> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for worker in self.workers {
            all.push(worker.await.expect("load worker"));
        }
        all
    }
}

/// The failed requests, shown for an assertion message.
pub fn failures(outcomes: &[Vec<Outcome>]) -> Vec<String> {
    outcomes
        .iter()
        .flatten()
        .filter(|o| !o.ok())
        .map(Outcome::describe)
        .collect()
}

/// Keyed writes that ran twice: the resend of an acknowledged-but-unanswered write answered 409
/// because the first attempt had already taken the slug. nats-server before 2.11 could accept two
/// idempotency claims for one key across a stream leader change (its expected-last-subject-sequence
/// check was leader-local; nats-io/nats-server#6194), which is what these are.
pub fn ran_twice(outcomes: &[Vec<Outcome>]) -> Vec<String> {
    outcomes
        .iter()
        .flatten()
        .filter(|o| {
            matches!(o.kind, Kind::Write)
                && o.status == StatusCode::CONFLICT
                && o.body.to_string().contains("slug")
        })
        .map(Outcome::describe)
        .collect()
}

/// Whether the nats-server on this machine is older than 2.11 (see [`ran_twice`]).
pub fn nats_server_before_2_11() -> bool {
    let out = std::process::Command::new("nats-server")
        .arg("--version")
        .output()
        .expect("nats-server --version runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.trim().trim_start_matches("nats-server: v");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) < (2, 11)
}

/// Ids of the writes answered with a 2xx.
pub fn acknowledged(outcomes: &[Vec<Outcome>]) -> Vec<&str> {
    outcomes
        .iter()
        .flatten()
        .filter_map(|o| o.id.as_deref())
        .collect()
}

/// Acknowledged writes that cannot be read back.
pub async fn lost_writes<'a>(target: &Target, outcomes: &'a [Vec<Outcome>]) -> Vec<&'a str> {
    let mut lost = Vec::new();
    for id in acknowledged(outcomes) {
        if !target.stored(id).await {
            lost.push(id);
        }
    }
    lost
}
