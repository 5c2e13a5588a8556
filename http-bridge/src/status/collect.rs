//! What every service instance reports: a `$SRV.STATS` scatter-gather folded into one view per service.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use runtime::wire::discovery::StatsResponse;
use runtime::wire::meta;
use serde::Serialize;

/// One running replica of a service.
#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    /// Unique instance id.
    pub id: String,
    /// SemVer the instance runs.
    pub version: String,
    /// RFC 3339 start time as the instance reported it.
    pub started: String,
    /// Seconds since `started`, or `None` when the time could not be read.
    pub uptime_secs: Option<i64>,
}

/// One endpoint, its counters summed over every instance that serves it.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// Subject requests are sent to.
    pub subject: String,
    /// `GET /blog/id/:id`, or `None` for a NATS-only endpoint.
    pub http: Option<String>,
    /// Roles of which the caller needs one.
    pub roles: Vec<String>,
    /// `public`, `optional` or `bearer`.
    pub auth: String,
    /// Queue group, or `None` when every instance gets every message.
    pub queue_group: Option<String>,
    /// Requests received by all instances.
    pub requests: u64,
    /// Requests that ended in an error.
    pub errors: u64,
    /// Mean processing time in milliseconds over all instances.
    pub average_ms: f64,
    /// Most recent non-empty `last_error` any instance reported.
    pub last_error: String,
}

/// A service: its replicas and its endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    /// Service name shared by the replicas.
    pub name: String,
    /// Replicas that answered, by id.
    pub instances: Vec<Instance>,
    /// Endpoints by subject.
    pub endpoints: Vec<Endpoint>,
}

/// Asks every instance for its STATS and collects the replies that arrive within `window`.
pub async fn gather(
    client: &async_nats::Client,
    window: Duration,
) -> Result<Vec<StatsResponse>, async_nats::Error> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await?;
    client
        .publish_with_reply("$SRV.STATS", inbox, "".into())
        .await?;
    client.flush().await?;
    let mut stats = Vec::new();
    let deadline = tokio::time::sleep(window);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => break,
            reply = replies.next() => match reply {
                // "No responders" arrives as a bare status when no service runs at all.
                Some(reply) if reply.status.is_some() => continue,
                Some(reply) => match serde_json::from_slice::<StatsResponse>(&reply.payload) {
                    Ok(one) => stats.push(one),
                    Err(err) => tracing::warn!(%err, "ignoring malformed STATS reply"),
                },
                None => break,
            },
        }
    }
    Ok(stats)
}

/// Folds per-instance replies into services sorted by name, endpoints by subject.
pub fn services(stats: &[StatsResponse], now: chrono::DateTime<chrono::Utc>) -> Vec<Service> {
    struct Sums {
        endpoint: Endpoint,
        processing_ns: u128,
    }
    let mut by_name: BTreeMap<&str, (Vec<Instance>, BTreeMap<&str, Sums>)> = BTreeMap::new();
    for reply in stats {
        let (instances, endpoints) = by_name.entry(&reply.identity.name).or_default();
        let uptime_secs = chrono::DateTime::parse_from_rfc3339(&reply.started)
            .ok()
            .map(|started| (now - started.with_timezone(&chrono::Utc)).num_seconds());
        instances.push(Instance {
            id: reply.identity.id.clone(),
            version: reply.identity.version.clone(),
            started: reply.started.clone(),
            uptime_secs,
        });
        for stats in &reply.endpoints {
            let sums = endpoints.entry(&stats.subject).or_insert_with(|| Sums {
                endpoint: Endpoint {
                    subject: stats.subject.clone(),
                    http: match (
                        stats.metadata.get(meta::HTTP_METHOD),
                        stats.metadata.get(meta::HTTP_PATH),
                    ) {
                        (Some(method), Some(path)) => {
                            Some(format!("{} {path}", method.to_uppercase()))
                        }
                        _ => None,
                    },
                    roles: stats
                        .metadata
                        .get(meta::ROLES)
                        .map(|r| {
                            r.split(',')
                                .filter(|r| !r.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    auth: stats
                        .metadata
                        .get(meta::AUTH)
                        .cloned()
                        .unwrap_or_else(|| "public".into()),
                    queue_group: stats.queue_group.clone(),
                    requests: 0,
                    errors: 0,
                    average_ms: 0.0,
                    last_error: String::new(),
                },
                processing_ns: 0,
            });
            sums.endpoint.requests += stats.num_requests;
            sums.endpoint.errors += stats.num_errors;
            sums.processing_ns += u128::from(stats.processing_time);
            if !stats.last_error.is_empty() {
                sums.endpoint.last_error.clone_from(&stats.last_error);
            }
        }
    }
    by_name
        .into_iter()
        .map(|(name, (mut instances, endpoints))| {
            instances.sort_by(|a, b| a.id.cmp(&b.id));
            Service {
                name: name.to_owned(),
                instances,
                endpoints: endpoints
                    .into_values()
                    .map(|mut sums| {
                        if sums.endpoint.requests > 0 {
                            sums.endpoint.average_ms = sums.processing_ns as f64
                                / sums.endpoint.requests as f64
                                / 1_000_000.0;
                        }
                        sums.endpoint
                    })
                    .collect(),
            }
        })
        .collect()
}
