//! Users and their roles.

use uuid::Uuid;

use runtime::outbox::Staged;

use super::{AuthStore, outbox};
use crate::error::AuthError;
use crate::events;
use crate::model::{NewUser, Role, User};

/// A [`User`] with its roles aggregated, filtered by `$where` (static SQL, so sqlx accepts it).
macro_rules! select_user {
    ($where:literal) => {
        concat!(
            "SELECT u.id, u.email, u.password_hash, u.name, u.profile_pic_url, u.verified, \
     COALESCE(array_agg(ur.role_code ORDER BY ur.role_code) FILTER (WHERE ur.role_code IS NOT NULL), '{}') AS roles \
     FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id WHERE ",
            $where,
            " AND u.status GROUP BY u.id"
        )
    };
}

impl AuthStore {
    /// Stores a new user with `roles` and its `user.created` event; a taken email is
    /// [`AuthError::EmailTaken`].
    #[tracing::instrument(target = "otel", name = "postgres.insert_user", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn insert_user(
        &self,
        user: &NewUser,
        password_hash: &str,
        roles: &[Role],
    ) -> Result<(User, Vec<Staged>), AuthError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, password_hash, name, profile_pic_url) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING",
        )
        .bind(id)
        .bind(&user.email)
        .bind(password_hash)
        .bind(&user.name)
        .bind(&user.profile_pic_url)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(AuthError::EmailTaken(user.email.clone()));
        }
        insert_roles(&mut tx, id, roles).await?;
        let (user, events) = staged(&mut tx, id, |user| vec![events::user_created(user)]).await?;
        tx.commit().await?;
        let user =
            user.ok_or_else(|| AuthError::Internal(format!("user {id} vanished after insert")))?;
        Ok((user, events))
    }

    /// Whether an account with this (lower-cased) email exists.
    #[tracing::instrument(target = "otel", name = "postgres.email_taken", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn email_taken(&self, email: &str) -> Result<bool, AuthError> {
        let taken: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
                .bind(email)
                .fetch_one(&self.pool)
                .await?;
        Ok(taken)
    }

    /// The active user with this (lower-cased) email.
    #[tracing::instrument(target = "otel", name = "postgres.user_by_email", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, AuthError> {
        Ok(sqlx::query_as::<_, User>(select_user!("u.email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The active user with this id.
    #[tracing::instrument(target = "otel", name = "postgres.user_by_id", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, AuthError> {
        Ok(sqlx::query_as::<_, User>(select_user!("u.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Replaces a user's roles, staging the revocation of their tokens and their `user.updated`;
    /// `None` when there is no such user.
    #[tracing::instrument(target = "otel", name = "postgres.set_roles", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn set_roles(
        &self,
        id: Uuid,
        roles: &[Role],
    ) -> Result<Option<(User, Vec<Staged>)>, AuthError> {
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("UPDATE users SET updated_at = now() WHERE id = $1 AND status")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if exists.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_roles(&mut tx, id, roles).await?;
        let (user, events) = staged(&mut tx, id, |user| {
            vec![
                events::user_tokens_revoked(&user.id.to_string()),
                events::user_updated(user),
            ]
        })
        .await?;
        tx.commit().await?;
        Ok(user.map(|user| (user, events)))
    }

    /// Changes a user's name and/or picture (`Some(None)` removes it), staging its
    /// `user.updated`; `None` when there is no such user.
    #[tracing::instrument(target = "otel", name = "postgres.update_profile", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn update_profile(
        &self,
        id: Uuid,
        name: Option<&str>,
        picture: Option<Option<&str>>,
    ) -> Result<Option<(User, Vec<Staged>)>, AuthError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET name = COALESCE($2, name), \
             profile_pic_url = CASE WHEN $3 THEN $4 ELSE profile_pic_url END, updated_at = now() \
             WHERE id = $1 AND status",
        )
        .bind(id)
        .bind(name)
        .bind(picture.is_some())
        .bind(picture.flatten())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        let (user, events) = staged(&mut tx, id, |user| vec![events::user_updated(user)]).await?;
        tx.commit().await?;
        Ok(user.map(|user| (user, events)))
    }

    /// Creates the seed admin when `password_hash` is given and the email is free, and makes sure
    /// the account holds ADMIN.
    #[tracing::instrument(target = "otel", name = "postgres.ensure_admin", skip_all, fields(otel.kind = "client", db.system = "postgresql"))]
    pub async fn ensure_admin(
        &self,
        email: &str,
        name: &str,
        password_hash: Option<&str>,
    ) -> Result<(), AuthError> {
        let mut tx = self.pool.begin().await?;
        if let Some(password_hash) = password_hash {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, name, verified) VALUES ($1, $2, $3, $4, true) \
                 ON CONFLICT (email) DO NOTHING",
            )
            .bind(Uuid::new_v4())
            .bind(email)
            .bind(password_hash)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO user_roles (user_id, role_code) SELECT id, 'ADMIN' FROM users WHERE email = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(email)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Reads the user as the transaction `tx` left them and stages the events `announce` makes of it.
async fn staged(
    tx: &mut sqlx::PgTransaction<'_>,
    id: Uuid,
    announce: impl FnOnce(&User) -> Vec<Staged>,
) -> Result<(Option<User>, Vec<Staged>), AuthError> {
    let user = sqlx::query_as::<_, User>(select_user!("u.id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let events = user.as_ref().map(announce).unwrap_or_default();
    outbox::stage(tx, &events).await?;
    Ok((user, events))
}

async fn insert_roles(
    tx: &mut sqlx::PgTransaction<'_>,
    user_id: Uuid,
    roles: &[Role],
) -> Result<(), AuthError> {
    let codes: Vec<&str> = roles.iter().map(|role| role.code()).collect();
    sqlx::query(
        "INSERT INTO user_roles (user_id, role_code) SELECT $1, code FROM UNNEST($2::text[]) AS code \
         ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(&codes)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
