//! The event outbox: rows written in the transaction of the change they announce, read and
//! cleared by the runtime's relay once JetStream has acknowledged them.

use std::time::Duration;

use runtime::outbox::{OutboxStore, Staged};
use sqlx::PgConnection;

use super::AuthStore;
use crate::error::AuthError;

/// Stores `events` on `conn`, which must be the transaction of the change they announce.
pub(crate) async fn stage(conn: &mut PgConnection, events: &[Staged]) -> Result<(), AuthError> {
    for event in events {
        sqlx::query("INSERT INTO event_outbox (id, subject, payload) VALUES ($1, $2, $3)")
            .bind(&event.id)
            .bind(&event.subject)
            .bind(event.payload.as_ref())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl OutboxStore for AuthStore {
    async fn pending(&self, older_than: Duration, limit: usize) -> Result<Vec<Staged>, String> {
        let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, subject, payload FROM event_outbox \
             WHERE created_at < now() - make_interval(secs => $1) ORDER BY seq LIMIT $2",
        )
        .bind(older_than.as_secs_f64())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|err| err.to_string())?;
        Ok(rows
            .into_iter()
            .map(|(id, subject, payload)| Staged {
                id,
                subject,
                payload: payload.into(),
            })
            .collect())
    }

    async fn delivered(&self, ids: &[String]) -> Result<(), String> {
        sqlx::query("DELETE FROM event_outbox WHERE id = ANY($1)")
            .bind(ids)
            .execute(&self.pool)
            .await
            .map_err(|err| err.to_string())?;
        Ok(())
    }
}
