//! A function's NATS micro service: every selected handler as an ADR-32 endpoint, plus discovery.

mod deadline;
pub mod discovery;
pub(crate) mod endpoint;
mod idempotency;
mod reconnect;
pub mod stats;

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::authorize::{Authorize, MakeAuthorizer};
use crate::config::Config;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::extract::Need;
use crate::registry::{self, Access, HANDLERS, HandlerDef};
use discovery::{
    INFO_TYPE, Identity, InfoResponse, PING_TYPE, PingResponse, STATS_TYPE, StatsResponse,
};
use endpoint::{Endpoint, Shared};

/// Builder for one function's service; `run` serves it until SIGTERM.
///
/// A binary's `main` calls [`Service::run`]; tests and embedders start it on a client of their own:
///
/// ```no_run
/// # async fn serve() -> Result<(), runtime::Error> {
/// let config = runtime::Config::with_nats_url("nats://127.0.0.1:4222");
/// let client = async_nats::connect(&config.connection.nats_url)
///     .await
///     .map_err(|err| runtime::Error::Nats(err.to_string()))?;
/// let running = runtime::Service::new("greeter", "1.0.0")
///     .config(config)
///     .start(client)
///     .await?;
/// println!("{} serves {:?}", running.id(), running.subjects());
/// running.shutdown().await
/// # }
/// ```
pub struct Service {
    name: String,
    version: String,
    description: String,
    metadata: BTreeMap<String, String>,
    config: Config,
    state: http::Extensions,
    state_types: HashSet<TypeId>,
    authorizer: Option<MakeAuthorizer>,
    reconnect_hooks: Vec<reconnect::Hook>,
    streams: Vec<crate::jetstream::StreamSpec>,
    relays: Vec<Relay>,
    handlers: &'static [HandlerDef],
}

impl Service {
    /// A service named `name` (shared by its replicas) at SemVer `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            description: String::new(),
            metadata: BTreeMap::new(),
            config: Config::default(),
            state: http::Extensions::new(),
            state_types: HashSet::new(),
            authorizer: None,
            reconnect_hooks: Vec::new(),
            streams: Vec::new(),
            relays: Vec::new(),
            handlers: &HANDLERS,
        }
    }

    /// Human-readable description shown by `$SRV.INFO`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Service-level metadata shown by every discovery response.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Runtime settings (NATS URL, `--only`, limits); defaults suit a local run.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Shared state handlers read with a `State<T>` argument.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self.state_types.insert(TypeId::of::<T>());
        self
    }

    /// How callers are resolved, built once the service has its NATS connection; required when
    /// a selected handler needs a caller.
    pub fn authorizer<A, F>(mut self, make: F) -> Self
    where
        A: Authorize,
        F: FnOnce(async_nats::Client) -> A + Send + 'static,
    {
        self.authorizer = Some(Box::new(move |client| Box::new(make(client))));
        self
    }

    /// Runs `hook` when the connection to NATS is lost and again when it is back, so in-process
    /// caches that fan-out events keep current are emptied before the replica serves again.
    pub fn on_reconnect(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.reconnect_hooks.push(std::sync::Arc::new(hook));
        self
    }

    /// Owns the JetStream stream `name` capturing `subjects` (the events this function publishes):
    /// created or brought to the deployment's shape at start (file storage, 7 days, 1 GiB,
    /// `EVENTS_STREAM_REPLICAS` copies), so durable consumers elsewhere never miss an event.
    /// Until JetStream answers, it is retried in the background; serving does not wait for it.
    pub fn stream(mut self, name: &str, subjects: &[&str]) -> Self {
        self.streams.push(crate::jetstream::StreamSpec {
            name: name.to_owned(),
            subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
            replicas: 1,
            max_age: std::time::Duration::from_secs(7 * 24 * 3600),
            max_bytes: 1 << 30,
        });
        self
    }

    /// Relays the events `store` keeps (see [`outbox`](crate::outbox)) while the service runs,
    /// so an event a request could not publish goes out once NATS and JetStream answer again.
    pub fn outbox<S: crate::outbox::OutboxStore>(mut self, store: S) -> Self {
        self.relays.push(Box::new(move |client| {
            tokio::spawn(crate::outbox::relay(client, store))
        }));
        self
    }

    /// Serves until SIGTERM or Ctrl-C, then drains; with `--check`, only reports health.
    ///
    /// Logging is the binary's to install (`runtime::init_logging`), before its own start-up work.
    pub async fn run(self) -> Result<(), Error> {
        if self.config.check {
            return check(&self.config, &self.name).await;
        }
        let shutdown = crate::drain::shutdown_signal();
        let client = connect(&self.config, &self.name).await?;
        let running = self.start(client).await?;
        shutdown.await;
        tracing::info!("shutdown requested; draining");
        let drained = running.shutdown().await;
        // After the drain, so the spans of the last requests are exported too.
        crate::telemetry::shutdown();
        drained
    }

    /// Subscribes every selected endpoint and discovery on `client`; returns at once.
    pub async fn start(self, client: async_nats::Client) -> Result<Running, Error> {
        validate_identity(&self.name, &self.version)?;
        let selected = registry::select(self.handlers, &self.config.only)?;
        check_needs(&selected, &self.state_types, self.authorizer.is_some())?;
        let id = nuid::next().to_string();
        let mut background = Vec::new();
        for mut spec in self.streams {
            spec.replicas = self.config.events_replicas;
            background.push(tokio::spawn(crate::jetstream::keep_ensured(
                client.clone(),
                spec,
            )));
        }
        background.extend(self.relays.into_iter().map(|spawn| spawn(client.clone())));
        let authorizer: Option<Arc<dyn Authorize>> = match (
            selected.iter().any(|def| def.access != Access::Public),
            self.authorizer,
        ) {
            (true, Some(make)) => {
                let authorizer: Arc<dyn Authorize> = Arc::from(make(client.clone()));
                background.extend(authorizer.start().await?);
                Some(authorizer)
            }
            _ => None,
        };
        let shared = Arc::new(Shared {
            client: client.clone(),
            ctx: Ctx::new(client.clone(), self.state, self.name.clone()),
            authorizer,
            tracker: TaskTracker::new(),
            idempotency: idempotency::Keys::new(
                &self.name,
                client.clone(),
                self.config.events_replicas,
            ),
        });
        let stop = CancellationToken::new();
        let mut endpoints = Vec::with_capacity(selected.len());
        for def in selected {
            let endpoint = Arc::new(Endpoint::new(
                def,
                self.config.handler_timeout(),
                self.config.concurrency,
            ));
            if let Some(durable) = def.durable {
                shared.tracker.spawn(crate::durable::consume(
                    endpoint.clone(),
                    shared.clone(),
                    durable,
                    stop.clone(),
                ));
                endpoints.push(endpoint);
                continue;
            }
            let subscriber = match def.queue_group() {
                Some(group) => client.queue_subscribe(def.subject, group.to_owned()).await,
                None => client.subscribe(def.subject).await,
            }
            .map_err(nats_error)?;
            shared.tracker.spawn(endpoint::serve(
                endpoint.clone(),
                shared.clone(),
                subscriber,
                stop.clone(),
            ));
            endpoints.push(endpoint);
        }
        let instance = Arc::new(Instance {
            identity: Identity {
                name: self.name,
                id: id.clone(),
                version: self.version,
                metadata: self.metadata,
            },
            description: self.description,
            started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            endpoints,
        });
        background.push(serve_discovery(&client, instance.clone()).await?);
        let mut hooks = self.reconnect_hooks;
        if let Some(authorizer) = shared.authorizer.clone() {
            hooks.push(std::sync::Arc::new(move || authorizer.reset()));
        }
        background.extend(reconnect::watch(client.clone(), hooks));
        // Subscriptions are asynchronous: a round trip to our own PING proves the server has
        // registered every one of them before `start` returns, so no early request finds no responders.
        let own_ping = format!("$SRV.PING.{}.{id}", instance.identity.name);
        client
            .request(own_ping, "".into())
            .await
            .map_err(nats_error)?;
        tracing::info!(
            service = %instance.identity.name,
            id = %id,
            endpoints = instance.endpoints.len(),
            "serving"
        );
        Ok(Running {
            instance,
            client,
            shared,
            stop,
            background,
            grace: self.config.drain_grace(),
        })
    }
}

/// Starts an outbox relay on the service's connection.
type Relay = Box<dyn FnOnce(async_nats::Client) -> JoinHandle<()> + Send>;

/// A started service; dropping it without `shutdown` leaves its subscriptions to the connection.
pub struct Running {
    instance: Arc<Instance>,
    client: async_nats::Client,
    shared: Arc<Shared>,
    stop: CancellationToken,
    background: Vec<JoinHandle<()>>,
    grace: Duration,
}

impl Running {
    /// This instance's ADR-32 id.
    pub fn id(&self) -> &str {
        &self.instance.identity.id
    }

    /// Subjects served by this instance, in order.
    pub fn subjects(&self) -> Vec<&'static str> {
        self.instance
            .endpoints
            .iter()
            .map(|e| e.def.subject)
            .collect()
    }

    /// Stops taking requests, finishes in-flight ones within the grace period, then leaves discovery.
    ///
    /// Every wait is bounded by the grace period as a whole: with NATS unreachable, neither the
    /// subscriptions' drain nor the final flush ever completes, and an orchestrator should not
    /// have to SIGKILL a replica that was asked to stop.
    pub async fn shutdown(self) -> Result<(), Error> {
        // The process still has to exit after this returns: leave it a moment of the grace.
        let exit_margin = (self.grace / 10).min(Duration::from_millis(200));
        let deadline = tokio::time::Instant::now() + self.grace - exit_margin;
        // The last moments of the grace are kept for flushing the replies already written.
        let flush_reserve = (self.grace / 5).min(Duration::from_secs(1));
        self.stop.cancel();
        self.shared.tracker.close();
        if tokio::time::timeout_at(deadline - flush_reserve, self.shared.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(grace = ?self.grace, "grace period over; abandoning unfinished requests");
        }
        for task in &self.background {
            task.abort();
        }
        match tokio::time::timeout_at(deadline, self.client.flush()).await {
            Ok(Ok(())) => tracing::info!(id = %self.instance.identity.id, "drained"),
            Ok(Err(err)) => tracing::warn!(%err, "cannot flush replies to NATS; exiting anyway"),
            Err(_) => tracing::warn!("NATS unreachable; exiting without flushing replies"),
        }
        Ok(())
    }
}

struct Instance {
    identity: Identity,
    description: String,
    started: String,
    endpoints: Vec<Arc<Endpoint>>,
}

impl Instance {
    fn respond(&self, verb: &str) -> serde_json::Result<Vec<u8>> {
        let identity = self.identity.clone();
        match verb {
            "PING" => serde_json::to_vec(&PingResponse {
                kind: PING_TYPE.to_owned(),
                identity,
            }),
            "INFO" => serde_json::to_vec(&InfoResponse {
                kind: INFO_TYPE.to_owned(),
                identity,
                description: self.description.clone(),
                endpoints: self.endpoints.iter().map(|e| e.info()).collect(),
            }),
            _ => serde_json::to_vec(&StatsResponse {
                kind: STATS_TYPE.to_owned(),
                identity,
                started: self.started.clone(),
                endpoints: self.endpoints.iter().map(|e| e.stats()).collect(),
            }),
        }
    }
}

async fn serve_discovery(
    client: &async_nats::Client,
    instance: Arc<Instance>,
) -> Result<JoinHandle<()>, Error> {
    let mut streams = Vec::new();
    for verb in discovery::VERBS {
        for subject in discovery::subjects(verb, &instance.identity.name, &instance.identity.id) {
            let subscriber = client.subscribe(subject).await.map_err(nats_error)?;
            streams.push(subscriber.map(move |message| (verb, message)));
        }
    }
    let client = client.clone();
    Ok(tokio::spawn(async move {
        let mut all = futures::stream::select_all(streams);
        while let Some((verb, message)) = all.next().await {
            let Some(reply_to) = message.reply else {
                continue;
            };
            match instance.respond(verb) {
                Ok(body) => {
                    if let Err(err) = client.publish(reply_to, body.into()).await {
                        tracing::warn!(%err, verb, "cannot answer discovery request");
                    }
                }
                Err(err) => tracing::error!(%err, verb, "cannot serialise discovery reply"),
            }
        }
    }))
}

/// Connects with `config`'s servers, credentials and TLS (see [`crate::connect`]).
pub async fn connect(config: &Config, name: &str) -> Result<async_nats::Client, Error> {
    config.connection.connect(name).await
}

async fn check(config: &Config, name: &str) -> Result<(), Error> {
    let client = connect(config, name).await?;
    let subject = format!("$SRV.PING.{name}");
    let reply = tokio::time::timeout(
        Duration::from_secs(2),
        client.request(subject.clone(), "".into()),
    )
    .await
    .map_err(|_| Error::Unhealthy(format!("no answer on {subject}")))?
    .map_err(|err| Error::Unhealthy(format!("{subject}: {err}")))?;
    let ping: PingResponse = serde_json::from_slice(&reply.payload)
        .map_err(|err| Error::Unhealthy(format!("bad PING reply: {err}")))?;
    println!("{} {} is up", ping.identity.name, ping.identity.id);
    Ok(())
}

/// Every selected handler's state types are registered, and an authorizer is there if one needs a caller.
fn check_needs(
    selected: &[&'static HandlerDef],
    registered: &HashSet<TypeId>,
    has_authorizer: bool,
) -> Result<(), Error> {
    for def in selected {
        if def.access != Access::Public && !has_authorizer {
            return Err(Error::NoAuthorizer {
                subject: def.subject,
                location: def.location,
            });
        }
        let mut needs: Vec<Need> = Vec::new();
        (def.needs)(&mut needs);
        if let Some(missing) = needs.iter().find(|n| !registered.contains(&n.type_id)) {
            return Err(Error::MissingState {
                subject: def.subject,
                location: def.location,
                type_name: missing.type_name,
            });
        }
    }
    Ok(())
}

fn validate_identity(name: &str, version: &str) -> Result<(), Error> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::InvalidService(format!(
            "name '{name}' must match [A-Za-z0-9_-]+"
        )));
    }
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<_> = core.split('.').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.parse::<u64>().is_err())
    {
        return Err(Error::InvalidService(format!(
            "version '{version}' is not SemVer"
        )));
    }
    Ok(())
}

fn nats_error(err: impl std::fmt::Display) -> Error {
    Error::Nats(err.to_string())
}
