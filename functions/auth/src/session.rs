//! The token-pair lifecycle, shared by the handlers: open, verify, refresh, close.

use chrono::{DateTime, Utc};
use contracts::auth::TokenRevoked;
use contracts::{Caller, CallerUser};
use runtime::outbox::Staged;
use uuid::Uuid;

use crate::dto::TokenPair;
use crate::error::AuthError;
use crate::model::User;
use crate::secret::{random_secret, sha256_hex};
use crate::state::AuthState;
use crate::store::keystores::{Keystore, Rotation};

/// What a refresh did; either way, the revocation events it stored are to be sent.
#[derive(Debug)]
pub enum Refreshed {
    /// The new pair; the pair it replaced is revoked.
    Pair(TokenPair, Vec<Staged>),
    /// The refresh token had been used: its whole family is revoked.
    Reused(Vec<Staged>),
}

/// The 401 a reused refresh token gets.
pub const REUSED: &str =
    "the refresh token was already used: every token of that sign-in is revoked";

/// The in-process eviction of one token pair.
fn pair(token_id: &str) -> TokenRevoked {
    TokenRevoked {
        token_id: Some(token_id.to_owned()),
        user_id: None,
    }
}

fn invalid(reason: &str) -> AuthError {
    AuthError::InvalidToken(reason.to_owned())
}

impl AuthState {
    /// Stores a new keystore row for `user` and signs the token pair bound to it.
    pub async fn open_session(&self, user: &User) -> Result<TokenPair, AuthError> {
        let (keystore, tokens) = self.new_pair(user.id)?;
        self.store.insert_keystore(&keystore).await?;
        Ok(tokens)
    }

    /// The caller behind an access token: from the cache when this exact token was verified
    /// before, otherwise after checking its signature, claims and keystore row.
    pub async fn verify_access(&self, token: &str) -> Result<Caller, AuthError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(invalid("accessToken is required"));
        }
        let now = Utc::now().timestamp();
        let epoch = self.cache.epoch();
        if let Some(caller) = self.cache.local_caller(token, now).await {
            return Ok(caller);
        }
        let token_hash = sha256_hex(token);
        if let Some(caller) = self.cache.caller(&token_hash).await
            && caller.expires_at.is_some_and(|exp| exp > now)
        {
            self.cache.keep_local(token, &caller, epoch).await;
            return Ok(caller);
        }
        let claims = self.tokens.verify(token)?;
        let user = self
            .store
            .user_by_primary_key(&claims.prm)
            .await?
            .filter(|user| user.id.to_string() == claims.sub)
            .ok_or_else(|| invalid("the token has been revoked"))?;
        let caller = caller_of(user, &claims.prm, claims.exp);
        let ttl = u64::try_from(claims.exp - now).unwrap_or(1);
        self.cache.put_caller(&token_hash, &caller, ttl).await;
        self.cache.keep_local(token, &caller, epoch).await;
        Ok(caller)
    }

    /// Swaps a live pair for a new one; the old pair stops working before this returns.
    /// A refresh token used before revokes every pair of its sign-in instead (reuse detection).
    pub async fn refresh(&self, access_token: &str, refresh: &str) -> Result<Refreshed, AuthError> {
        let access = self.tokens.verify_ignoring_expiry(access_token)?;
        let refresh = self.tokens.verify(refresh)?;
        if access.sub != refresh.sub {
            return Err(invalid(
                "the access and refresh tokens belong to different users",
            ));
        }
        let user_id =
            Uuid::parse_str(&access.sub).map_err(|_| invalid("the token is malformed"))?;
        let (keystore, tokens) = self.new_pair(user_id)?;
        let (rotation, events) = self
            .store
            .rotate_keystore(&access.prm, &refresh.prm, &keystore)
            .await?;
        match rotation {
            Rotation::Rotated => {
                self.cache.evict_local(&pair(&access.prm));
                self.cache.revoke_callers(&[sha256_hex(access_token)]).await;
                Ok(Refreshed::Pair(tokens, events))
            }
            Rotation::Reused(revoked) => {
                for (token_id, _) in &revoked {
                    self.cache.evict_local(&pair(token_id));
                }
                let hashes: Vec<String> = revoked.into_iter().map(|(_, hash)| hash).collect();
                self.cache.revoke_callers(&hashes).await;
                tracing::warn!(user = %user_id, pairs = hashes.len(), "refresh token reused; its sign-in is revoked");
                Ok(Refreshed::Reused(events))
            }
            Rotation::Unknown => Err(invalid("the refresh token was already used or revoked")),
        }
    }

    /// Revokes the pair whose access token carries `primary_key`; returns the revocation event
    /// stored with it (none when the pair was already gone).
    pub async fn close_session(&self, primary_key: &str) -> Result<Option<Staged>, AuthError> {
        let Some((access_hash, event)) = self.store.delete_keystore(primary_key).await? else {
            return Ok(None);
        };
        self.cache.evict_local(&pair(primary_key));
        self.cache.revoke_callers(&[access_hash]).await;
        Ok(Some(event))
    }

    /// Drops the cached identities of every live pair of a user (after a role change).
    pub async fn forget_user_sessions(&self, user_id: Uuid) -> Result<(), AuthError> {
        let hashes = self.store.access_hashes_of(user_id).await?;
        self.cache.evict_local(&TokenRevoked {
            token_id: None,
            user_id: Some(user_id.to_string()),
        });
        self.cache.forget_callers(&hashes).await;
        Ok(())
    }

    fn new_pair(&self, user_id: Uuid) -> Result<(Keystore, TokenPair), AuthError> {
        let primary_key = random_secret();
        let secondary_key = random_secret();
        let (tokens, expires_at) =
            self.tokens
                .issue(&user_id.to_string(), &primary_key, &secondary_key)?;
        let expires_at = DateTime::<Utc>::from_timestamp(expires_at, 0)
            .ok_or_else(|| AuthError::Internal("refresh expiry out of range".into()))?;
        let keystore = Keystore {
            user_id,
            access_hash: sha256_hex(&tokens.access_token),
            primary_key,
            secondary_key,
            expires_at,
        };
        Ok((keystore, tokens))
    }
}

fn caller_of(user: User, primary_key: &str, expires_at: i64) -> Caller {
    Caller {
        user: CallerUser {
            id: user.id.to_string(),
            name: user.name,
            email: Some(user.email),
            profile_pic_url: user.profile_pic_url,
            roles: user.roles,
        },
        token_id: primary_key.to_owned(),
        expires_at: Some(expires_at),
    }
}
