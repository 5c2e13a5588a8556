//! One HTTP request is one trace: the bridge, blog and auth binaries export their spans over
//! OTLP/HTTP to a receiver started here, with the same trace id and parent links that follow the
//! request from the bridge through the guard's token check and on into the event it publishes.
//!
//! Needs the auth, blog and http-bridge binaries built (`cargo build --bins`); it says so rather than skip.

mod common;
mod otlp;

use std::time::{Duration, Instant};

use common::platform::{Api, access, functions_env};
use common::{KEY, Setup};
use harness::Process;
use http::{Method, StatusCode};
use otlp::{CLIENT, CONSUMER, PRODUCER, Received, Receiver, SERVER};
use serde_json::{Value, json};

/// The variables that switch exporting on, pointed at `receiver`, for service `name`.
fn otel_env(receiver: &Receiver, name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.clone()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ("OTEL_SERVICE_NAME", name.into()),
        ("OTEL_TRACES_SAMPLER", "parentbased_always_on".into()),
        // Export every 100 ms rather than every 5 s, so the test reads its trace quickly.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
    ]
}

#[tokio::test]
async fn one_request_is_one_trace_across_bridge_blog_and_auth() {
    let receiver = Receiver::start().await;
    let setup = Setup::without_bridge().await;
    let _functions: Vec<Process> = functions_env(KEY)
        .iter()
        .map(|(name, env)| {
            let mut env = env.clone();
            env.extend(otel_env(&receiver, name));
            setup.function(name, name, &env)
        })
        .collect();
    let port = harness::free_port();
    let _bridge = Process::spawn(
        "http-bridge",
        setup
            .world
            .command(env!("CARGO_BIN_EXE_http-bridge"))
            .env("BRIDGE_ADDR", format!("127.0.0.1:{port}"))
            .env("BRIDGE_DISCOVERY_INTERVAL_MS", "200")
            .envs(otel_env(&receiver, "http-bridge")),
    );
    harness::wait_for_port(port, Duration::from_secs(10), "the bridge");
    let api = Api {
        http: setup.http.clone(),
        bridge: ([127, 0, 0, 1], port).into(),
        key: KEY,
    };
    common::wait_for_route(&api.http, api.bridge, "/blog/author").await;
    common::wait_for_route(&api.http, api.bridge, "/auth/signin/basic").await;
    let credentials = json!({"email": "tracer@example.com", "password": "secret-pass"});
    api.new_author("tracer@example.com", "secret-pass", "Tracer")
        .await;
    let draft = json!({"title": "Traces", "description": "One request, one trace", "draftText": "Spans.", "slug": "traces", "tags": ["otel"]});
    let fresh = fresh_token(&api, &credentials).await;
    let created = api
        .ok(Method::POST, "/blog/author", Some(&fresh), draft)
        .await;
    let id = created["_id"].as_str().expect("blog id").to_owned();

    // With the client's traceparent: the bridge's span is its child, and the deletion's event
    // carries the trace to the fan-out handler that applies it.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let token = fresh_token(&api, &credentials).await;
    let traceparent = format!("00-{trace_id}-{client_span}-01");
    let (status, reply) = send(
        &api,
        Method::DELETE,
        &format!("/blog/author/id/{id}"),
        &token,
        &[("traceparent", &traceparent)],
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let trace = wait_for_trace(&receiver, trace_id, |spans| {
        complete(spans, "blog.author.delete", client_span)
            && spans
                .iter()
                .any(|s| s.kind == CONSUMER && s.attr(DESTINATION) == "blog.events.changed")
    })
    .await
    .unwrap_or_else(|spans| panic!("trace {trace_id} never completed: {spans:#?}"));
    let bridge = check_links(&trace, "blog.author.delete", client_span);
    assert_eq!(bridge.parent_id, client_span, "{bridge:#?}");
    let consumer = find(&trace, |s| {
        s.kind == CONSUMER && s.attr(DESTINATION) == "blog.events.changed"
    });
    let producer = parent_of(&trace, consumer);
    assert!(
        producer.kind == PRODUCER && producer.service == "blog",
        "the event's handler continues from the publish: {producer:#?}"
    );

    // Without one: the trace starts at the bridge.
    let token = fresh_token(&api, &credentials).await;
    let request_id = format!("trace-root-{}", std::process::id());
    let draft = json!({"title": "Roots", "description": "A trace the bridge starts", "draftText": "Root.", "slug": "roots", "tags": ["otel"]});
    let (status, reply) = send(
        &api,
        Method::POST,
        "/blog/author",
        &token,
        &[("x-request-id", &request_id)],
        draft,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let root = wait_for(|| {
        receiver
            .spans()
            .into_iter()
            .find(|s| s.attr("request_id") == request_id)
    })
    .await
    .expect("the bridge exports the span of the request it started");
    let trace = wait_for_trace(&receiver, &root.trace_id, |spans| {
        complete(spans, "blog.author.create", "")
    })
    .await
    .unwrap_or_else(|spans| panic!("trace {} never completed: {spans:#?}", root.trace_id));
    let bridge = check_links(&trace, "blog.author.create", "");
    assert!(
        bridge.parent_id.is_empty(),
        "the bridge's span is the root: {bridge:#?}"
    );
}

#[tokio::test]
async fn spans_still_queued_are_exported_when_the_bridge_drains() {
    let receiver = Receiver::start().await;
    let setup = Setup::without_bridge().await;
    let port = harness::free_port();
    let bridge = Process::spawn(
        "http-bridge",
        setup
            .world
            .command(env!("CARGO_BIN_EXE_http-bridge"))
            .env("BRIDGE_ADDR", format!("127.0.0.1:{port}"))
            .envs(otel_env(&receiver, "http-bridge"))
            // Far past the test: only the flush on SIGTERM can deliver the span.
            .env("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    );
    harness::wait_for_port(port, Duration::from_secs(10), "the bridge");
    let reply = setup
        .http
        .send(
            Method::GET,
            &format!("http://127.0.0.1:{port}/no/such/route"),
            "",
            &[("x-api-key", KEY)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(receiver.spans().is_empty(), "exported before the drain");

    let (code, _) = bridge.stop(Duration::from_secs(15)).await;

    assert_eq!(code, Some(0));
    let spans = receiver.spans();
    let span = spans
        .iter()
        .find(|s| s.service == "http-bridge" && s.kind == SERVER)
        .unwrap_or_else(|| panic!("no request span after the drain: {spans:#?}"));
    assert_eq!(span.attr("status"), "404", "{span:#?}");
    assert_eq!(span.attr("http.route"), "(unmatched)", "{span:#?}");
    assert!(span.parent_id.is_empty(), "{span:#?}");
}

/// Attribute naming the subject of a NATS span.
const DESTINATION: &str = "messaging.destination.name";
/// How long the spans of one request may take to arrive (exports run every 100 ms).
const ARRIVAL: Duration = Duration::from_secs(20);

/// A new access token for `credentials`: no function has cached it yet, so blog's guard asks auth.
async fn fresh_token(api: &Api, credentials: &Value) -> String {
    access(
        &api.ok(
            Method::POST,
            "/auth/signin/basic",
            None,
            credentials.clone(),
        )
        .await,
    )
}

/// `body` as JSON with the API key, `token` and the `extra` headers.
async fn send(
    api: &Api,
    method: Method,
    path: &str,
    token: &str,
    extra: &[(&str, &str)],
    body: Value,
) -> (StatusCode, Value) {
    let bearer = format!("Bearer {token}");
    let mut headers = vec![
        ("x-api-key", api.key),
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    let url = format!("http://{}{path}", api.bridge);
    let reply = api
        .http
        .send(method, &url, body.to_string(), &headers)
        .await;
    (reply.status, reply.json())
}

/// Polls until `found` gives something, for at most [`ARRIVAL`].
async fn wait_for<T>(found: impl Fn() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return Some(value);
        }
        if started.elapsed() > ARRIVAL {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The spans of `trace_id` once `done` holds for them; what had arrived when it never did.
async fn wait_for_trace(
    receiver: &Receiver,
    trace_id: &str,
    done: impl Fn(&[Received]) -> bool,
) -> Result<Vec<Received>, Vec<Received>> {
    wait_for(|| Some(receiver.trace(trace_id)).filter(|spans| done(spans)))
        .await
        .ok_or_else(|| receiver.trace(trace_id))
}

/// The bridge's, blog's and auth's server spans are in, and every span's parent is too (or is
/// the client's span, `external`).
fn complete(spans: &[Received], subject: &str, external: &str) -> bool {
    let server = |service: &str, subject: &str| {
        spans
            .iter()
            .any(|s| s.service == service && s.kind == SERVER && s.attr(DESTINATION) == subject)
    };
    spans
        .iter()
        .any(|s| s.service == "http-bridge" && s.kind == SERVER)
        && server("blog", subject)
        && server("auth", "auth.token.verify")
        && spans.iter().all(|s| {
            s.parent_id.is_empty()
                || s.parent_id == external
                || spans.iter().any(|p| p.span_id == s.parent_id)
        })
}

/// The one span matching `which`; panics naming the trace otherwise.
fn find(trace: &[Received], which: impl Fn(&Received) -> bool) -> &Received {
    let found: Vec<_> = trace.iter().filter(|s| which(s)).collect();
    assert_eq!(found.len(), 1, "expected one such span in {trace:#?}");
    found[0]
}

/// The span `child` names as its parent; panics when it is not in the trace.
fn parent_of<'a>(trace: &'a [Received], child: &Received) -> &'a Received {
    trace
        .iter()
        .find(|s| s.span_id == child.parent_id)
        .unwrap_or_else(|| panic!("the parent of {child:#?} is not in the trace"))
}

/// Checks the chain bridge -> NATS leg -> blog's handler -> guard's request -> auth's handler,
/// the store calls, and that the bridge's span is the only one whose parent is outside the trace;
/// the bridge's span.
fn check_links<'a>(trace: &'a [Received], subject: &str, external: &str) -> &'a Received {
    let bridge = find(trace, |s| s.service == "http-bridge" && s.kind == SERVER);
    assert_eq!(bridge.attr("status"), "200", "{bridge:#?}");
    let route = bridge.attr("http.route");
    assert!(
        !route.is_empty() && bridge.name.ends_with(route),
        "named by its route: {bridge:#?}"
    );
    let leg = find(trace, is("http-bridge", CLIENT, subject));
    let handler = find(trace, is("blog", SERVER, subject));
    let verify = find(trace, is("blog", CLIENT, "auth.token.verify"));
    let verified = find(trace, is("auth", SERVER, "auth.token.verify"));
    for (child, parent) in [
        (leg, bridge),
        (handler, leg),
        (verify, handler),
        (verified, verify),
    ] {
        assert_eq!(
            parent_of(trace, child).span_id,
            parent.span_id,
            "{child:#?} should be a child of {parent:#?}"
        );
    }
    assert_eq!(handler.attr("status"), "200", "{handler:#?}");
    let stores = |service: &str| {
        trace
            .iter()
            .filter(|s| s.service == service && !s.attr("db.system").is_empty())
            .map(|s| s.attr("db.system"))
            .collect::<Vec<_>>()
    };
    assert!(stores("blog").contains(&"mongodb"), "{trace:#?}");
    assert!(!stores("auth").is_empty(), "auth's store calls: {trace:#?}");
    let outside: Vec<_> = trace
        .iter()
        .filter(|s| !trace.iter().any(|p| p.span_id == s.parent_id))
        .collect();
    assert_eq!(outside.len(), 1, "one root: {outside:#?}");
    assert_eq!(outside[0].span_id, bridge.span_id);
    assert!(bridge.parent_id.is_empty() || bridge.parent_id == external);
    bridge
}

/// Spans of `service` of this `kind` on subject `destination`.
fn is<'a>(service: &'a str, kind: i32, destination: &'a str) -> impl Fn(&Received) -> bool + 'a {
    move |s| s.service == service && s.kind == kind && s.attr(DESTINATION) == destination
}
