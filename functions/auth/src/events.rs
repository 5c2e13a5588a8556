//! Events other services react to: built here, stored by the store in the transaction of the
//! change they announce, and sent right after it (the runtime's outbox relay sends what is left).

use contracts::auth::{
    APIKEY_REVOKED, ApiKeyRevoked, TOKEN_REVOKED, TokenRevoked, USER_CREATED, USER_UPDATED,
    UserChanged,
};
use runtime::Ctx;
use runtime::outbox::{self, Staged};

use crate::model::User;
use crate::state::AuthState;

/// Tells every replica of every service to drop what it cached for one token pair.
pub fn pair_revoked(token_id: &str) -> Staged {
    let event = TokenRevoked {
        token_id: Some(token_id.to_owned()),
        user_id: None,
    };
    Staged::json(TOKEN_REVOKED, &event)
}

/// Tells every replica to drop every identity it cached for a user (its roles changed).
pub fn user_tokens_revoked(user_id: &str) -> Staged {
    let event = TokenRevoked {
        token_id: None,
        user_id: Some(user_id.to_owned()),
    };
    Staged::json(TOKEN_REVOKED, &event)
}

/// Tells every bridge to forget a revoked API key it trusted.
pub fn api_key_revoked(id: &str) -> Staged {
    Staged::json(APIKEY_REVOKED, &ApiKeyRevoked { id: id.to_owned() })
}

/// Announces a new user (the blog keeps author names from these).
pub fn user_created(user: &User) -> Staged {
    Staged::json(USER_CREATED, &changed(user))
}

/// Announces a changed user.
pub fn user_updated(user: &User) -> Staged {
    Staged::json(USER_UPDATED, &changed(user))
}

fn changed(user: &User) -> UserChanged {
    UserChanged {
        user_id: user.id.to_string(),
        name: user.name.clone(),
        profile_pic_url: user.profile_pic_url.clone(),
    }
}

/// Publishes events the store has just staged, before the handler replies; whatever JetStream
/// does not acknowledge in time stays in the outbox for the relay.
pub async fn send(ctx: &Ctx, auth: &AuthState, events: &[Staged]) {
    outbox::send(ctx.nats(), &auth.store, events).await;
}
