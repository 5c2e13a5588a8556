//! Handler arguments: one public trait pair, as axum's extractors, so anyone can add one.
//!
//! Every argument but the last implements [`FromRequestParts`]: it reads the request's parts
//! (headers, shared state, the caller's identity) and never the payload. The last argument
//! implements [`FromRequest`], which every `FromRequestParts` type does too, and which [`Json`]
//! adds for the one argument that consumes the payload. Each extractor also states at compile
//! time what it needs: the [`Access`] it implies and the state types it reads, which the service
//! checks when it starts.

use std::any::{Any, TypeId};
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::ctx::Ctx;
use crate::error::ApiError;
use crate::registry::Access;
use crate::request::Meta;

/// What an [`Authorize`](crate::Authorize) resolved a request's caller to; extractors downcast it.
pub type Identity = Arc<dyn Any + Send + Sync>;

/// Everything about one request except its payload; built by the runtime, read by extractors.
pub struct Parts {
    pub(crate) ctx: Ctx,
    pub(crate) meta: Meta,
    pub(crate) identity: Option<Identity>,
}

impl Parts {
    /// The service context (shared state, NATS client).
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// Request-scoped facts from the NATS headers.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The caller's identity as the service's authorizer resolved it, if it is a `T`.
    pub fn identity<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.identity.as_deref()?.downcast_ref::<T>()
    }
}

/// A state type a handler reads, named so a start-up error can say which one is missing.
#[derive(Debug, Clone, Copy)]
pub struct Need {
    /// The type's id, matched against the registered state.
    pub type_id: TypeId,
    /// The type's name, for the error message.
    pub type_name: &'static str,
}

impl Need {
    /// The need for state of type `T`.
    pub fn state<T: 'static>() -> Self {
        Self {
            type_id: TypeId::of::<T>(),
            type_name: std::any::type_name::<T>(),
        }
    }
}

/// A handler argument taken from the request's parts (like axum's `FromRequestParts`).
///
/// ```
/// use runtime::{ApiError, FromRequestParts, Parts, handler};
///
/// /// The HTTP client's address as the bridge saw it; a request without one is refused.
/// struct ClientAddr(String);
///
/// impl FromRequestParts for ClientAddr {
///     fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
///         let addr = parts.meta().client_addr.clone();
///         addr.map(ClientAddr)
///             .ok_or_else(|| ApiError::BadRequest("no client address".into()))
///     }
/// }
///
/// /// Say where the request came from.
/// #[handler(subject = "echo.addr")]
/// async fn addr(ClientAddr(addr): ClientAddr) -> Result<String, ApiError> {
///     Ok(addr)
/// }
/// # fn main() {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument here",
    label = "not an extractor",
    note = "take the JSON input last, as `Json<{Self}>`, or implement `runtime::FromRequestParts` for it"
)]
pub trait FromRequestParts: Sized {
    /// Who may call a handler taking this argument; the strictest argument wins.
    const ACCESS: Access = Access::Public;

    /// Adds the state types this extractor reads; the service refuses to start without them.
    fn needs(_out: &mut Vec<Need>) {}

    /// Takes this argument out of the request, or says why it cannot.
    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError>;
}

/// Marks the [`FromRequest`] impl every [`FromRequestParts`] type gets.
#[doc(hidden)]
pub enum ViaParts {}

/// Marks a [`FromRequest`] impl that reads the payload.
#[doc(hidden)]
pub enum ViaPayload {}

/// The last handler argument: may consume the payload (like axum's `FromRequest`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler's last argument",
    label = "not an extractor",
    note = "take the JSON input as `Json<{Self}>`, or implement `runtime::FromRequestParts` for it"
)]
///
/// `M` only keeps the blanket impl for [`FromRequestParts`] types apart from payload readers;
/// implement `FromRequest<ViaPayload>` for a new body extractor.
pub trait FromRequest<M = ViaPayload>: Sized {
    /// Who may call a handler taking this argument.
    const ACCESS: Access = Access::Public;

    /// Adds the state types this extractor reads.
    fn needs(_out: &mut Vec<Need>) {}

    /// Takes this argument out of the request and its payload.
    fn from_request(parts: &Parts, payload: Bytes) -> Result<Self, ApiError>;
}

impl<T: FromRequestParts> FromRequest<ViaParts> for T {
    const ACCESS: Access = T::ACCESS;

    fn needs(out: &mut Vec<Need>) {
        T::needs(out);
    }

    fn from_request(parts: &Parts, _payload: Bytes) -> Result<Self, ApiError> {
        T::from_request_parts(parts)
    }
}

/// The handler's input, deserialised from the JSON payload; an empty payload reads as `{}`.
///
/// Errors name the offending field (`invalid field 'limit': ...`) and are a 400.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<ViaPayload> for Json<T> {
    fn from_request(_parts: &Parts, payload: Bytes) -> Result<Self, ApiError> {
        crate::request::input(&payload).map(Json)
    }
}

/// Shared state registered with [`Service::state`](crate::Service::state), cloned per request.
///
/// The service refuses to start when a selected handler takes a `State<T>` that was never registered.
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromRequestParts for State<T> {
    fn needs(out: &mut Vec<Need>) {
        out.push(Need::state::<T>());
    }

    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        parts
            .ctx
            .try_state::<T>()
            .cloned()
            .map(State)
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "service state {} was never registered",
                    std::any::type_name::<T>()
                ))
            })
    }
}

impl FromRequestParts for Ctx {
    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        Ok(parts.ctx.clone())
    }
}

impl FromRequestParts for Meta {
    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        Ok(parts.meta.clone())
    }
}

/// The id of the event being handled (`Nats-Msg-Id`): the same on every redelivery and re-send,
/// so a handler that must not apply an event twice can remember it. A message without one is a 400;
/// take `Option<EventId>` to accept both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventId(pub String);

impl FromRequestParts for EventId {
    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        parts.meta.event_id.clone().map(EventId).ok_or_else(|| {
            ApiError::BadRequest(format!("the event has no {} header", crate::wire::EVENT_ID))
        })
    }
}

/// An optional argument: `None` where `T` cannot be extracted; a required caller becomes optional,
/// and an optional `State<T>` is not required at start.
impl<T: FromRequestParts> FromRequestParts for Option<T> {
    const ACCESS: Access = T::ACCESS.optional();

    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        Ok(T::from_request_parts(parts).ok())
    }
}

/// The [`Access`] a `FromRequest` type implies, callable in a `static` initialiser.
#[doc(hidden)]
pub const fn access_of<M, T: FromRequest<M>>() -> Access {
    T::ACCESS
}

/// Adds the needs of a `FromRequest` type.
#[doc(hidden)]
pub fn needs_of<M, T: FromRequest<M>>(out: &mut Vec<Need>) {
    T::needs(out);
}
