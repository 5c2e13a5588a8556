//! W3C `traceparent`/`tracestate` in and out of NATS and HTTP headers.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::enabled;

/// Writes the current span's context into the headers of an outgoing NATS message, so whoever
/// handles it continues this trace; nothing when tracing is off.
pub fn inject(headers: &mut async_nats::HeaderMap) {
    if !enabled() {
        return;
    }
    let context = Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut NatsOut(headers));
}

/// Makes `span` a child of the trace a NATS message carries; a new root when it carries none.
pub fn follow_nats(span: &Span, headers: Option<&async_nats::HeaderMap>) {
    let Some(headers) = headers.filter(|_| !span.is_none()) else {
        return;
    };
    let parent = TraceContextPropagator::new().extract(&NatsIn(headers));
    let _ = span.set_parent(parent);
}

/// Makes `span` a child of the trace an HTTP request carries; a new root when it carries none.
pub fn follow_http(span: &Span, headers: &http::HeaderMap) {
    if span.is_none() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HttpIn(headers));
    let _ = span.set_parent(parent);
}

struct NatsOut<'a>(&'a mut async_nats::HeaderMap);

impl Injector for NatsOut<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct NatsIn<'a>(&'a async_nats::HeaderMap);

impl Extractor for NatsIn<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .map(|(name, _)| AsRef::<str>::as_ref(name))
            .collect()
    }
}

struct HttpIn<'a>(&'a http::HeaderMap);

impl Extractor for HttpIn<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
