//! The `x-api-key` check every API request passes, through `auth.apikey.verify` with a short cache.

use std::time::Duration;

use async_nats::HeaderMap;
use contracts::auth::{APIKEY_VERIFY as APIKEY_VERIFY_SUBJECT, ApiKeyVerifyRequest};
use moka::future::Cache;
use runtime::ApiError;

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

    /// 401 without a key, 403 for an invalid one, 503 when the auth function cannot answer.
    pub async fn check(&self, key: Option<&str>) -> Result<(), ApiError> {
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
        match runtime::request(
            &self.client,
            APIKEY_VERIFY_SUBJECT,
            HeaderMap::new(),
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
            Err(ApiError::Internal(cause)) => Err(ApiError::Internal(cause)),
            Err(_) => Err(ApiError::Forbidden("the API key is not valid".into())),
        }
    }
}
