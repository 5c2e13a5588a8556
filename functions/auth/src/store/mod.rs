//! Data access for the auth function: PostgreSQL through sqlx, one file per table family.

mod api_keys;
pub mod keystores;
mod outbox;
mod users;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub use api_keys::ApiKeyRow;

/// Embedded at compile time from `migrations/`, so no database is needed to build.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// How long a request waits for a pooled connection before answering 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Users, roles, keystores and API keys in PostgreSQL.
#[derive(Clone)]
pub struct AuthStore {
    pool: PgPool,
}

impl AuthStore {
    /// Connects with a short acquire timeout: a database that is down is a 503, not a hang,
    /// and the pool reconnects by itself when it is back.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    /// Applies pending migrations; sqlx holds an advisory lock, so replicas may start together.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// The pool, for tests that inspect stored state.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
