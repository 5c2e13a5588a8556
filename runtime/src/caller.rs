//! Who is calling: the identity the guard resolves from a bearer token, and the wire shapes behind it.

use serde::{Deserialize, Serialize};

/// The role that passes every role check.
pub const ADMIN: &str = "ADMIN";

/// Subject the guard asks to turn an access token into a caller.
pub const TOKEN_VERIFY_SUBJECT: &str = "auth.token.verify";
/// Event published whenever a token pair (or all of a user's) stops being valid.
pub const TOKEN_REVOKED_SUBJECT: &str = "auth.events.token.revoked";

/// An authenticated caller, handed to handlers that ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    /// The user the token belongs to.
    pub user: CallerUser,
    /// The keystore entry the token is bound to; revocation events name it.
    pub token_id: String,
    /// Unix seconds after which the token is no longer valid, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// The user part of a caller, as `auth.token.verify` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerUser {
    /// User id (a UUID string).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email address, for handlers that need to show it to its owner.
    #[serde(default)]
    pub email: Option<String>,
    /// Profile picture URL, copied onto content the user authors.
    #[serde(default)]
    pub profile_pic_url: Option<String>,
    /// Upper-case role codes, e.g. `AUTHOR`.
    #[serde(default)]
    pub roles: Vec<String>,
}

impl Caller {
    /// The caller's user id.
    pub fn id(&self) -> &str {
        &self.user.id
    }

    /// Whether the caller holds `role`; ADMIN holds them all.
    pub fn has_role(&self, role: &str) -> bool {
        self.user
            .roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case(role) || r.eq_ignore_ascii_case(ADMIN))
    }

    /// Whether the caller holds at least one of `roles` (an empty list allows everyone).
    pub fn has_any_role(&self, roles: &[&str]) -> bool {
        roles.is_empty() || roles.iter().any(|r| self.has_role(r))
    }
}

/// Request body of `auth.token.verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenVerifyRequest {
    /// The access token, without the `Bearer ` prefix.
    pub access_token: String,
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
