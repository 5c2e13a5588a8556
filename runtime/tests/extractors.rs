//! Handler arguments go through the public extractor traits, and what they need is checked at start.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use harness::NatsServer;
use runtime::{
    Access, ApiError, Authorize, Config, Error, FromRequestParts, HandlerDef, Identity, Json,
    Meta as RequestMeta, Parts, Running, Service, State, handler,
};
use serde::{Deserialize, Serialize};

/// A user type that happens to share its name with the runtime's `Meta`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Meta {
    title: String,
}

/// Echo a user `Meta`: the attribute dispatches on traits, never on a type's name.
#[handler(subject = "t.meta")]
async fn echo_meta(Json(meta): Json<Meta>) -> Result<Meta, ApiError> {
    Ok(meta)
}

/// State a handler reads.
#[derive(Clone)]
struct Counter(u32);

/// Read the registered counter.
#[handler(subject = "t.state")]
async fn counter(State(counter): State<Counter>) -> Result<u32, ApiError> {
    Ok(counter.0)
}

/// A user-defined extractor: the tenant the authorizer resolved the caller to.
struct Tenant(String);

impl FromRequestParts for Tenant {
    const ACCESS: Access = Access::Bearer;

    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        parts
            .identity::<String>()
            .cloned()
            .map(Tenant)
            .ok_or_else(|| ApiError::Unauthorized("no tenant".into()))
    }
}

/// Name the caller's tenant.
#[handler(subject = "t.tenant")]
async fn tenant(Tenant(name): Tenant) -> Result<String, ApiError> {
    Ok(name)
}

/// Resolves any bearer token to the tenant named by the token.
struct TokenIsTenant;

impl Authorize for TokenIsTenant {
    fn authorize<'a>(
        &'a self,
        _def: &'static HandlerDef,
        meta: &'a RequestMeta,
    ) -> BoxFuture<'a, Result<Option<Identity>, ApiError>> {
        Box::pin(async move {
            match &meta.token {
                Some(token) => Ok(Some(Arc::new(token.clone()) as Identity)),
                None => Err(ApiError::Unauthorized("a bearer token is required".into())),
            }
        })
    }
}

async fn start(
    nats: &NatsServer,
    only: &str,
    tune: impl FnOnce(Service) -> Service,
) -> Result<Running, Error> {
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let config = Config {
        only: vec![only.to_owned()],
        ..Config::with_nats_url(nats.url())
    };
    tune(Service::new("extractors", "0.1.0").config(config))
        .start(client)
        .await
}

async fn call(
    nats: &NatsServer,
    subject: &str,
    token: Option<&str>,
    body: &str,
) -> Result<String, ApiError> {
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut headers = async_nats::HeaderMap::new();
    if let Some(token) = token {
        headers.insert("Authorization", format!("Bearer {token}").as_str());
    }
    let reply = runtime::request(
        &client,
        subject,
        headers,
        body.to_owned().into(),
        Duration::from_secs(2),
    )
    .await?;
    Ok(String::from_utf8(reply.to_vec()).expect("utf-8 reply"))
}

#[tokio::test]
async fn a_user_type_named_meta_is_the_json_input() {
    let nats = NatsServer::start();
    let _running = start(&nats, "t.meta", |s| s).await.expect("starts");

    let reply = call(&nats, "t.meta", None, r#"{"title":"hello"}"#).await;

    assert_eq!(reply.as_deref(), Ok(r#"{"title":"hello"}"#));
}

#[tokio::test]
async fn missing_state_is_a_start_up_error_naming_handler_and_type() {
    let nats = NatsServer::start();

    let err = start(&nats, "t.state", |s| s).await.err().expect("refused");

    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::MissingState {
                subject: "t.state",
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("t.state") && text.contains("Counter"),
        "{text}"
    );
}

#[tokio::test]
async fn registered_state_reaches_the_handler() {
    let nats = NatsServer::start();
    let _running = start(&nats, "t.state", |s| s.state(Counter(7)))
        .await
        .expect("starts");

    assert_eq!(call(&nats, "t.state", None, "").await.as_deref(), Ok("7"));
}

#[tokio::test]
async fn a_handler_needing_a_caller_without_an_authorizer_is_a_start_up_error() {
    let nats = NatsServer::start();

    let err = start(&nats, "t.tenant", |s| s)
        .await
        .err()
        .expect("refused");

    assert!(
        matches!(
            err,
            Error::NoAuthorizer {
                subject: "t.tenant",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("t.tenant"), "{err}");
}

#[tokio::test]
async fn a_custom_extractor_reads_what_the_authorizer_resolved() {
    let nats = NatsServer::start();
    let _running = start(&nats, "t.tenant", |s| s.authorizer(|_| TokenIsTenant))
        .await
        .expect("starts");

    assert_eq!(
        call(&nats, "t.tenant", Some("acme"), "").await.as_deref(),
        Ok(r#""acme""#)
    );
    let anonymous = call(&nats, "t.tenant", None, "").await.unwrap_err();
    assert_eq!(anonymous.code(), 401, "{anonymous}");
}
