//! The proxy pipeline: route, bus check, API key, body, permit, NATS request, envelope.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Incoming};
use runtime::{ApiError, telemetry, wire};
use sha2::{Digest, Sha256};
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::apikey::ClientAddr;
use crate::operator::{self, Answer, OPERATIONS};
use crate::routes::{Lookup, Route};
use crate::server::State;
use crate::{envelope, mapping, retry};

/// Longest an early error waits for a small unread body before giving up on keep-alive.
const DRAIN_WAIT: Duration = Duration::from_secs(1);

/// A failed request as HTTP sees it: a status, a message, extra headers, and whether to close.
struct Failure {
    status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, String)>,
    close: bool,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            headers: Vec::new(),
            close: false,
        }
    }

    fn retry_after(mut self) -> Self {
        self.headers.push((header::RETRY_AFTER, "1".into()));
        self
    }

    fn closing(mut self) -> Self {
        self.close = true;
        self
    }
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        let status = StatusCode::from_u16(err.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut failure = Self::new(status, err.to_string());
        if let Some(secs) = err.retry_after_secs() {
            failure
                .headers
                .push((header::RETRY_AFTER, secs.to_string()));
            failure
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            failure.retry_after()
        } else {
            failure
        }
    }
}

/// Answers one request: an operator endpoint, or the API through NATS.
pub(crate) async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(wire::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(runtime::new_request_id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut replayed = false;
    // API requests only: health checks and scrapes would drown the traces worth reading.
    let mut span = None;
    let (route, result) = match operator::answer(state, &method, &path).await {
        Some(response) => (OPERATIONS.to_owned(), Ok(response)),
        None if telemetry::enabled() => {
            let traced = request_span(&method, &path, &request_id, request.headers());
            span = Some(traced.clone());
            api(state, request, &request_id, &mut replayed)
                .instrument(traced)
                .await
        }
        None => api(state, request, &request_id, &mut replayed).await,
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
            if failure.close {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    };
    if replayed {
        response.headers_mut().insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    let status = response.status().as_u16();
    if let Some(span) = span {
        telemetry::rename(&span, format!("{method} {route}"));
        span.record("http.route", route.as_str());
        span.record("http.response.status_code", status);
        telemetry::record_status(&span, status);
    }
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

/// The span of one API request: a child of the client's `traceparent`, or a new trace.
fn request_span(
    method: &http::Method,
    path: &str,
    request_id: &str,
    headers: &http::HeaderMap,
) -> Span {
    let span = tracing::info_span!(
        target: telemetry::TARGET,
        "http.request",
        otel.kind = "server",
        http.request.method = %method,
        url.path = path,
        http.route = Empty,
        http.response.status_code = Empty,
        request_id,
        status = Empty,
        otel.status_code = Empty,
    );
    telemetry::follow_http(&span, headers);
    span
}

async fn api(
    state: &State,
    request: Request<Incoming>,
    request_id: &str,
    replayed: &mut bool,
) -> (String, Result<Answer, Failure>) {
    let (parts, body) = request.into_parts();
    let table = state
        .table
        .read()
        .map(|table| table.clone())
        .map_err(|_| ());
    let table = match table {
        Ok(table) => table,
        Err(_) => {
            let failure = ApiError::internal("route table lock poisoned").into();
            return (
                "(unmatched)".into(),
                Err(early(state, failure, &parts, body).await),
            );
        }
    };
    let (route, params) = match table.lookup(&parts.method, parts.uri.path()) {
        Lookup::Found(route, params) => (route, params),
        Lookup::WrongMethod(allowed) => {
            let mut failure = Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{} is not allowed here; use {}",
                    parts.method,
                    allowed.join(", ")
                ),
            );
            failure.headers.push((header::ALLOW, allowed.join(", ")));
            return (
                "(unmatched)".into(),
                Err(early(state, failure, &parts, body).await),
            );
        }
        Lookup::NotFound => {
            let failure = ApiError::NotFound(format!(
                "no route for {} {}",
                parts.method,
                parts.uri.path()
            ))
            .into();
            return (
                "(unmatched)".into(),
                Err(early(state, failure, &parts, body).await),
            );
        }
    };
    let result = match admit(state, &parts).await {
        Ok(()) => forward(state, route, &params, &parts, body, request_id, replayed).await,
        Err(failure) => Err(early(state, failure, &parts, body).await),
    };
    (route.path.clone(), result)
}

/// Checks made before the body is read: the bus is up, the API key is valid.
async fn admit(state: &State, parts: &Parts) -> Result<(), Failure> {
    // Fail fast during an outage: a request queued for a dead connection would only time out.
    if !retry::connected(&state.client, &state.config.lame_duck).await {
        return Err(
            ApiError::Unavailable("the message bus is unreachable; retry shortly".into()).into(),
        );
    }
    let key = parts.headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let client = parts.extensions.get::<ClientAddr>().copied();
    state.keys.check(key, client).await?;
    Ok(())
}

/// An error found before the body was read: drain a small body so the connection stays usable,
/// otherwise ask to close (the listener then lingers so the client still reads this answer).
async fn early(state: &State, failure: Failure, parts: &Parts, body: Incoming) -> Failure {
    let declared = content_length(parts);
    let limit = state.config.drain_bytes;
    if declared == Some(0) || failure.close {
        return failure;
    }
    if declared.is_some_and(|n| n > limit) {
        return failure.closing();
    }
    let drained = tokio::time::timeout(DRAIN_WAIT, Limited::new(body, limit).collect()).await;
    match drained {
        Ok(Ok(_)) => failure,
        _ => failure.closing(),
    }
}

fn content_length(parts: &Parts) -> Option<usize> {
    parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Reads the body (bounded in size and time), then takes an in-flight permit for the NATS leg.
async fn forward(
    state: &State,
    route: &Route,
    params: &[(String, String)],
    parts: &Parts,
    body: Incoming,
    request_id: &str,
    replayed: &mut bool,
) -> Result<Answer, Failure> {
    let max = state.config.max_body_bytes;
    let too_large = || {
        Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds {max} bytes"),
        )
        .closing()
    };
    if content_length(parts).is_some_and(|n| n > max) {
        return Err(too_large());
    }
    // A GET carries no body: skip the read and its timer.
    let read = if body.is_end_stream() {
        Ok(Ok(http_body_util::Collected::default()))
    } else {
        tokio::time::timeout(
            state.config.body_read_timeout(),
            Limited::new(body, max).collect(),
        )
        .await
    };
    let body = match read {
        Err(_) => {
            return Err(Failure::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {:?}",
                    state.config.body_read_timeout()
                ),
            )
            .closing());
        }
        Ok(Err(err))
            if err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(too_large());
        }
        Ok(Err(err)) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {err}"),
            )
            .closing());
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let input = mapping::input(params, parts.uri.query(), &body)?;

    let Ok(_permit) = state.in_flight.try_acquire() else {
        return Err(Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the bridge is at its concurrency limit; retry shortly",
        )
        .retry_after());
    };
    if !retry::connected(&state.client, &state.config.lame_duck).await {
        return Err(
            ApiError::Unavailable("the message bus is unreachable; retry shortly".into()).into(),
        );
    }
    let timeout = state.config.timeout();
    let deadline = deadline_ms(timeout).to_string();
    let resend = retry::may_resend(&parts.method, &parts.headers);
    let message = retry::request(
        &state.client,
        &state.link,
        &route.subject,
        || nats_headers(parts, request_id, &deadline),
        input,
        timeout,
        resend,
    )
    .await?;
    *replayed = message
        .headers
        .as_ref()
        .is_some_and(|h| h.get(wire::IDEMPOTENT_REPLAYED).is_some());
    let reply = runtime::decode(message)?;
    Ok((
        StatusCode::OK,
        "application/json",
        envelope::success(&reply),
    ))
}

/// The headers a function reads: request id, deadline, the caller's credentials and trace context,
/// and the client address. Names are static, so only the values are allocated.
fn nats_headers(parts: &Parts, request_id: &str, deadline: &str) -> HeaderMap {
    let name = async_nats::HeaderName::from_static;
    let mut headers = HeaderMap::new();
    headers.insert(name(wire::REQUEST_ID), request_id);
    headers.insert(name(wire::DEADLINE), deadline);
    // The client's trace context passes as it came; with tracing on, the NATS leg's span
    // replaces it with its own (a child of the client's).
    for header in [
        wire::AUTHORIZATION,
        wire::TRACEPARENT,
        wire::TRACESTATE,
        wire::IDEMPOTENCY_KEY,
    ] {
        if let Some(value) = parts.headers.get(header).and_then(|v| v.to_str().ok()) {
            headers.insert(name(header), value);
        }
    }
    // Idempotency keys are scoped per API key; the function sees only a hash of it.
    if parts.headers.contains_key(wire::IDEMPOTENCY_KEY)
        && let Some(key) = parts.headers.get("x-api-key")
    {
        let hash: String = Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        headers.insert(name(wire::API_KEY_HASH), hash);
    }
    // Set only here, from the TCP peer, never copied from the client: auth throttles sign-ins by it.
    if let Some(ClientAddr(addr)) = parts.extensions.get::<ClientAddr>() {
        headers.insert(name(wire::CLIENT_ADDR), addr.to_string());
    }
    headers
}

/// Now plus `timeout`, in unix epoch milliseconds.
fn deadline_ms(timeout: Duration) -> u128 {
    (SystemTime::now() + timeout)
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
