//! Events other services react to; published after the change is stored, best-effort.

use contracts::auth::{
    APIKEY_REVOKED, ApiKeyRevoked, TOKEN_REVOKED, TokenRevoked, USER_CREATED, USER_UPDATED,
    UserChanged,
};
use runtime::Ctx;

use crate::model::User;

/// Tells every replica of every service to drop what it cached for one token pair.
pub async fn pair_revoked(ctx: &Ctx, token_id: String) {
    let event = TokenRevoked {
        token_id: Some(token_id),
        user_id: None,
    };
    publish(ctx, TOKEN_REVOKED, &event).await;
}

/// Tells every replica to drop every identity it cached for a user (its roles changed).
pub async fn user_tokens_revoked(ctx: &Ctx, user_id: String) {
    let event = TokenRevoked {
        token_id: None,
        user_id: Some(user_id),
    };
    publish(ctx, TOKEN_REVOKED, &event).await;
}

/// Tells every bridge to forget a revoked API key it trusted.
pub async fn api_key_revoked(ctx: &Ctx, id: String) {
    publish(ctx, APIKEY_REVOKED, &ApiKeyRevoked { id }).await;
}

/// Announces a new user (the blog keeps author names from these).
pub async fn user_created(ctx: &Ctx, user: &User) {
    publish(ctx, USER_CREATED, &changed(user)).await;
}

/// Announces a changed user.
pub async fn user_updated(ctx: &Ctx, user: &User) {
    publish(ctx, USER_UPDATED, &changed(user)).await;
}

fn changed(user: &User) -> UserChanged {
    UserChanged {
        user_id: user.id.to_string(),
        name: user.name.clone(),
        profile_pic_url: user.profile_pic_url.clone(),
    }
}

// The change is already stored, so a failed publish is logged rather than failing the request;
// NATS buffers publishes across reconnects, so this only fires when the client is closed.
async fn publish<T: serde::Serialize>(ctx: &Ctx, subject: &str, event: &T) {
    if let Err(err) = ctx.publish(subject, event).await {
        tracing::warn!(%err, subject, "event not published");
    }
}
