//! Resolves the caller from a bearer token through `auth.token.verify` and enforces roles.
//!
//! Resolved callers are cached in-process; a revocation event evicts them before the next
//! request, on every replica, because every replica subscribes to it without a queue group.
//! See [`crate::Revocations`] for why the next request after a revoking 200 is refused.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use futures::future::BoxFuture;
use runtime::{Access, ApiError, Authorize, HandlerDef, Identity, Meta, wire};

use crate::auth::{TOKEN_VERIFY as TOKEN_VERIFY_SUBJECT, TokenRevoked, TokenVerifyRequest};
use crate::caller::Caller;
use crate::caller_cache::CallerCache;
use crate::token_check::TokenCheck;

/// The guard's settings; flatten into a function's own `clap::Parser`.
#[derive(Debug, Clone, clap::Args)]
pub struct GuardSettings {
    /// Seconds a resolved caller stays cached (revocations evict sooner).
    #[arg(long, env = "IDENTITY_CACHE_SECS", default_value_t = 300)]
    pub identity_cache_secs: u64,
    /// Milliseconds to wait for `auth.token.verify`.
    #[arg(long, env = "AUTH_TIMEOUT_MS", default_value_t = 2_000)]
    pub auth_timeout_ms: u64,
    /// auth's PEM RSA public key: tokens are checked against it before auth is asked. Unset only in
    /// embedded tests; a key that is set but unreadable stops the service at start.
    #[arg(
        id = "guard_jwt_public_key_path",
        long = "guard-jwt-public-key",
        env = "JWT_PUBLIC_KEY_PATH"
    )]
    pub jwt_public_key_path: Option<PathBuf>,
    /// `iss` every access token must carry.
    #[arg(
        id = "guard_jwt_issuer",
        long = "guard-jwt-issuer",
        env = "JWT_ISSUER",
        default_value = "blog-auth"
    )]
    pub jwt_issuer: String,
    /// `aud` every access token must carry.
    #[arg(
        id = "guard_jwt_audience",
        long = "guard-jwt-audience",
        env = "JWT_AUDIENCE",
        default_value = "blog"
    )]
    pub jwt_audience: String,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            identity_cache_secs: 300,
            auth_timeout_ms: 2_000,
            jwt_public_key_path: None,
            jwt_issuer: "blog-auth".into(),
            jwt_audience: "blog".into(),
        }
    }
}

impl GuardSettings {
    /// What `Service::authorizer` takes: builds the guard on the service's connection.
    ///
    /// The public key is read here; a failure surfaces when the service starts, naming the file.
    pub fn authorizer(&self) -> impl FnOnce(async_nats::Client) -> Guard + Send + 'static {
        let ttl = Duration::from_secs(self.identity_cache_secs);
        let timeout = Duration::from_millis(self.auth_timeout_ms);
        let check = self.token_check();
        move |nats| Guard::new(nats, ttl, timeout).with_check(check)
    }

    fn token_check(&self) -> Result<Option<TokenCheck>, String> {
        match &self.jwt_public_key_path {
            None => {
                tracing::warn!("JWT_PUBLIC_KEY_PATH is unset: tokens are not checked locally");
                Ok(None)
            }
            Some(path) => TokenCheck::load(path, &self.jwt_issuer, &self.jwt_audience).map(Some),
        }
    }
}

/// Caller resolution shared by every endpoint of a service.
#[derive(Clone)]
pub struct Guard {
    nats: async_nats::Client,
    /// Callers by token; revocation events empty it before every lookup.
    cache: CallerCache,
    timeout: Duration,
    /// The local signature check; an error here is reported when the service starts.
    check: Arc<Result<Option<TokenCheck>, String>>,
}

impl Guard {
    /// A guard that caches identities for at most `ttl` and waits `timeout` for the auth function.
    pub fn new(nats: async_nats::Client, ttl: Duration, timeout: Duration) -> Self {
        Self {
            nats,
            cache: CallerCache::new(ttl),
            timeout,
            check: Arc::new(Ok(None)),
        }
    }

    /// Checks every token's signature and expiry locally before auth is asked.
    pub fn with_check(mut self, check: Result<Option<TokenCheck>, String>) -> Self {
        self.check = Arc::new(check);
        self
    }

    /// Subscribes to revocation events; the returned task applies them while no requests come.
    pub async fn listen_for_revocations(
        &self,
    ) -> Result<tokio::task::JoinHandle<()>, async_nats::SubscribeError> {
        self.cache.listen(&self.nats).await
    }

    /// Drops every cached caller the event covers.
    pub fn evict(&self, event: TokenRevoked) {
        self.cache.evict(&event);
    }

    /// The caller of a request to `def`, or why it may not proceed (401/403/503).
    pub async fn caller(&self, def: &HandlerDef, meta: &Meta) -> Result<Option<Caller>, ApiError> {
        match (def.access, meta.token.as_deref()) {
            (Access::Public, _) | (Access::Optional, None) => Ok(None),
            (Access::Bearer, None) => Err(ApiError::Unauthorized(
                "a bearer token is required in the Authorization header".into(),
            )),
            (_, Some(token)) => {
                let caller = self.resolve(token, meta).await?;
                if !caller.has_any_role(def.roles) {
                    return Err(ApiError::Forbidden(format!(
                        "this needs one of the roles {}",
                        def.roles.join(", ")
                    )));
                }
                Ok(Some(caller))
            }
        }
    }

    async fn resolve(&self, token: &str, meta: &Meta) -> Result<Caller, ApiError> {
        if let Some(caller) = self.cache.get(token, chrono::Utc::now().timestamp()).await {
            return Ok(caller);
        }
        // Only a token auth's key signed, still valid, is worth asking about; and auth's answer must
        // be about that token's user, so a forged reply cannot lend a real token another identity.
        let checked = match self.check.as_ref() {
            Ok(Some(check)) => Some(check.verify(token)?),
            Ok(None) => None,
            Err(why) => return Err(ApiError::internal(why)),
        };
        let epoch = self.cache.epoch();
        let headers = || {
            let mut headers = HeaderMap::new();
            headers.insert(wire::REQUEST_ID, meta.request_id.as_str());
            // With tracing off here the caller's context still passes on; with it on, the
            // request's own span replaces it.
            if let Some(traceparent) = &meta.traceparent {
                headers.insert(wire::TRACEPARENT, traceparent.as_str());
            }
            headers
        };
        let body = serde_json::to_vec(&TokenVerifyRequest {
            access_token: token.to_owned(),
        })
        .map_err(ApiError::internal)?;
        // A verify only reads, so a copy lost to a draining auth replica is sent again.
        let reply = runtime::request_hedged(
            &self.nats,
            TOKEN_VERIFY_SUBJECT,
            headers,
            body.into(),
            self.timeout,
        )
        .await
        .and_then(runtime::decode)
        .map_err(|err| match err {
            ApiError::Unauthorized(_)
            | ApiError::Forbidden(_)
            | ApiError::NotFound(_)
            | ApiError::BadRequest(_) => {
                ApiError::Unauthorized(format!("invalid access token: {err}"))
            }
            ApiError::Unavailable(_) | ApiError::Timeout(_) => {
                ApiError::Unavailable(format!("cannot verify the access token now: {err}"))
            }
            other => other,
        })?;
        let mut caller: Caller = serde_json::from_slice(&reply).map_err(|err| {
            ApiError::internal(format!("malformed {TOKEN_VERIFY_SUBJECT} reply: {err}"))
        })?;
        if let Some(checked) = checked {
            if caller.id() != checked.sub {
                tracing::error!(sub = %checked.sub, answered = %caller.id(), "{TOKEN_VERIFY_SUBJECT} answered for another user; refusing");
                return Err(ApiError::Unauthorized(
                    "the access token could not be verified".into(),
                ));
            }
            caller.expires_at = Some(
                caller
                    .expires_at
                    .map_or(checked.exp, |e| e.min(checked.exp)),
            );
        }
        self.cache
            .insert(token.to_owned(), caller.clone(), epoch)
            .await;
        Ok(caller)
    }
}

impl Authorize for Guard {
    fn reset(&self) {
        self.cache.reset();
    }

    fn start(&self) -> BoxFuture<'_, Result<Option<tokio::task::JoinHandle<()>>, runtime::Error>> {
        Box::pin(async move {
            if let Err(why) = self.check.as_ref() {
                return Err(runtime::Error::Startup(why.clone()));
            }
            let task = self
                .listen_for_revocations()
                .await
                .map_err(|err| runtime::Error::Nats(err.to_string()))?;
            Ok(Some(task))
        })
    }

    fn authorize<'a>(
        &'a self,
        def: &'static HandlerDef,
        meta: &'a Meta,
    ) -> BoxFuture<'a, Result<Option<Identity>, ApiError>> {
        // Boxed by the trait, so the resolver's large state only costs the requests that need it.
        Box::pin(async move {
            let caller = self.caller(def, meta).await?;
            Ok(caller.map(|caller| Arc::new(caller) as Identity))
        })
    }
}
