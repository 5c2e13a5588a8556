//! The listener: connection cap, hyper's timers, graceful shutdown, and a lingering close.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::apikey::{ApiKeys, ClientAddr};
use crate::config::Config;
use crate::discovery::{self, SharedTable};
use crate::link::Link;
use crate::metrics::Metrics;
use crate::retry::LameDuck;
use crate::routes::RouteTable;
use crate::status::Status;
use crate::{envelope, proxy};

/// Entry point for embedding the bridge (the binary and the tests use it).
pub struct Bridge;

/// A listening bridge; `shutdown` finishes in-flight requests.
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    /// One per accept loop, resolved once its connections have ended.
    servers: Vec<oneshot::Receiver<()>>,
    discovery: tokio::task::JoinHandle<()>,
}

/// What every request handler shares. Each worker thread has its own copy with its own NATS
/// connection (`client`, `config.lame_duck`); everything else is shared.
#[derive(Clone)]
pub(crate) struct State {
    pub(crate) client: async_nats::Client,
    /// Drops and replacements of `client`'s connection, for requests in flight on it.
    pub(crate) link: Link,
    pub(crate) table: SharedTable,
    pub(crate) keys: ApiKeys,
    pub(crate) metrics: Metrics,
    /// The live `/status` page's gatherer and per-route load window.
    pub(crate) status: Arc<Status>,
    /// Permits for the NATS leg of a request, taken once its body is in.
    pub(crate) in_flight: Arc<Semaphore>,
    /// Permits for open connections, taken on accept.
    pub(crate) connections: Arc<Semaphore>,
    pub(crate) config: Config,
}

impl State {
    /// Connections open now.
    pub(crate) fn open_connections(&self) -> usize {
        self.config.max_connections - self.connections.available_permits()
    }

    /// Requests on their NATS leg now.
    pub(crate) fn requests_in_flight(&self) -> usize {
        self.config.max_in_flight - self.in_flight.available_permits()
    }
}

/// Sent as-is to a connection over the cap, so the client reads a status instead of a reset.
fn over_cap() -> Vec<u8> {
    let body = envelope::failure(
        503,
        "the bridge has too many open connections; retry shortly",
    );
    let mut bytes = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// How long a closing connection keeps reading what the client still sends, so it reads our answer.
const LINGER: Duration = Duration::from_secs(2);

impl Bridge {
    /// Binds `config.addr`, learns routes, and serves on the current runtime and `client` until
    /// `Running::shutdown`.
    pub async fn start(config: Config, client: async_nats::Client) -> std::io::Result<Running> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let (state, discovery) = State::start(config, client).await?;
        let stop = CancellationToken::new();
        let (done, finished) = oneshot::channel();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                accept(listener, state, stop).await;
                let _ = done.send(());
            }
        });
        tracing::info!(%addr, "bridge listening");
        Ok(Running {
            addr,
            stop,
            servers: vec![finished],
            discovery,
        })
    }

    /// As [`Bridge::start`], serving on `workers` threads instead, each with its own
    /// current-thread runtime, NATS connection and listener on the same port: see [`crate::workers`].
    /// `client` keeps discovery, API-key revocations and the status page.
    pub async fn start_workers(
        config: Config,
        client: async_nats::Client,
        workers: usize,
    ) -> std::io::Result<Running> {
        let (state, discovery) = State::start(config, client).await?;
        let stop = CancellationToken::new();
        let (addr, servers) = match crate::workers::spawn(workers.max(1), &state, &stop).await {
            Ok(started) => started,
            Err(err) => {
                // Workers that did start stop again, and nothing keeps discovering for nobody.
                stop.cancel();
                discovery.abort();
                return Err(err);
            }
        };
        tracing::info!(%addr, workers, "bridge listening");
        Ok(Running {
            addr,
            stop,
            servers,
            discovery,
        })
    }
}

impl State {
    /// The shared state, with discovery and API-key revocations following `client`.
    async fn start(
        config: Config,
        client: async_nats::Client,
    ) -> std::io::Result<(Arc<Self>, tokio::task::JoinHandle<()>)> {
        let table: SharedTable = Arc::new(RwLock::new(Arc::new(RouteTable::default())));
        let metrics = Metrics::default();
        let discovery = discovery::keep_fresh(
            client.clone(),
            table.clone(),
            discovery::Pace {
                interval: Duration::from_millis(config.discovery_interval_ms),
                window: Duration::from_millis(config.discovery_window_ms),
                forget_after: config.discovery_forget_rounds,
            },
            metrics.clone(),
        );
        let keys = ApiKeys::new(
            client.clone(),
            Duration::from_secs(config.apikey_cache_secs),
            config.timeout(),
        );
        // Ends with the connection; until then a revoked key is forgotten before the next check.
        keys.listen_for_revocations()
            .await
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            keys,
            link: Link::watch(&client),
            client,
            table,
            metrics,
            status: Arc::new(Status::new(Duration::from_millis(
                config.discovery_window_ms,
            ))),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight)),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            config,
        });
        Ok((state, discovery))
    }

    /// This state for a worker that sends its requests on `client`.
    pub(crate) fn for_worker(&self, client: async_nats::Client, lame_duck: LameDuck) -> Self {
        let mut state = self.clone();
        state.link = Link::watch(&client);
        state.client = client;
        state.config.lame_duck = lame_duck;
        state
    }
}

impl Running {
    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets in-flight requests finish, then returns.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for server in self.servers {
            let _ = server.await;
        }
        self.discovery.abort();
    }
}

/// Serves connections from `listener` until `stop`, then waits for them to end.
pub(crate) async fn accept(listener: TcpListener, state: Arc<State>, stop: CancellationToken) {
    let connections = TaskTracker::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout())
        .keep_alive(true);
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer),
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
        };
        let Ok(permit) = state.connections.clone().try_acquire_owned() else {
            state.metrics.refused_connection();
            // Best effort and never blocking: the socket buffer takes these few bytes.
            let _ = stream.try_write(&over_cap());
            continue;
        };
        state.metrics.connections(state.open_connections());
        let state = state.clone();
        let stop = stop.clone();
        let builder = builder.clone();
        connections.spawn(async move {
            serve(stream, peer.ip(), &builder, state.clone(), stop).await;
            drop(permit);
            state.metrics.connections(state.open_connections());
        });
    }
    drop(listener);
    connections.close();
    let grace = state.config.timeout() + LINGER + Duration::from_secs(1);
    if tokio::time::timeout(grace, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period");
    }
}

/// Serves one connection; on shutdown it finishes the current request, then closes politely.
async fn serve(
    stream: TcpStream,
    peer: IpAddr,
    builder: &http1::Builder,
    state: Arc<State>,
    stop: CancellationToken,
) {
    let service = service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
        // Functions throttle per client address (auth's API-key guesses); the bridge is its source.
        request.extensions_mut().insert(ClientAddr(peer));
        let state = state.clone();
        Box::pin(
            async move { Ok::<_, std::convert::Infallible>(proxy::handle(&state, request).await) },
        )
    });
    let mut connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => {
                if let Err(err) = result {
                    tracing::debug!(%err, "connection ended with an error");
                }
                break;
            }
            () = stop.cancelled(), if !stopping => {}
        }
        stopping = true;
        Pin::new(&mut connection).graceful_shutdown();
    }
    linger(connection.into_parts().io.into_inner()).await;
}

/// Closes our side, then reads and drops what the client still sends for a short while:
/// closing with unread bytes would reset the connection before the client reads the answer.
async fn linger(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 16 * 1024];
    let _ = tokio::time::timeout(LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
