//! Subjects the auth function answers or publishes, and their payloads.

use serde::{Deserialize, Serialize};

use crate::caller::Caller;

/// Turns an access token ([`TokenVerifyRequest`]) into a [`Caller`]; every guard asks it.
pub const TOKEN_VERIFY: &str = "auth.token.verify";
/// Checks an `x-api-key` ([`ApiKeyVerifyRequest`]); the reply is an [`ApiKeyInfo`] or a 403.
pub const APIKEY_VERIFY: &str = "auth.apikey.verify";
/// Published ([`UserChanged`]) when a user signs up.
pub const USER_CREATED: &str = "auth.events.user.created";
/// Published ([`UserChanged`]) when a user's profile or roles change.
pub const USER_UPDATED: &str = "auth.events.user.updated";
/// Published ([`TokenRevoked`]) whenever a token pair, or all of a user's, stops being valid.
pub const TOKEN_REVOKED: &str = "auth.events.token.revoked";
/// Published when an API key is revoked, so every bridge drops it from its cache at once.
pub const APIKEY_REVOKED: &str = "auth.events.apikey.revoked";

/// Request body of `auth.token.verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenVerifyRequest {
    /// The access token, without the `Bearer ` prefix.
    pub access_token: String,
}

/// Request body of `auth.apikey.verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyVerifyRequest {
    /// The plaintext key as the client sent it.
    pub key: String,
}

/// Reply of `auth.apikey.verify` for a valid key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    /// The key's id (not the key).
    pub id: String,
    /// What the key may be used for, e.g. `GENERAL`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// Payload of `auth.events.apikey.revoked`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiKeyRevoked {
    /// The revoked key's id, as [`ApiKeyInfo::id`] named it.
    pub id: String,
}

/// Payload of `auth.events.user.created` and `auth.events.user.updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserChanged {
    /// The user.
    pub user_id: String,
    /// Current display name.
    pub name: String,
    /// Current profile picture URL.
    #[serde(default)]
    pub profile_pic_url: Option<String>,
}

/// Payload of `auth.events.token.revoked`: a single token pair, or every pair of a user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRevoked {
    /// The revoked keystore entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// A user all of whose tokens are revoked (e.g. after a role change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl TokenRevoked {
    /// Whether this event invalidates `caller`.
    pub fn covers(&self, caller: &Caller) -> bool {
        self.token_id.as_deref() == Some(caller.token_id.as_str())
            || self.user_id.as_deref() == Some(caller.id())
    }
}
