//! The domain rules: what a valid email, password, name and role is.

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
                    "role '{value}' is not one of LEARNER, AUTHOR, EDITOR, ADMIN"
                ))
            })
    }
}

/// Lower-cases and checks an email: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn normalize_email(email: &str) -> Result<String, AuthError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.contains(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err(AuthError::Invalid(format!(
            "email '{email}' is not a valid email address"
        )))
    }
}

/// Checks a new password's length (6 to 100 characters).
pub fn check_password(password: &str) -> Result<(), AuthError> {
    let len = password.chars().count();
    if (6..=100).contains(&len) {
        Ok(())
    } else {
        Err(AuthError::Invalid(
            "password must be between 6 and 100 characters".into(),
        ))
    }
}

/// Trims and checks a display name (1 to 200 characters).
pub fn normalize_name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    let len = name.chars().count();
    if (1..=200).contains(&len) {
        Ok(name.to_owned())
    } else {
        Err(AuthError::Invalid(
            "name must be between 1 and 200 characters".into(),
        ))
    }
}

/// Checks an optional profile picture URL: http(s), at most 2000 characters.
pub fn check_picture_url(url: Option<String>) -> Result<Option<String>, AuthError> {
    let Some(url) = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if url.len() <= 2000 && (url.starts_with("https://") || url.starts_with("http://")) {
        Ok(Some(url))
    } else {
        Err(AuthError::Invalid(
            "profilePicUrl must be an http(s) URL of at most 2000 characters".into(),
        ))
    }
}

/// Parses a complete role set: at least one role, each a known code (duplicates collapse).
pub fn parse_roles(codes: &[String]) -> Result<Vec<Role>, AuthError> {
    if codes.is_empty() {
        return Err(AuthError::Invalid(
            "roles must name at least one role".into(),
        ));
    }
    let mut roles = Vec::with_capacity(codes.len());
    for code in codes {
        let role: Role = code.parse()?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// Trims and checks an API key's comment (1 to 1000 characters).
pub fn check_comment(comment: &str) -> Result<String, AuthError> {
    let comment = comment.trim();
    if (1..=1000).contains(&comment.chars().count()) {
        Ok(comment.to_owned())
    } else {
        Err(AuthError::Invalid(
            "comment must be between 1 and 1000 characters".into(),
        ))
    }
}

/// Parses a user or API-key id from a path parameter.
pub fn parse_id(field: &str, id: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(id.trim())
        .map_err(|_| AuthError::Invalid(format!("{field} '{id}' is not a valid UUID")))
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
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "", "ann", "ann@", "@x.io", "ann@x", "a b@x.io", "a@b@x.io", "a@x.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn roles_parse_case_insensitively_and_reject_unknown_codes() {
        assert_eq!("author".parse::<Role>().unwrap(), Role::Author);
        let err = "KING".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("KING"));
    }
}
