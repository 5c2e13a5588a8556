//! The domain: users as stored, a checked sign-up, and the roles a user can hold.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::error::AuthError;

/// A role a user can hold; ADMIN passes every role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads and comments; every new user is one.
    Learner,
    /// Writes blogs.
    Author,
    /// Reviews and publishes blogs.
    Editor,
    /// Manages users and API keys.
    Admin,
}

impl Role {
    /// Every role, in the order they are listed to callers.
    pub const ALL: [Role; 4] = [Role::Learner, Role::Author, Role::Editor, Role::Admin];

    /// The upper-case code stored in `roles.code` and carried in tokens.
    pub fn code(self) -> &'static str {
        match self {
            Role::Learner => "LEARNER",
            Role::Author => "AUTHOR",
            Role::Editor => "EDITOR",
            Role::Admin => "ADMIN",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(value: &str) -> Result<Self, AuthError> {
        Role::ALL
            .into_iter()
            .find(|role| role.code().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| {
                AuthError::Invalid(format!(
                    "role '{}' is not one of LEARNER, AUTHOR, EDITOR, ADMIN",
                    runtime::wire::excerpt(value)
                ))
            })
    }
}

/// A sign-up that passed validation, ready to store.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Lower-cased email.
    pub email: String,
    /// The plaintext password, only until it is hashed.
    pub password: String,
    /// Trimmed display name.
    pub name: String,
    /// Profile picture URL.
    pub profile_pic_url: Option<String>,
}

/// A stored user with its roles, as the store reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    /// User id.
    pub id: Uuid,
    /// Lower-cased email.
    pub email: String,
    /// Argon2id PHC string; never leaves the service.
    pub password_hash: String,
    /// Display name.
    pub name: String,
    /// Profile picture URL.
    pub profile_pic_url: Option<String>,
    /// Whether the email is verified.
    pub verified: bool,
    /// Upper-case role codes.
    pub roles: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_case_insensitively_and_reject_unknown_codes() {
        assert_eq!("author".parse::<Role>().unwrap(), Role::Author);
        assert_eq!(" Admin ".parse::<Role>().unwrap(), Role::Admin);
        let err = "KING".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("KING"));
    }

    #[test]
    fn every_role_parses_back_from_its_code() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>().unwrap(), role);
            assert_eq!(role.to_string(), role.code());
        }
    }
}
