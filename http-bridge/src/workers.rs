//! Request-serving threads, one per core, the way nginx runs one worker process per core.
//!
//! Each worker has its own current-thread runtime, its own NATS connection and its own listener on
//! the shared port (`SO_REUSEPORT`, so the kernel spreads connections across them). A request's
//! HTTP and NATS work then stay on one core with no cross-thread wake-ups, and the requests
//! handled in one turn of a worker's loop leave in one write on its connection, which costs
//! nats-server fewer reads. Measured against one multi-thread runtime on one connection: 1.22 to
//! 1.26x the throughput (`docs/performance.md`). Routes, API keys, metrics and limits stay shared.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::retry::LameDuck;
use crate::server::{State, accept};

/// Starts `count` workers listening on the configured address; the first picks the port when it
/// is 0. Returns the bound address and, per worker, a receiver resolved once it has finished.
pub(crate) async fn spawn(
    count: usize,
    shared: &Arc<State>,
    stop: &CancellationToken,
) -> std::io::Result<(SocketAddr, Vec<oneshot::Receiver<()>>)> {
    let mut addr = shared.config.addr;
    if addr.port() != 0 {
        refuse_if_taken(addr)?;
    }
    let mut finished = Vec::with_capacity(count);
    for index in 0..count {
        let (ready, listening) = oneshot::channel();
        let (done, ended) = oneshot::channel();
        let (shared, stop) = (shared.clone(), stop.clone());
        std::thread::Builder::new()
            .name(format!("bridge-worker-{index}"))
            .spawn(move || {
                run(shared, addr, stop, ready);
                let _ = done.send(());
            })?;
        addr = listening
            .await
            .map_err(|_| std::io::Error::other("a bridge worker thread died while starting"))??;
        finished.push(ended);
    }
    Ok((addr, finished))
}

/// One worker's thread: its runtime, connection and listener, then its accept loop until `stop`.
/// Whether it could listen, and where, goes to `ready`.
fn run(
    shared: Arc<State>,
    addr: SocketAddr,
    stop: CancellationToken,
    ready: oneshot::Sender<std::io::Result<SocketAddr>>,
) {
    let started = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match started {
        Ok(runtime) => runtime,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    runtime.block_on(async move {
        match open(&shared, addr).await {
            Ok((state, listener)) => {
                let _ = ready.send(listener.local_addr());
                accept(listener, Arc::new(state), stop).await;
            }
            Err(err) => {
                let _ = ready.send(Err(err));
            }
        }
    });
}

/// `SO_REUSEPORT` would let a second bridge of the same user share the port and split its
/// traffic in silence; a plain bind first fails as it always did while anything listens there.
fn refuse_if_taken(addr: SocketAddr) -> std::io::Result<()> {
    std::net::TcpListener::bind(addr).map(drop)
}

/// A worker's own NATS connection and listener, made on its own runtime so their tasks run there.
async fn open(shared: &State, addr: SocketAddr) -> std::io::Result<(State, TcpListener)> {
    let lame_duck = LameDuck::default();
    let observer = lame_duck.clone();
    let client = shared
        .config
        .connection
        .connect_with("http-bridge", move |event| observer.observe(event))
        .await
        .map_err(std::io::Error::other)?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(1024)?;
    Ok((shared.for_worker(client, lame_duck), listener))
}
