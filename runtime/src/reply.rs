//! Errors to ADR-32 headers plus a JSON body, and back again for callers that read replies.

use std::time::Duration;

use async_nats::{HeaderMap, Message, RequestErrorKind};
use bytes::Bytes;

use tracing::Instrument;

use crate::error::ApiError;
use crate::telemetry;
use crate::wire::{self, ErrorBody};

/// Builds the headers and body of an error reply.
pub fn encode_error(err: &ApiError) -> (HeaderMap, Bytes) {
    let mut body = err.body();
    // Whatever built the message, a reply quotes no more than an excerpt of a caller's value.
    body.message = crate::excerpt::bounded(&body.message);
    let mut headers = HeaderMap::new();
    // Header values cannot carry line breaks; the JSON body keeps the full message.
    let message: String = body
        .message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    headers.insert(wire::ERROR_HEADER, message.as_str());
    headers.insert(wire::ERROR_CODE_HEADER, body.code.to_string().as_str());
    if let Some(secs) = err.retry_after_secs() {
        headers.insert(wire::RETRY_AFTER, secs.to_string().as_str());
    }
    let payload = serde_json::to_vec(&body).unwrap_or_default();
    (headers, payload.into())
}

/// Reads a reply: the payload on success, the typed error when ADR-32 error headers are present.
pub fn decode(message: Message) -> Result<Bytes, ApiError> {
    let Some(headers) = message.headers.as_ref() else {
        return Ok(message.payload);
    };
    if let Some(status) = message.status
        && status == async_nats::StatusCode::NO_RESPONDERS
    {
        return Err(no_responders(&message.subject));
    }
    let Some(code) = headers.get(wire::ERROR_CODE_HEADER) else {
        return Ok(message.payload);
    };
    let code = code.as_str().parse::<u16>().unwrap_or(500);
    let message_text = serde_json::from_slice::<ErrorBody>(&message.payload)
        .map(|body| body.message)
        .or_else(|_| {
            headers
                .get(wire::ERROR_HEADER)
                .map(|v| v.as_str().to_owned())
                .ok_or(())
        })
        .unwrap_or_else(|()| "request failed".to_owned());
    if code == 429 {
        let retry_after_secs = headers
            .get(wire::RETRY_AFTER)
            .and_then(|v| v.as_str().trim().parse().ok())
            .unwrap_or(1);
        return Err(ApiError::TooManyRequests {
            message: message_text,
            retry_after_secs,
        });
    }
    Err(ApiError::from_code(code, message_text))
}

/// Sends a request and reads its reply; no responders is 503 at once, silence past `timeout` 504.
///
/// An error reply comes back as the [`ApiError`] the handler returned:
///
/// ```no_run
/// # async fn call(client: async_nats::Client) {
/// use std::time::Duration;
///
/// let reply = runtime::request(
///     &client,
///     "greet.hello",
///     async_nats::HeaderMap::new(),
///     r#"{"name":""}"#.into(),
///     Duration::from_secs(2),
/// )
/// .await;
/// assert_eq!(reply.unwrap_err().code(), 400);
/// # }
/// ```
pub async fn request(
    client: &async_nats::Client,
    subject: &str,
    headers: HeaderMap,
    payload: Bytes,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    decode(request_message(client, subject, headers, payload, timeout).await?)
}

/// As [`request`], but hands back the whole reply, for callers that read its headers too
/// (the bridge passes `Idempotent-Replayed` on); [`decode`] reads it.
pub async fn request_message(
    client: &async_nats::Client,
    subject: &str,
    headers: HeaderMap,
    payload: Bytes,
    timeout: Duration,
) -> Result<Message, ApiError> {
    if !telemetry::enabled() {
        return send(client, subject, headers, payload, timeout).await;
    }
    let span = telemetry::request_span(subject);
    let mut headers = headers;
    let reply = async {
        telemetry::inject(&mut headers);
        send(client, subject, headers, payload, timeout).await
    }
    .instrument(span.clone())
    .await;
    let status = match &reply {
        Ok(message) => reply_status(message),
        Err(err) => err.code(),
    };
    telemetry::record_status(&span, status);
    reply
}

/// The status an error reply carries in its headers; 200 for a success.
fn reply_status(message: &Message) -> u16 {
    message
        .headers
        .as_ref()
        .and_then(|h| h.get(wire::ERROR_CODE_HEADER))
        .and_then(|v| v.as_str().parse().ok())
        .unwrap_or(200)
}

async fn send(
    client: &async_nats::Client,
    subject: &str,
    headers: HeaderMap,
    payload: Bytes,
    timeout: Duration,
) -> Result<Message, ApiError> {
    let request = async_nats::Request::new()
        .headers(headers)
        .payload(payload)
        .timeout(Some(timeout));
    match client.send_request(subject.to_owned(), request).await {
        Ok(message) => Ok(message),
        Err(err) => Err(match err.kind() {
            RequestErrorKind::NoResponders => no_responders(subject),
            RequestErrorKind::TimedOut => {
                ApiError::Timeout(format!("'{subject}' did not answer within {timeout:?}"))
            }
            RequestErrorKind::MaxPayloadExceeded => ApiError::PayloadTooLarge(format!(
                "request to '{subject}' exceeds the server's payload limit"
            )),
            RequestErrorKind::InvalidSubject => {
                ApiError::BadRequest(format!("'{subject}' is not a valid subject"))
            }
            RequestErrorKind::Other => {
                ApiError::Unavailable(format!("cannot reach '{subject}': {err}"))
            }
        }),
    }
}

fn no_responders(subject: &str) -> ApiError {
    ApiError::Unavailable(format!("no handler is serving '{subject}'"))
}
