//! API keys, stored as SHA-256 hashes.

use uuid::Uuid;

use runtime::outbox::Staged;

use super::{AuthStore, outbox};
use crate::error::AuthError;
use crate::events;

/// An active API key as the store reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// The key's id.
    pub id: Uuid,
    /// What the key may be used for.
    pub permissions: Vec<String>,
}

impl AuthStore {
    /// Stores a new key by its hash.
    #[tracing::instrument(target = "otel", name = "postgres.insert_api_key", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn insert_api_key(
        &self,
        id: Uuid,
        key_hash: &str,
        comment: &str,
    ) -> Result<(), AuthError> {
        sqlx::query("INSERT INTO api_keys (id, key_hash, comments) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(key_hash)
            .bind(comment)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the seed key unless a key with this hash exists.
    #[tracing::instrument(target = "otel", name = "postgres.ensure_api_key", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn ensure_api_key(&self, key_hash: &str, comment: &str) -> Result<(), AuthError> {
        sqlx::query(
            "INSERT INTO api_keys (id, key_hash, comments) VALUES ($1, $2, $3) ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(Uuid::new_v4())
        .bind(key_hash)
        .bind(comment)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The active key with this hash.
    #[tracing::instrument(target = "otel", name = "postgres.api_key_by_hash", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKeyRow>, AuthError> {
        Ok(sqlx::query_as::<_, ApiKeyRow>(
            "SELECT id, permissions FROM api_keys WHERE key_hash = $1 AND status",
        )
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Deactivates a key, staging its revocation event, and returns its hash (to drop its cache
    /// entry); `None` when no active key has this id.
    #[tracing::instrument(target = "otel", name = "postgres.revoke_api_key", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn revoke_api_key(&self, id: Uuid) -> Result<Option<(String, Staged)>, AuthError> {
        let mut tx = self.pool.begin().await?;
        let hash: Option<String> = sqlx::query_scalar(
            "UPDATE api_keys SET status = false, updated_at = now() WHERE id = $1 AND status RETURNING key_hash",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(hash) = hash else {
            return Ok(None);
        };
        let event = events::api_key_revoked(&id.to_string());
        outbox::stage(&mut tx, std::slice::from_ref(&event)).await?;
        tx.commit().await?;
        Ok(Some((hash, event)))
    }
}
