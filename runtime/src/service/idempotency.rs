//! `Idempotency-Key` on writes: the first completed reply is kept in NATS KV and replayed to retries.
//!
//! A request carrying the header claims `<service>.<sha256(scope, key, subject)>` in the shared
//! `idempotency` bucket (24 h TTL) with an atomic create. While the first attempt runs, a duplicate
//! gets 409; once it has answered, a duplicate gets the stored reply with `Idempotent-Replayed: true`;
//! the same key with a different body gets 422. A 5xx or 429 is not an answer worth keeping: the
//! claim is released so the client's retry runs again. Requests without the header never get here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use async_nats::jetstream::kv::{self, CreateErrorKind, Operation};
use async_nats::jetstream::stream;
use bytes::{BufMut, Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::error::ApiError;
use crate::reply;
use crate::wire;

/// The shared bucket; the NATS permissions give each function only its own `<name>.` keys.
const BUCKET: &str = "idempotency";
/// How long a completed reply is replayed (the IETF draft leaves it to the server; a day is common).
const KEEP: Duration = Duration::from_secs(24 * 60 * 60);
/// Longest accepted key: a UUID is 36 characters, the draft asks for no more than a few hundred.
const MAX_KEY_LEN: usize = 255;

/// One service's handle on the bucket, opened on the first request that carries a key.
pub(crate) struct Keys {
    service: String,
    client: async_nats::Client,
    /// Copies of the bucket: in a cluster, a stored reply must outlive the loss of a node.
    replicas: usize,
    store: OnceCell<kv::Store>,
}

/// What the caller asked for, read before the handler runs.
pub(crate) struct Request {
    key: String,
    body: String,
}

/// Longest one bucket operation waits for its acknowledgement before it is tried again.
const ATTEMPT: Duration = Duration::from_secs(1);
/// Longest a new claim waits for the bucket's stream to have a leader again.
const LEADER_MOVE: Duration = Duration::from_secs(2);

/// How long a finished write keeps trying to store its reply while NATS is unreachable.
const STORE_REPLY_FOR: Duration = Duration::from_secs(30);

/// The stored record: a claim while the first attempt runs, then its reply.
#[derive(Serialize, Deserialize)]
struct Record {
    /// SHA-256 of the request body, so a reused key with another body is refused.
    body: String,
    /// Unix ms after which an unfinished claim is abandoned (its replica died): a retry may take it.
    until_ms: u64,
    /// `None` while in progress; 0 for success, else the error code of the stored reply.
    code: Option<u16>,
    /// Which attempt wrote the claim, so one whose acknowledgement was lost knows it as its own.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    attempt: String,
    /// The error message of a stored error reply.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    message: String,
}

/// The claim held by the first attempt; `finish` stores its reply or releases it.
pub(crate) struct Claim<'a> {
    store: &'a kv::Store,
    key: String,
    body: String,
    revision: u64,
}

/// What to do with a request that carries a key.
pub(crate) enum Begin<'a> {
    /// First attempt (or an abandoned one taken over): run the handler, then `finish`.
    Run(Claim<'a>),
    /// A completed earlier attempt: send this reply as it is.
    Replay(HeaderMap, Bytes),
}

impl Keys {
    pub fn new(service: &str, client: async_nats::Client, replicas: usize) -> Self {
        Self {
            service: service.to_owned(),
            client,
            replicas: replicas.max(1),
            store: OnceCell::new(),
        }
    }

    async fn store(&self) -> Result<&kv::Store, ApiError> {
        self.store
            .get_or_try_init(|| async {
                let mut jetstream = async_nats::jetstream::new(self.client.clone());
                // A reply lost to a leader leaving mid-request is asked again at once, not
                // after the client's default 5 s.
                jetstream.set_timeout(ATTEMPT);
                // The bucket's stream as `create_key_value` would make it; that call first reads
                // the account info, which it cannot parse from a 2.9 server, so it is done by hand.
                jetstream
                    .create_stream(stream::Config {
                        name: format!("KV_{BUCKET}"),
                        subjects: vec![format!("$KV.{BUCKET}.>")],
                        max_messages_per_subject: 1,
                        max_age: KEEP,
                        allow_rollup: true,
                        deny_delete: true,
                        allow_direct: true,
                        num_replicas: self.replicas,
                        discard: stream::DiscardPolicy::New,
                        ..Default::default()
                    })
                    .await
                    .map_err(|err| unavailable(&err))?;
                jetstream
                    .get_key_value(BUCKET)
                    .await
                    .map_err(|err| unavailable(&err))
            })
            .await
    }

    /// Claims the key, or says why this attempt must not run.
    pub async fn begin(&self, request: Request, budget: Duration) -> Result<Begin<'_>, ApiError> {
        let store = self.store().await?;
        let key = format!("{}.{}", self.service, request.key);
        let claim = Record {
            body: request.body.clone(),
            until_ms: unix_ms() + budget.as_millis() as u64 + 1000,
            code: None,
            attempt: nuid::next().to_string(),
            message: String::new(),
        };
        let claim_bytes = encode(&claim, b"");
        let run = |revision| {
            Ok(Begin::Run(Claim {
                store,
                key: key.clone(),
                body: request.body.clone(),
                revision,
            }))
        };
        // While the bucket's stream moves to another leader (a node of the cluster restarting),
        // its subjects have no responder for a moment: wait that out rather than fail the write.
        let (mut pause, until) = (
            Duration::from_millis(25),
            std::time::Instant::now() + LEADER_MOVE.min(budget / 2),
        );
        let created = loop {
            match store.create(&key, claim_bytes.clone()).await {
                Err(err) if leaderless(&err) && std::time::Instant::now() + pause < until => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                created => break created,
            }
        };
        match created {
            Ok(revision) => return run(revision),
            Err(err) if err.kind() == CreateErrorKind::AlreadyExists => {}
            Err(err) => return Err(unavailable(&err)),
        }
        let entry = store
            .entry(key.as_str())
            .await
            .map_err(|err| unavailable(&err))?
            .filter(|entry| entry.operation == Operation::Put)
            .ok_or_else(conflict)?;
        let (record, payload) = decode(&entry.value)?;
        if record.body != request.body {
            return Err(ApiError::Unprocessable(
                "this Idempotency-Key was already used with a different request body; use a new key"
                    .into(),
            ));
        }
        match record.code {
            // Ours: written by a try above whose acknowledgement was lost.
            None if record.attempt == claim.attempt => run(entry.revision),
            None if record.until_ms < unix_ms() => {
                match store.update(&key, claim_bytes, entry.revision).await {
                    Ok(revision) => run(revision),
                    Err(_) => Err(conflict()),
                }
            }
            None => Err(conflict()),
            Some(code) => {
                let (mut headers, payload) = if code == 0 {
                    (HeaderMap::new(), payload)
                } else {
                    reply::encode_error(&ApiError::from_code(code, record.message))
                };
                headers.insert(wire::IDEMPOTENT_REPLAYED, "true");
                Ok(Begin::Replay(headers, payload))
            }
        }
    }
}

impl Request {
    /// The key and body of a write carrying `Idempotency-Key`; `None` (at the cost of one header
    /// lookup) for every other request.
    pub fn read(
        headers: Option<&HeaderMap>,
        subject: &str,
        payload: &[u8],
    ) -> Option<Result<Self, ApiError>> {
        let headers = headers?;
        let key = headers.get(wire::IDEMPOTENCY_KEY)?.as_str().trim();
        if key.is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_control) {
            return Some(Err(ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable characters"
            ))));
        }
        // Scoped to the caller: the bearer token, or the API key the bridge vouches for.
        let scope = |name| headers.get(name).map(|v| v.as_str()).unwrap_or_default();
        let mut hash = Sha256::new();
        for part in [
            scope(wire::AUTHORIZATION),
            scope(wire::API_KEY_HASH),
            subject,
            key,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        Some(Ok(Self {
            key: hex(&hash.finalize()),
            body: hex(&Sha256::digest(payload)),
        }))
    }
}

impl Claim<'_> {
    /// Keeps a reply worth replaying; releases the claim after a 5xx or 429 so a retry runs again.
    pub async fn finish(self, outcome: &Result<Bytes, ApiError>) {
        let (code, message, payload) = match outcome {
            Ok(payload) => (0, String::new(), payload.as_ref()),
            Err(err) if err.code() < 500 && err.code() != 429 => {
                (err.code(), err.to_string(), &b""[..])
            }
            Err(_) => {
                if let Err(err) = self
                    .store
                    .delete_expect_revision(&self.key, Some(self.revision))
                    .await
                {
                    tracing::warn!(%err, "cannot release an idempotency key");
                }
                return;
            }
        };
        let record = Record {
            body: self.body,
            until_ms: 0,
            code: Some(code),
            attempt: String::new(),
            message,
        };
        // The write is done: losing its reply to a NATS outage would let the claim expire and a
        // retry run the write again. Keep trying until the reply is stored, for as long as a
        // claim could outlive an outage, unless another attempt took the key over meanwhile.
        let value = encode(&record, payload);
        let (mut pause, give_up) = (
            Duration::from_millis(50),
            std::time::Instant::now() + STORE_REPLY_FOR,
        );
        loop {
            match self
                .store
                .update(&self.key, value.clone(), self.revision)
                .await
            {
                Ok(_) => return,
                Err(err) if err.kind() == kv::UpdateErrorKind::WrongLastRevision => {
                    tracing::warn!(%err, "an idempotency key was taken over before its reply was stored");
                    return;
                }
                Err(err) if std::time::Instant::now() >= give_up => {
                    tracing::warn!(%err, "cannot store the reply for an idempotency key");
                    return;
                }
                Err(_) => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// The record as one JSON line, then the reply payload as it was sent.
fn encode(record: &Record, payload: &[u8]) -> Bytes {
    let head = serde_json::to_vec(record).unwrap_or_default();
    let mut out = BytesMut::with_capacity(head.len() + 1 + payload.len());
    out.put_slice(&head);
    out.put_u8(b'\n');
    out.put_slice(payload);
    out.freeze()
}

fn decode(value: &Bytes) -> Result<(Record, Bytes), ApiError> {
    let split = value
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(value.len());
    let record = serde_json::from_slice(&value[..split])
        .map_err(|err| ApiError::internal(format!("unreadable idempotency record: {err}")))?;
    Ok((record, value.slice((split + 1).min(value.len())..)))
}

/// The stream had no responder, or its acknowledgement never came: no leader at this moment
/// (async-nats reports the no-responders status on a publish or direct get as "no stream found").
fn leaderless(err: &kv::CreateError) -> bool {
    let text = err.to_string();
    text.contains("no stream found") || text.contains("no responders") || text.contains("timed out")
}

fn conflict() -> ApiError {
    ApiError::Conflict(
        "a request with this Idempotency-Key is still in progress; retry after it has answered"
            .into(),
    )
}

fn unavailable(err: &dyn std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!("the idempotency store is unavailable: {err}"))
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
