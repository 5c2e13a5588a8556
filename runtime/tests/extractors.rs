//! Handler arguments go through the public extractor traits, and what they need is checked at start.

use std::sync::Arc;

use futures::future::BoxFuture;
use harness::World;
use runtime::{
    Access, ApiError, Authorize, Error, FromRequestParts, HandlerDef, Identity, Json,
    Meta as RequestMeta, Parts, Running, Service, State, handler,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    world: &World,
    only: &str,
    tune: impl FnOnce(Service) -> Service,
) -> Result<Running, Error> {
    tune(Service::new("extractors", "0.1.0").config(world.config(&[only])))
        .start(world.client.clone())
        .await
}

#[tokio::test]
async fn a_user_type_named_meta_is_the_json_input() {
    let world = World::start().await;
    let _running = start(&world, "t.meta", |s| s).await.expect("starts");

    let reply = world.call("t.meta", r#"{"title":"hello"}"#).await;

    assert_eq!(reply, Ok(json!({"title": "hello"})));
}

#[tokio::test]
async fn missing_state_is_a_start_up_error_naming_handler_and_type() {
    let world = World::start().await;

    let err = start(&world, "t.state", |s| s)
        .await
        .err()
        .expect("refused");

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
    let world = World::start().await;
    let _running = start(&world, "t.state", |s| s.state(Counter(7)))
        .await
        .expect("starts");

    assert_eq!(world.call("t.state", "").await, Ok(json!(7)));
}

#[tokio::test]
async fn a_handler_needing_a_caller_without_an_authorizer_is_a_start_up_error() {
    let world = World::start().await;

    let err = start(&world, "t.tenant", |s| s)
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
    let world = World::start().await;
    let _running = start(&world, "t.tenant", |s| s.authorizer(|_| TokenIsTenant))
        .await
        .expect("starts");

    assert_eq!(
        world.call_as("acme", "t.tenant", "").await,
        Ok(json!("acme"))
    );
    let anonymous = world.call("t.tenant", "").await.unwrap_err();
    assert_eq!(anonymous.code(), 401, "{anonymous}");
}
