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
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::apikey::{ApiKeys, ClientAddr};
use crate::config::Config;
use crate::discovery::{self, SharedTable};
use crate::metrics::Metrics;
use crate::routes::RouteTable;
use crate::status::Status;
use crate::{envelope, proxy};

/// Entry point for embedding the bridge (the binary and the tests use it).
pub struct Bridge;

/// A listening bridge; `shutdown` finishes in-flight requests.
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    discovery: tokio::task::JoinHandle<()>,
}

/// What every request handler shares.
pub(crate) struct State {
    pub(crate) client: async_nats::Client,
    pub(crate) table: SharedTable,
    pub(crate) keys: ApiKeys,
    pub(crate) metrics: Metrics,
    /// The live `/status` page's gatherer and per-route load window.
    pub(crate) status: Status,
    /// Permits for the NATS leg of a request, taken once its body is in.
    pub(crate) in_flight: Semaphore,
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
    /// Binds `config.addr`, learns routes, and serves until `Running::shutdown`.
    pub async fn start(config: Config, client: async_nats::Client) -> std::io::Result<Running> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
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
            client,
            table,
            metrics,
            status: Status::new(Duration::from_millis(config.discovery_window_ms)),
            in_flight: Semaphore::new(config.max_in_flight),
            connections: Arc::new(Semaphore::new(config.max_connections)),
            config,
        });
        let stop = CancellationToken::new();
        let server = tokio::spawn(accept(listener, state, stop.clone()));
        tracing::info!(%addr, "bridge listening");
        Ok(Running {
            addr,
            stop,
            server,
            discovery,
        })
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
        let _ = self.server.await;
        self.discovery.abort();
    }
}

async fn accept(listener: TcpListener, state: Arc<State>, stop: CancellationToken) {
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
        tokio::spawn(async move {
            serve(stream, peer.ip(), &builder, state.clone(), stop).await;
            drop(permit);
            state.metrics.connections(state.open_connections());
        });
    }
    drop(listener);
    // Every connection holds a permit; getting them all back means every connection ended.
    let grace = state.config.timeout() + LINGER + Duration::from_secs(1);
    let all = u32::try_from(state.config.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, state.connections.acquire_many(all))
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
