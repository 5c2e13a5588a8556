//! Who is calling: the identity the guard resolves from a bearer token, and its extractor.

use runtime::{Access, ApiError, FromRequestParts, Parts};
use serde::{Deserialize, Serialize};

/// The role that passes every role check.
pub const ADMIN: &str = "ADMIN";

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

/// A handler taking a `Caller` needs a valid bearer token; `Option<Caller>` makes it optional.
impl FromRequestParts for Caller {
    const ACCESS: Access = Access::Bearer;

    fn from_request_parts(parts: &Parts) -> Result<Self, ApiError> {
        parts
            .identity::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".into()))
    }
}
