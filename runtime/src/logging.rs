//! `tracing` set-up: text for terminals, JSON when `LOG_FORMAT=json`; `RUST_LOG` filters.
//!
//! Every line logged while a request is handled carries its subject and request id. They come from a
//! task-local scope rather than a per-request span: formatting a span's fields on every request cost
//! about 5% of the echo benchmark's throughput, while a task-local costs nothing until a line is written.

use std::fmt;
use std::future::Future;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, format::Format};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

tokio::task_local! {
    static REQUEST: RequestScope;
}

/// The request a task is working on, stamped onto each log line it writes.
#[derive(Debug, Clone)]
pub struct RequestScope {
    /// Subject of the endpoint handling the request.
    pub subject: &'static str,
    /// Correlation id of the request.
    pub request_id: String,
}

/// Runs `work` with `scope` as the request context of its log lines.
pub fn scope<F: Future>(scope: RequestScope, work: F) -> impl Future<Output = F::Output> {
    REQUEST.scope(scope, work)
}

/// Installs the global subscriber once; later calls (tests, embedded services) are no-ops.
///
/// With an OTLP endpoint in the environment, spans of target [`crate::telemetry::TARGET`] are also
/// exported (see [`crate::telemetry`]); the log lines stay the same either way.
pub fn init(log_format: LogFormat) {
    // Exported spans never reach the log formatter: without an exporter their callsites are off,
    // so building one costs a cached check.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(OTEL_OFF.parse().expect("a valid directive"));
    let installed = match crate::telemetry::layer() {
        None => tracing_subscriber::registry()
            .with(lines(log_format))
            .with(filter)
            .try_init(),
        Some(export) => tracing_subscriber::registry()
            .with(lines(log_format).with_filter(filter))
            .with(export)
            .try_init(),
    };
    if installed.is_ok() {
        std::panic::set_hook(Box::new(log_panic));
    }
}

/// Filter directive that keeps exported spans out of the log lines.
const OTEL_OFF: &str = "otel=off";

/// The log line formatter, text or JSON, writing to stderr.
fn lines<S>(log_format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match log_format {
        LogFormat::Json => Box::new(layer.fmt_fields(JsonFields::new()).event_format(
            WithRequest {
                inner: format().json().flatten_event(true),
                json: true,
            },
        )),
        LogFormat::Text => Box::new(layer.event_format(WithRequest {
            inner: format(),
            json: false,
        })),
    }
}

/// Panics are caught per request; logging them as ordinary lines keeps JSON logs parseable and
/// names the request that panicked.
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let location = info
        .location()
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(location, "panic: {payload}");
}

fn format() -> Format {
    format::format()
}

/// Wraps a formatter so lines written inside a request scope name the request: a prefix on text
/// lines, two leading fields on JSON objects.
struct WithRequest<F> {
    inner: F,
    json: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithRequest<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Ok((subject, request_id)) = REQUEST.try_with(|r| (r.subject, r.request_id.clone()))
        else {
            return self.inner.format_event(ctx, writer, event);
        };
        if !self.json {
            write!(writer, "[{subject} {request_id}] ")?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => {
                let quote = |s: &str| serde_json::to_string(s).map_err(|_| fmt::Error);
                write!(
                    writer,
                    "{{\"subject\":{},\"request_id\":{},{rest}",
                    quote(subject)?,
                    quote(&request_id)?
                )
            }
            None => writer.write_str(&line),
        }
    }
}
