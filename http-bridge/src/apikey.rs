//! The `x-api-key` check every API request passes, through `auth.apikey.verify` with a short cache
//! that a revocation event empties before the next check (see [`contracts::Revocations`]).

use std::net::IpAddr;
use std::time::Duration;

use async_nats::HeaderMap;
use contracts::Revocations;
use contracts::auth::{
    APIKEY_REVOKED as APIKEY_REVOKED_SUBJECT, APIKEY_VERIFY as APIKEY_VERIFY_SUBJECT, ApiKeyInfo,
    ApiKeyRevoked, ApiKeyVerifyRequest,
};
use moka::future::Cache;
use runtime::ApiError;
use runtime::wire::CLIENT_ADDR;

/// The TCP peer address of an HTTP request, put in its extensions by the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Remembers valid keys for a few seconds so the auth function is not asked on every request.
#[derive(Clone)]
pub struct ApiKeys {
    client: async_nats::Client,
    /// Valid keys and their ids, so a revocation (which names the id) can evict them.
    valid: Cache<String, String>,
    revocations: Revocations<ApiKeyRevoked>,
    timeout: Duration,
}

impl ApiKeys {
    /// A checker that trusts a verified key for `ttl`, or until its revocation event.
    pub fn new(client: async_nats::Client, ttl: Duration, timeout: Duration) -> Self {
        let valid: Cache<String, String> = Cache::builder()
            .max_capacity(10_000)
            .time_to_live(ttl)
            .support_invalidation_closures()
            .build();
        let revocations = Revocations::new({
            let valid = valid.clone();
            move |event: ApiKeyRevoked| {
                // Only fails when closures are unsupported, which the builder rules out.
                let _ = valid.invalidate_entries_if(move |_, id| *id == event.id);
            }
        });
        Self {
            client,
            valid,
            revocations,
            timeout,
        }
    }

    /// Subscribes to API-key revocations; the returned task applies them while no requests come.
    pub async fn listen_for_revocations(
        &self,
    ) -> Result<tokio::task::JoinHandle<()>, async_nats::SubscribeError> {
        self.revocations
            .listen(&self.client, APIKEY_REVOKED_SUBJECT)
            .await
    }

    /// 401 without a key, 403 for an invalid one, 429 when `client` has guessed wrong too often,
    /// 503 when the auth function cannot answer. `client` goes to auth as `X-Client-Addr`.
    pub async fn check(
        &self,
        key: Option<&str>,
        client: Option<ClientAddr>,
    ) -> Result<(), ApiError> {
        let key = key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::Unauthorized("the x-api-key header is required".into()))?;
        self.revocations.apply_pending();
        if self.valid.contains_key(key) {
            return Ok(());
        }
        let body = serde_json::to_vec(&ApiKeyVerifyRequest {
            key: key.to_owned(),
        })
        .map_err(ApiError::internal)?;
        let headers = || {
            let mut headers = HeaderMap::new();
            if let Some(ClientAddr(addr)) = client {
                headers.insert(CLIENT_ADDR, addr.to_string().as_str());
            }
            headers
        };
        // A key check only reads, so a copy lost to a draining auth replica is sent again.
        match runtime::request_hedged(
            &self.client,
            APIKEY_VERIFY_SUBJECT,
            headers,
            body.into(),
            self.timeout,
        )
        .await
        .and_then(runtime::decode)
        {
            Ok(reply) => {
                let info: ApiKeyInfo = serde_json::from_slice(&reply).map_err(|err| {
                    ApiError::internal(format!("malformed {APIKEY_VERIFY_SUBJECT} reply: {err}"))
                })?;
                self.valid.insert(key.to_owned(), info.id).await;
                Ok(())
            }
            Err(ApiError::Unavailable(m) | ApiError::Timeout(m)) => Err(ApiError::Unavailable(
                format!("cannot check the API key now: {m}"),
            )),
            Err(err @ (ApiError::Internal(_) | ApiError::TooManyRequests { .. })) => Err(err),
            Err(_) => Err(ApiError::Forbidden("the API key is not valid".into())),
        }
    }
}
