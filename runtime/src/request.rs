//! Request-scoped facts from NATS headers, and the JSON input and output of a handler.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::wire;

/// A fresh request id (a NUID) for a request that came without one. Each thread keeps its own
/// generator: `nuid::next` takes one process-wide lock, on every request of every endpoint.
pub fn new_request_id() -> String {
    thread_local! {
        static IDS: std::cell::RefCell<nuid::NUID> = const { std::cell::RefCell::new(nuid::NUID::new()) };
    }
    IDS.with(|ids| ids.borrow_mut().next().as_str().to_owned())
}

/// Request-scoped facts carried in NATS headers.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The subject the request arrived on.
    pub subject: String,
    /// Correlation id (from `X-Request-Id`, generated when absent).
    pub request_id: String,
    /// The bearer token, without its `Bearer ` prefix.
    pub token: Option<String>,
    /// W3C trace context, when the caller sent one.
    pub traceparent: Option<String>,
    /// The HTTP client's IP address as the bridge saw it (`X-Client-Addr`), for throttling.
    pub client_addr: Option<String>,
    /// The event's id (`Nats-Msg-Id`), set by publishers that store events in an outbox.
    pub event_id: Option<String>,
}

impl Meta {
    /// Reads the caller-supplied headers of a NATS message.
    pub fn from_headers(subject: &str, headers: Option<&async_nats::HeaderMap>) -> Self {
        let get = |name: &str| {
            headers
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let token = get(wire::AUTHORIZATION).and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        });
        Self {
            subject: subject.to_owned(),
            request_id: get(wire::REQUEST_ID).unwrap_or_else(new_request_id),
            token,
            traceparent: get(wire::TRACEPARENT),
            client_addr: get(wire::CLIENT_ADDR),
            event_id: get(wire::EVENT_ID),
        }
    }
}

/// Deserialises the handler's input; an empty payload reads as `{}`; errors name the offending field.
pub(crate) fn input<T: DeserializeOwned>(payload: &[u8]) -> Result<T, ApiError> {
    let payload: &[u8] = if payload.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        payload
    };
    // The plain parse is the hot path; only a failed one is parsed again to name the field.
    if let Ok(value) = serde_json::from_slice(payload) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(payload);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = crate::excerpt::bounded(&err.path().to_string());
        let inner = err.into_inner();
        let syntax = inner.is_syntax() || inner.is_eof();
        // serde quotes a wrong value in full: a 600 KB string would not fit the reply.
        let inner = crate::excerpt::bounded(&inner.to_string());
        if syntax {
            ApiError::BadRequest(format!("request body is not valid JSON: {inner}"))
        } else if path == "." {
            ApiError::BadRequest(format!("invalid input: {inner}"))
        } else {
            ApiError::BadRequest(format!("invalid field '{path}': {inner}"))
        }
    })
}

/// A handler's output as the reply payload: serialised, or sent as-is when already [`Encoded`](crate::Encoded).
pub fn output<T: crate::encoded::ToPayload + ?Sized>(value: &T) -> Result<Bytes, ApiError> {
    value.to_payload()
}
