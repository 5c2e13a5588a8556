//! OpenTelemetry traces, switched on by the standard `OTEL_*` variables and off (no layer, no
//! spans, no headers) without them.
//!
//! Every span meant for export is made with target [`TARGET`]: the exporting layer sees only
//! those, and the log formatter never does, so log lines read the same with tracing on or off and a
//! process without an endpoint never builds these spans at all.

mod init;
mod propagate;

use opentelemetry::trace::TraceContextExt as _;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

pub(crate) use init::layer;
pub use init::{enabled, shutdown};
pub use propagate::{follow_http, follow_nats, inject};

/// `tracing` target of every exported span: `#[tracing::instrument(target = "otel", ..)]`.
pub const TARGET: &str = "otel";

/// Records the outcome of the request `span` covers: its status code, and an error status on 5xx
/// so trace views flag it.
pub fn record_status(span: &Span, status: u16) {
    if span.is_none() {
        return;
    }
    span.record("status", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// Names `span` once what it covers is known (the bridge learns the route after the span began);
/// exporters take the name from the start otherwise.
pub fn rename(span: &Span, name: String) {
    if span.is_none() {
        return;
    }
    span.context().span().update_name(name);
}

/// The span of one NATS message a handler takes: a child of the trace the message carries.
///
/// `server` when the sender waits for a reply, `consumer` for an event.
pub(crate) fn handler_span(
    subject: &'static str,
    replies: bool,
    headers: Option<&async_nats::HeaderMap>,
) -> Span {
    let span = tracing::info_span!(
        target: TARGET,
        "nats.handle",
        otel.name = subject,
        otel.kind = if replies { "server" } else { "consumer" },
        messaging.system = "nats",
        messaging.operation.type = "process",
        messaging.destination.name = subject,
        status = Empty,
        otel.status_code = Empty,
    );
    follow_nats(&span, headers);
    span
}

/// The span of a NATS request this process sends and waits on (the bridge's leg, the guard's
/// token check); its context goes out in the request's headers.
pub(crate) fn request_span(subject: &str) -> Span {
    tracing::info_span!(
        target: TARGET,
        "nats.request",
        otel.name = format!("request {subject}"),
        otel.kind = "client",
        messaging.system = "nats",
        messaging.operation.type = "send",
        messaging.destination.name = subject,
        status = Empty,
        otel.status_code = Empty,
    )
}

/// The span of an event this process publishes; whoever applies the event continues from it.
pub(crate) fn publish_span(subject: &str) -> Span {
    tracing::info_span!(
        target: TARGET,
        "nats.publish",
        otel.name = format!("publish {subject}"),
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.operation.type = "send",
        messaging.destination.name = subject,
    )
}

/// The span of one call to a store (`db.system` such as `redis`), for calls that no
/// `#[tracing::instrument(target = "otel", ..)]` function wraps; `Span::none()` when tracing is off.
pub fn store_span(system: &'static str, operation: &str) -> Span {
    tracing::info_span!(
        target: TARGET,
        "store.call",
        otel.name = format!("{system}.{operation}"),
        otel.kind = "client",
        db.system = system,
        db.operation.name = operation,
    )
}
