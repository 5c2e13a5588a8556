//! The `x-api-key` check every API request passes, through `auth.apikey.verify` with a short cache.

use std::net::IpAddr;
use std::time::Duration;

use async_nats::HeaderMap;
use contracts::auth::{APIKEY_VERIFY as APIKEY_VERIFY_SUBJECT, ApiKeyVerifyRequest};
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
    valid: Cache<String, ()>,
    timeout: Duration,
}

impl ApiKeys {
    /// A checker that trusts a verified key for `ttl`.
    pub fn new(client: async_nats::Client, ttl: Duration, timeout: Duration) -> Self {
        Self {
            client,
            valid: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            timeout,
        }
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
        if self.valid.contains_key(key) {
            return Ok(());
        }
        let body = serde_json::to_vec(&ApiKeyVerifyRequest {
            key: key.to_owned(),
        })
        .map_err(ApiError::internal)?;
        let mut headers = HeaderMap::new();
        if let Some(ClientAddr(addr)) = client {
            headers.insert(CLIENT_ADDR, addr.to_string().as_str());
        }
        match runtime::request(
            &self.client,
            APIKEY_VERIFY_SUBJECT,
            headers,
            body.into(),
            self.timeout,
        )
        .await
        {
            Ok(_) => {
                self.valid.insert(key.to_owned(), ()).await;
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
