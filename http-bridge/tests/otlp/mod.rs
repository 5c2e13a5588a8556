//! An OTLP/HTTP receiver started by the test: it takes `POST /v1/traces` as a collector would and
//! keeps every span, decoded with the `opentelemetry-proto` types.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use tokio::net::TcpListener;

/// OTLP span kinds, as the proto numbers them.
pub const SERVER: i32 = 2;
/// A request sent and waited on.
pub const CLIENT: i32 = 3;
/// A message published.
pub const PRODUCER: i32 = 4;
/// A message taken without a reply.
pub const CONSUMER: i32 = 5;

/// One exported span, with its service and ids in hex.
#[derive(Debug, Clone)]
pub struct Received {
    /// `service.name` of the process that exported it.
    pub service: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_id: String,
    pub name: String,
    pub kind: i32,
    pub attributes: BTreeMap<String, String>,
}

impl Received {
    /// The attribute `key` as text, or "" when absent.
    pub fn attr(&self, key: &str) -> &str {
        self.attributes.get(key).map_or("", String::as_str)
    }
}

#[derive(Default)]
struct Inbox {
    spans: Vec<Received>,
    refused: Vec<String>,
}

/// The receiver; its endpoint goes into `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub struct Receiver {
    pub endpoint: String,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    /// Listens on a free loopback port until the test ends.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OTLP receiver");
        let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let kept = inbox.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let inbox = kept.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| receive(inbox.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { endpoint, inbox }
    }

    /// Every span of trace `trace_id` received so far.
    pub fn trace(&self, trace_id: &str) -> Vec<Received> {
        let inbox = self.inbox.lock().expect("inbox");
        assert!(
            inbox.refused.is_empty(),
            "the receiver refused exports: {:?}",
            inbox.refused
        );
        inbox
            .spans
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Received> {
        self.inbox.lock().expect("inbox").spans.clone()
    }
}

async fn receive(
    inbox: Arc<Mutex<Inbox>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let decoded = (path == "/v1/traces")
        .then(|| ExportTraceServiceRequest::decode(body))
        .ok_or_else(|| format!("unexpected path {path}"))
        .and_then(|r| r.map_err(|err| format!("not an ExportTraceServiceRequest: {err}")));
    let mut inbox = inbox.lock().expect("inbox");
    let (status, reply) = match decoded {
        Ok(export) => {
            inbox.spans.extend(spans_of(export));
            let reply = ExportTraceServiceResponse::default().encode_to_vec();
            (StatusCode::OK, reply)
        }
        Err(why) => {
            inbox.refused.push(why);
            (StatusCode::BAD_REQUEST, Vec::new())
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(reply)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-protobuf"),
    );
    Ok(response)
}

fn spans_of(export: ExportTraceServiceRequest) -> Vec<Received> {
    let mut received = Vec::new();
    for resource_spans in export.resource_spans {
        let resource = attributes(
            resource_spans
                .resource
                .map(|r| r.attributes)
                .unwrap_or_default(),
        );
        let service = resource.get("service.name").cloned().unwrap_or_default();
        for span in resource_spans
            .scope_spans
            .into_iter()
            .flat_map(|scope| scope.spans)
        {
            received.push(Received {
                service: service.clone(),
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_id: hex(&span.parent_span_id),
                name: span.name,
                kind: span.kind,
                attributes: attributes(span.attributes),
            });
        }
    }
    received
}

fn attributes(list: Vec<KeyValue>) -> BTreeMap<String, String> {
    list.into_iter()
        .map(|kv| (kv.key, kv.value.map(text).unwrap_or_default()))
        .collect()
}

fn text(value: AnyValue) -> String {
    match value.value {
        Some(any_value::Value::StringValue(s)) => s,
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

/// Lower-case hex, as `traceparent` writes ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
