//! Learning routes: a `$SRV.INFO` scatter-gather, repeated so services coming and going are seen.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use runtime::service::discovery::InfoResponse;

use crate::routes::RouteTable;

/// The table every request reads; swapped whole by each discovery round.
pub type SharedTable = Arc<RwLock<Arc<RouteTable>>>;

/// Asks every service instance for its INFO and collects what arrives within `window`.
pub async fn discover(
    client: &async_nats::Client,
    window: Duration,
) -> Result<Vec<InfoResponse>, async_nats::Error> {
    let inbox = client.new_inbox();
    let mut replies = client.subscribe(inbox.clone()).await?;
    client
        .publish_with_reply("$SRV.INFO", inbox, "".into())
        .await?;
    client.flush().await?;
    let mut infos = Vec::new();
    let deadline = tokio::time::sleep(window);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => break,
            reply = replies.next() => match reply {
                // With no service running at all, the server answers "no responders" (a bare status).
                Some(reply) if reply.status.is_some() => continue,
                Some(reply) => match serde_json::from_slice::<InfoResponse>(&reply.payload) {
                    Ok(info) => infos.push(info),
                    Err(err) => tracing::warn!(%err, "ignoring malformed INFO reply"),
                },
                None => break,
            },
        }
    }
    Ok(infos)
}

/// Rebuilds the table now, then every `interval`, until the task is aborted.
pub fn keep_fresh(
    client: async_nats::Client,
    table: SharedTable,
    interval: Duration,
    window: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match discover(&client, window).await {
                Ok(infos) => {
                    let fresh = Arc::new(RouteTable::from_infos(&infos));
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
