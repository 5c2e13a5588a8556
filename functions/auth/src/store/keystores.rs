//! Keystore rows: one per live token pair, so deleting a row revokes both of its tokens.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use runtime::outbox::Staged;

use super::{AuthStore, outbox};
use crate::error::AuthError;
use crate::events;
use crate::model::User;

/// Keys of a token pair to store.
#[derive(Debug, Clone)]
pub struct Keystore {
    /// The user the pair belongs to.
    pub user_id: Uuid,
    /// Bound into the access token.
    pub primary_key: String,
    /// Bound into the refresh token.
    pub secondary_key: String,
    /// SHA-256 (hex) of the access token, the key of its cached identity.
    pub access_hash: String,
    /// When the refresh token expires; the row is useless after.
    pub expires_at: DateTime<Utc>,
}

/// What became of a refresh attempt.
#[derive(Debug)]
pub enum Rotation {
    /// The old pair is gone and the new one stored in its family.
    Rotated,
    /// The refresh token was used before: its whole family is revoked. The revoked pairs'
    /// primary keys and access-token hashes.
    Reused(Vec<(String, String)>),
    /// No live or used pair has these keys (revoked by sign-out, expired, or never issued).
    Unknown,
}

impl AuthStore {
    /// Records a new live token pair.
    #[tracing::instrument(target = "otel", name = "postgres.insert_keystore", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn insert_keystore(&self, keystore: &Keystore) -> Result<(), AuthError> {
        sqlx::query(
            "INSERT INTO keystores (id, user_id, primary_key, secondary_key, access_hash, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::new_v4())
        .bind(keystore.user_id)
        .bind(&keystore.primary_key)
        .bind(&keystore.secondary_key)
        .bind(&keystore.access_hash)
        .bind(keystore.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user behind a live access token, `None` when the pair was revoked or rotated.
    #[tracing::instrument(target = "otel", name = "postgres.user_by_primary_key", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn user_by_primary_key(&self, primary_key: &str) -> Result<Option<User>, AuthError> {
        let user_id: Option<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM keystores WHERE primary_key = $1 AND expires_at > now()",
        )
        .bind(primary_key)
        .fetch_optional(&self.pool)
        .await?;
        match user_id {
            Some(id) => self.user_by_id(id).await,
            None => Ok(None),
        }
    }

    /// Swaps the pair (`old_primary`, `old_secondary`) of `new.user_id` for `new`, in the same
    /// family, in one transaction; a refresh token used before revokes its whole family instead.
    /// Every pair revoked either way has its revocation event staged in that transaction.
    #[tracing::instrument(target = "otel", name = "postgres.rotate_keystore", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn rotate_keystore(
        &self,
        old_primary: &str,
        old_secondary: &str,
        new: &Keystore,
    ) -> Result<(Rotation, Vec<Staged>), AuthError> {
        let mut tx = self.pool.begin().await?;
        let family: Option<Uuid> = sqlx::query_scalar(
            "DELETE FROM keystores WHERE user_id = $1 AND primary_key = $2 AND secondary_key = $3 \
             RETURNING family",
        )
        .bind(new.user_id)
        .bind(old_primary)
        .bind(old_secondary)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(family) = family else {
            let used: Option<Uuid> =
                sqlx::query_scalar("SELECT family FROM used_refresh_keys WHERE secondary_key = $1")
                    .bind(old_secondary)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(family) = used else {
                return Ok((Rotation::Unknown, Vec::new()));
            };
            let revoked: Vec<(String, String)> = sqlx::query_as(
                "DELETE FROM keystores WHERE family = $1 RETURNING primary_key, access_hash",
            )
            .bind(family)
            .fetch_all(&mut *tx)
            .await?;
            let events: Vec<Staged> = revoked
                .iter()
                .map(|(primary, _)| events::pair_revoked(primary))
                .collect();
            outbox::stage(&mut tx, &events).await?;
            tx.commit().await?;
            return Ok((Rotation::Reused(revoked), events));
        };
        sqlx::query(
            "INSERT INTO used_refresh_keys (secondary_key, family, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(old_secondary)
        .bind(family)
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM used_refresh_keys WHERE expires_at < now()")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO keystores (id, user_id, primary_key, secondary_key, access_hash, expires_at, family) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::new_v4())
        .bind(new.user_id)
        .bind(&new.primary_key)
        .bind(&new.secondary_key)
        .bind(&new.access_hash)
        .bind(new.expires_at)
        .bind(family)
        .execute(&mut *tx)
        .await?;
        let events = vec![events::pair_revoked(old_primary)];
        outbox::stage(&mut tx, &events).await?;
        tx.commit().await?;
        Ok((Rotation::Rotated, events))
    }

    /// Deletes the pair whose access token carries `primary_key`, staging its revocation event;
    /// returns its access-token hash and the event, `None` when already gone.
    #[tracing::instrument(target = "otel", name = "postgres.delete_keystore", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn delete_keystore(
        &self,
        primary_key: &str,
    ) -> Result<Option<(String, Staged)>, AuthError> {
        let mut tx = self.pool.begin().await?;
        let hash: Option<String> = sqlx::query_scalar(
            "DELETE FROM keystores WHERE primary_key = $1 RETURNING access_hash",
        )
        .bind(primary_key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(hash) = hash else {
            return Ok(None);
        };
        let event = events::pair_revoked(primary_key);
        outbox::stage(&mut tx, std::slice::from_ref(&event)).await?;
        tx.commit().await?;
        Ok(Some((hash, event)))
    }

    /// The access-token hashes of every live pair of a user, to drop their cached identities.
    #[tracing::instrument(target = "otel", name = "postgres.access_hashes_of", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn access_hashes_of(&self, user_id: Uuid) -> Result<Vec<String>, AuthError> {
        Ok(
            sqlx::query_scalar("SELECT access_hash FROM keystores WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
