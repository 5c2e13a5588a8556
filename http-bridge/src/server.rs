//! The hyper server: operations endpoints, then API key, route, body, NATS request, envelope.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use runtime::{ApiError, wire};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::apikey::{ApiKeys, ClientAddr};
use crate::config::Config;
use crate::discovery::{self, SharedTable};
use crate::metrics::Metrics;
use crate::routes::{Lookup, RouteTable};
use crate::status::Status;
use crate::{envelope, mapping, openapi};

/// Entry point for embedding the bridge (the binary and the tests use it).
pub struct Bridge;

/// A listening bridge; `shutdown` finishes in-flight requests.
pub struct Running {
    addr: SocketAddr,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    discovery: tokio::task::JoinHandle<()>,
}

struct State {
    client: async_nats::Client,
    table: SharedTable,
    keys: ApiKeys,
    metrics: Metrics,
    status: Status,
    in_flight: Semaphore,
    config: Config,
}

/// A failed request as HTTP sees it: a status, a message, maybe extra headers.
struct Failure {
    status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, String)>,
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Self {
            status: StatusCode::from_u16(err.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: err.to_string(),
            headers: err
                .retry_after_secs()
                .map(|secs| (header::RETRY_AFTER, secs.to_string()))
                .into_iter()
                .collect(),
        }
    }
}

impl Bridge {
    /// Binds `config.addr`, learns routes, and serves until `Running::shutdown`.
    pub async fn start(config: Config, client: async_nats::Client) -> std::io::Result<Running> {
        let listener = TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let table: SharedTable = Arc::new(RwLock::new(Arc::new(RouteTable::default())));
        let discovery = discovery::keep_fresh(
            client.clone(),
            table.clone(),
            Duration::from_millis(config.discovery_interval_ms),
            Duration::from_millis(config.discovery_window_ms),
        );
        let state = Arc::new(State {
            keys: ApiKeys::new(
                client.clone(),
                Duration::from_secs(config.apikey_cache_secs),
                config.timeout(),
            ),
            client,
            table,
            metrics: Metrics::default(),
            status: Status::new(Duration::from_millis(config.discovery_window_ms)),
            in_flight: Semaphore::new(config.max_in_flight),
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
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
        };
        let state = state.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ClientAddr(peer.ip()));
            let state = state.clone();
            async move { Ok::<_, Infallible>(handle(&state, request).await) }
        });
        let connection =
            graceful.watch(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let grace = state.config.timeout() + Duration::from_secs(1);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period");
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(wire::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| nuid::next().to_string());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (route, result) = match operations(state, &method, &path).await {
        Some(response) => (OPERATIONS.to_owned(), Ok(response)),
        None => api(state, request, &request_id).await,
    };
    let mut response = match result {
        Ok((status, content_type, body)) => reply(status, content_type, body),
        Err(failure) => {
            let mut response = reply(
                failure.status,
                "application/json",
                envelope::failure(failure.status.as_u16(), &failure.message),
            );
            for (name, value) in failure.headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    let status = response.status().as_u16();
    state
        .metrics
        .observe(method.as_str(), &route, status, started.elapsed());
    state
        .status
        .observe(method.as_str(), &route, status, started.elapsed());
    if status >= 500 && route != OPERATIONS {
        tracing::warn!(%request_id, %method, %path, status, "request failed");
    } else {
        tracing::debug!(%request_id, %method, %path, status, "request answered");
    }
    response
}

type Answer = (StatusCode, &'static str, Bytes);

/// Metrics label of `/health`, `/metrics`, `/routes`, `/openapi.json` and `/status`.
const OPERATIONS: &str = "(operations)";

async fn operations(state: &State, method: &Method, path: &str) -> Option<Answer> {
    if method != Method::GET {
        return None;
    }
    if let Some(answer) = state.status.answer(&state.client, path).await {
        return Some(answer);
    }
    let table = state.table.read().ok()?.clone();
    let json = |status, value: serde_json::Value| {
        Some((status, "application/json", Bytes::from(value.to_string())))
    };
    match path {
        "/health" => {
            let connected =
                state.client.connection_state() == async_nats::connection::State::Connected;
            let healthy = connected && !table.is_empty();
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            json(
                status,
                serde_json::json!({"healthy": healthy, "nats": if connected { "connected" } else { "disconnected" }, "routes": table.routes().len()}),
            )
        }
        "/routes" => json(
            StatusCode::OK,
            serde_json::json!({"routes": table.routes()}),
        ),
        "/openapi.json" => json(StatusCode::OK, openapi::document(table.routes())),
        "/metrics" => Some((
            StatusCode::OK,
            "text/plain; version=0.0.4",
            Bytes::from(state.metrics.encode()),
        )),
        _ => None,
    }
}

async fn api(
    state: &State,
    request: Request<Incoming>,
    request_id: &str,
) -> (String, Result<Answer, Failure>) {
    let Ok(_permit) = state.in_flight.try_acquire() else {
        let failure = Failure {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the bridge is at its concurrency limit; retry shortly".into(),
            headers: vec![(header::RETRY_AFTER, "1".into())],
        };
        return ("(saturated)".into(), Err(failure));
    };
    let table = match state.table.read() {
        Ok(table) => table.clone(),
        Err(_) => {
            return (
                "(unmatched)".into(),
                Err(ApiError::internal("route table lock poisoned").into()),
            );
        }
    };
    let (route, params) = match table.lookup(request.method(), request.uri().path()) {
        Lookup::Found(route, params) => (route, params),
        Lookup::WrongMethod(allowed) => {
            let failure = Failure {
                status: StatusCode::METHOD_NOT_ALLOWED,
                message: format!(
                    "{} is not allowed here; use {}",
                    request.method(),
                    allowed.join(", ")
                ),
                headers: vec![(header::ALLOW, allowed.join(", "))],
            };
            return ("(unmatched)".into(), Err(failure));
        }
        Lookup::NotFound => {
            let err = ApiError::NotFound(format!(
                "no route for {} {}",
                request.method(),
                request.uri().path()
            ));
            return ("(unmatched)".into(), Err(err.into()));
        }
    };
    let result = forward(state, route, &params, request, request_id).await;
    (route.path.clone(), result)
}

async fn forward(
    state: &State,
    route: &crate::routes::Route,
    params: &[(String, String)],
    request: Request<Incoming>,
    request_id: &str,
) -> Result<Answer, Failure> {
    if state.client.connection_state() != async_nats::connection::State::Connected {
        return Err(
            ApiError::Unavailable("the message bus is unreachable; retry shortly".into()).into(),
        );
    }
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok());
    let client = request.extensions().get::<ClientAddr>().copied();
    state.keys.check(key, client).await?;

    let mut headers = HeaderMap::new();
    headers.insert(wire::REQUEST_ID, request_id);
    for name in [wire::AUTHORIZATION, wire::TRACEPARENT] {
        if let Some(value) = request.headers().get(name).and_then(|v| v.to_str().ok()) {
            headers.insert(name, value);
        }
    }
    let query = request.uri().query().map(str::to_owned);
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "request body exceeds {} bytes",
            state.config.max_body_bytes
        ))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > state.config.max_body_bytes) {
        return Err(too_large().into());
    }
    let body = Limited::new(request.into_body(), state.config.max_body_bytes)
        .collect()
        .await
        .map_err(|err| {
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {err}"))
            }
        })?
        .to_bytes();
    let input = mapping::input(params, query.as_deref(), &body)?;
    let reply = runtime::reply::request(
        &state.client,
        &route.subject,
        headers,
        input,
        state.config.timeout(),
    )
    .await?;
    Ok((
        StatusCode::OK,
        "application/json",
        envelope::success(&reply),
    ))
}

fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
