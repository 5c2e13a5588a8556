//! The least an HTTP -> NATS -> handler path can cost on this stack, to put the bridge's figure
//! against: hyper workers shaped like the bridge's (one per core, a current-thread runtime, a NATS
//! connection and an `SO_REUSEPORT` listener each) doing nothing but one async-nats request per HTTP
//! request, answered by a bare async-nats responder holding the reply bytes. No routing, API keys,
//! limits, metrics, deadlines, envelope or runtime. If this path is slower than nginx, so is any
//! bridge built on NATS request/reply here, however little glue it has.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::mpsc;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;

const SUBJECT: &str = "floor.get";

/// Starts the responder and `workers` HTTP workers; the address they share.
pub fn start(nats_url: &str, reply: Bytes, workers: usize) -> SocketAddr {
    let (ready, started) = mpsc::channel::<()>();
    let url = nats_url.to_owned();
    on_thread("floor-responder", move || async move {
        let client = async_nats::connect(url).await.expect("connect");
        let mut requests = client
            .queue_subscribe(SUBJECT, "floor".into())
            .await
            .expect("subscribe");
        client.flush().await.expect("flush");
        ready.send(()).expect("ready");
        while let Some(request) = requests.next().await {
            if let Some(to) = request.reply {
                let _ = client.publish(to, reply.clone()).await;
            }
        }
    });
    started.recv().expect("the responder starts");
    let mut addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    for _ in 0..workers {
        let (ready, listening) = mpsc::channel();
        let url = nats_url.to_owned();
        on_thread("floor-worker", move || async move {
            let client = async_nats::connect(url).await.expect("connect");
            let socket = TcpSocket::new_v4().expect("socket");
            socket.set_reuseport(true).expect("reuseport");
            socket.bind(addr).expect("bind");
            let listener = socket.listen(1024).expect("listen");
            ready
                .send(Some(listener.local_addr().expect("addr")))
                .expect("ready");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let client = client.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |_request| {
                        let client = client.clone();
                        async move {
                            // A failed request is a 503, which wrk reports and the bench refuses.
                            let (status, body) = match client.request(SUBJECT, Bytes::new()).await {
                                Ok(reply) => (hyper::StatusCode::OK, reply.payload),
                                Err(_) => (hyper::StatusCode::SERVICE_UNAVAILABLE, Bytes::new()),
                            };
                            let mut response = hyper::Response::new(Full::new(body));
                            *response.status_mut() = status;
                            response.headers_mut().insert(
                                "content-type",
                                "application/json".parse().expect("header"),
                            );
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        addr = listening
            .recv()
            .expect("the worker starts")
            .expect("it listens");
    }
    addr
}

/// Runs `task` on a thread of its own with a current-thread runtime, for the rest of the process.
fn on_thread<F, T>(name: &str, task: F)
where
    F: FnOnce() -> T + Send + 'static,
    T: std::future::Future<Output = ()>,
{
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(task());
        })
        .expect("thread");
}
