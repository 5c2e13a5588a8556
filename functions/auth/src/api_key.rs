//! API keys: issued by admins, checked for the bridge, revoked at once (cached checks included).

use contracts::auth::ApiKeyInfo;
use runtime::outbox::Staged;
use uuid::Uuid;

use crate::dto::CreatedApiKey;
use crate::error::AuthError;
use crate::secret::{hash_api_key, random_secret};
use crate::state::AuthState;

impl AuthState {
    /// Issues a key for `comment` (already checked); only its hash is stored, so the plaintext
    /// in the reply is the only copy.
    pub async fn create_api_key(&self, comment: &str) -> Result<CreatedApiKey, AuthError> {
        let (id, key) = (Uuid::new_v4(), random_secret());
        self.store
            .insert_api_key(id, &hash_api_key(&key), comment)
            .await?;
        Ok(CreatedApiKey {
            id: id.to_string(),
            key,
        })
    }

    /// What an API key may do; 401 when empty, 403 when unknown or revoked.
    pub async fn verify_api_key(&self, key: &str) -> Result<ApiKeyInfo, AuthError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(AuthError::MissingApiKey);
        }
        let hash = hash_api_key(key);
        if let Some(info) = self.cache.api_key(&hash).await {
            return Ok(info);
        }
        let row = self
            .store
            .api_key_by_hash(&hash)
            .await?
            .ok_or(AuthError::InvalidApiKey)?;
        let info = ApiKeyInfo {
            id: row.id.to_string(),
            permissions: row.permissions,
        };
        self.cache.put_api_key(&hash, &info).await;
        Ok(info)
    }

    /// Deactivates an API key and drops its cache entry before returning; returns the revocation
    /// event stored with it.
    pub async fn revoke_api_key(&self, id: Uuid) -> Result<Staged, AuthError> {
        let (hash, event) = self
            .store
            .revoke_api_key(id)
            .await?
            .ok_or_else(|| AuthError::NotFound(format!("no active API key has id '{id}'")))?;
        self.cache.forget_api_key(&hash).await;
        Ok(event)
    }
}
