//! Events other services react to; published after the change is stored, best-effort.

use runtime::Ctx;
use runtime::caller::{TOKEN_REVOKED_SUBJECT, TokenRevoked};

use crate::dto::UserChanged;
use crate::model::User;

/// Published when a user signs up.
pub const USER_CREATED: &str = "auth.events.user.created";
/// Published when a user's profile or roles change.
pub const USER_UPDATED: &str = "auth.events.user.updated";

/// Tells every replica of every service to drop what it cached for these tokens.
pub async fn token_revoked(ctx: &Ctx, event: TokenRevoked) {
    publish(ctx, TOKEN_REVOKED_SUBJECT, &event).await;
}

/// Announces a new user (the blog keeps author names from these).
pub async fn user_created(ctx: &Ctx, user: &User) {
    publish(ctx, USER_CREATED, &UserChanged::from(user)).await;
}

/// Announces a changed user.
pub async fn user_updated(ctx: &Ctx, user: &User) {
    publish(ctx, USER_UPDATED, &UserChanged::from(user)).await;
}

// The change is already stored, so a failed publish is logged rather than failing the request;
// NATS buffers publishes across reconnects, so this only fires when the client is closed.
async fn publish<T: serde::Serialize>(ctx: &Ctx, subject: &str, event: &T) {
    if let Err(err) = ctx.publish(subject, event).await {
        tracing::warn!(%err, subject, "event not published");
    }
}
