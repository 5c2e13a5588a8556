//! The exporting layer: built once from the `OTEL_*` variables, flushed at exit.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

use super::TARGET;

/// Read on every request; a relaxed load is all a process without tracing pays.
static ENABLED: AtomicBool = AtomicBool::new(false);
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether spans are exported: `init_logging` found an OTLP endpoint.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Exports the spans still queued and stops the exporter; call once, on the way out, so the last
/// requests before a shutdown still show up.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(err) = provider.shutdown()
    {
        tracing::warn!(%err, "cannot flush the last spans");
    }
}

/// The layer that exports [`TARGET`] spans over OTLP, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) names a collector; `None` otherwise.
///
/// The exporter reads the rest of the standard variables itself: `OTEL_SERVICE_NAME` (the
/// binary's name when unset), `OTEL_TRACES_SAMPLER` and `_ARG`, `OTEL_BSP_*`, headers, timeout.
pub(crate) fn layer<S>() -> Option<Box<dyn Layer<S> + Send + Sync>>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    if !configured() {
        return None;
    }
    // The subscriber is not installed yet, so problems go to stderr as they are.
    if let Some(other) = [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
    .iter()
    .find_map(|name| var(name))
    .filter(|protocol| protocol != "http/protobuf")
    {
        eprintln!("OTEL_EXPORTER_OTLP_PROTOCOL={other} is not built in; exporting http/protobuf");
    }
    let exporter = match SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            eprintln!("tracing stays off: cannot build the OTLP exporter: {err}");
            return None;
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer("nats-blog");
    if PROVIDER.set(provider).is_err() {
        return None;
    }
    ENABLED.store(true, Ordering::Relaxed);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_threads(false)
        .with_filter(filter_fn(|meta| meta.target() == TARGET));
    Some(Box::new(layer))
}

/// An endpoint is set and the SDK is not disabled by `OTEL_SDK_DISABLED` or `OTEL_TRACES_EXPORTER=none`.
fn configured() -> bool {
    let endpoint =
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
    endpoint.is_some() && !disabled
}

/// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; without a name, the binary's.
fn resource() -> Resource {
    let builder = Resource::builder();
    let named = var("OTEL_SERVICE_NAME").is_some()
        || var("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.contains("service.name="));
    match std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
    {
        Some(binary) if !named => builder.with_service_name(binary).build(),
        _ => builder.build(),
    }
}

/// A variable's value when set and not blank.
fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}
