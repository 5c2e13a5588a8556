//! Learning routes: a `$SRV.INFO` scatter-gather, repeated, and repeated at once after a reconnect.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_nats::connection::State;
use futures::StreamExt;
use runtime::wire::discovery::InfoResponse;

use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::routes::RouteTable;

/// The table every request reads; swapped whole by each discovery round.
pub type SharedTable = Arc<RwLock<Arc<RouteTable>>>;

/// How long to wait for one more reply once every known instance has answered.
const STRAGGLER_GAP: Duration = Duration::from_millis(20);

/// How often the connection state is looked at, to notice a reconnect.
const STATE_POLL: Duration = Duration::from_millis(50);

/// Asks every service instance for its INFO; stops at `window`, or early once all of `known` answered.
///
/// Routes are only believed from a named request (`$SRV.INFO.<name>`): the bare `$SRV.INFO` only
/// tells which names exist, since NATS does not authenticate the name inside a reply, whereas only
/// the service's own NATS user may subscribe to `$SRV.*.<name>` (see `nats/permissions.conf`).
/// A client that answers the bare request claiming another service's name is thus never heard.
pub async fn discover(
    client: &async_nats::Client,
    window: Duration,
    known: &HashSet<String>,
) -> Result<Vec<InfoResponse>, async_nats::Error> {
    let started = tokio::time::Instant::now();
    let announced = gather(client, "$SRV.INFO".to_owned(), window, known).await?;
    let mut by_name: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for info in &announced {
        by_name
            .entry(info.identity.name.clone())
            .or_default()
            .insert(info.identity.id.clone());
    }
    let left = window.saturating_sub(started.elapsed()).max(window / 2);
    let named = by_name.into_iter().map(|(name, ids)| async move {
        let subject = format!("$SRV.INFO.{name}");
        gather(client, subject, left, &ids).await.map(|infos| {
            infos
                .into_iter()
                .filter(|info| info.identity.name == name)
                .collect::<Vec<_>>()
        })
    });
    let mut infos = Vec::new();
    for verified in futures::future::join_all(named).await {
        infos.extend(verified?);
    }
    Ok(infos)
}

/// One scatter-gather on `subject`, each on its own inbox so nobody can answer a request it never saw.
async fn gather(
    client: &async_nats::Client,
    subject: String,
    window: Duration,
    known: &HashSet<String>,
) -> Result<Vec<InfoResponse>, async_nats::Error> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await?;
    client.publish_with_reply(subject, inbox, "".into()).await?;
    client.flush().await?;
    let mut infos: Vec<InfoResponse> = Vec::new();
    let mut missing = known.clone();
    let deadline = tokio::time::Instant::now() + window;
    loop {
        // Once every known instance answered, only a short gap is left for new ones.
        let until = if missing.is_empty() && !known.is_empty() {
            deadline.min(tokio::time::Instant::now() + STRAGGLER_GAP)
        } else {
            deadline
        };
        let reply = match tokio::time::timeout_at(until, replies.next()).await {
            Err(_) | Ok(None) => break,
            Ok(Some(reply)) => reply,
        };
        // With no service running at all, the server answers "no responders" (a bare status).
        if reply.status.is_some() {
            continue;
        }
        match serde_json::from_slice::<InfoResponse>(&reply.payload) {
            Ok(info) => {
                missing.remove(&info.identity.id);
                infos.push(info);
            }
            Err(err) => tracing::warn!(%err, "ignoring malformed INFO reply"),
        }
    }
    Ok(infos)
}

/// How discovery is paced.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Time between rounds.
    pub interval: Duration,
    /// Longest a round collects replies.
    pub window: Duration,
    /// Consecutive silent rounds after which a service's routes leave.
    pub forget_after: u32,
}

/// Runs rounds every `pace.interval` and right after a reconnect, until the task is aborted.
pub fn keep_fresh(
    client: async_nats::Client,
    table: SharedTable,
    pace: Pace,
    metrics: Metrics,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut registry = Registry::new(pace.forget_after);
        let mut ticker = tokio::time::interval(pace.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_connected = client.connection_state() == State::Connected;
        let mut watch = tokio::time::interval(STATE_POLL);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = watch.tick() => {
                    let connected = client.connection_state() == State::Connected;
                    let reconnected = connected && !was_connected;
                    was_connected = connected;
                    if !reconnected {
                        continue;
                    }
                    tracing::info!("NATS reconnected; discovering at once");
                    ticker.reset();
                }
            }
            // A round while disconnected would make every service look silent.
            if client.connection_state() != State::Connected {
                continue;
            }
            match discover(&client, pace.window, &registry.known_instances()).await {
                Ok(infos) => {
                    let outcome = registry.apply(&infos);
                    metrics.route_conflicts(outcome.new_conflicts);
                    metrics.routes(outcome.table.routes().len());
                    let fresh = Arc::new(outcome.table);
                    if let Ok(mut current) = table.write() {
                        if current.routes() != fresh.routes() {
                            tracing::info!(routes = fresh.routes().len(), "route table changed");
                        }
                        *current = fresh;
                    }
                }
                Err(err) => tracing::warn!(%err, "discovery failed; keeping the last route table"),
            }
        }
    })
}
