//! The input rules, in one place: each takes what a caller sent and returns the value the domain
//! keeps, or a 400 naming the field. The dto types and handlers call these; nothing here touches
//! a store.

use contracts::text::{self, Lines};
use runtime::wire::excerpt;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::error::AuthError;
use crate::model::Role;

/// NFKC-normalises, lower-cases and checks an email: one `@`, a non-empty local part, a dotted
/// domain, no spaces or control characters. Normalising first makes a fullwidth or other
/// compatibility form of an address the same account, at sign-up and at sign-in.
pub fn email(email: &str) -> Result<String, AuthError> {
    let email: String = email.trim().nfkc().collect::<String>().to_lowercase();
    let valid = email.len() <= 254
        && !email.contains(|c: char| c.is_whitespace() || c.is_control())
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
            "email '{}' is not a valid email address",
            excerpt(&email)
        )))
    }
}

/// Checks a new password's length (6 to 100 characters).
pub fn password(password: &str) -> Result<(), AuthError> {
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
pub fn name(name: &str) -> Result<String, AuthError> {
    let name = name.trim();
    text::plain("name", name, Lines::Single).map_err(AuthError::Invalid)?;
    let len = name.chars().count();
    if (1..=200).contains(&len) {
        Ok(name.to_owned())
    } else {
        Err(AuthError::Invalid(
            "name must be between 1 and 200 characters".into(),
        ))
    }
}

/// Checks an optional profile picture URL: http(s), at most 200 characters (`contracts::text`).
pub fn picture_url(url: Option<String>) -> Result<Option<String>, AuthError> {
    let Some(url) = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    text::http_url("profilePicUrl", &url).map_err(AuthError::Invalid)?;
    Ok(Some(url))
}

/// Parses a complete role set: at least one role, each a known code (duplicates collapse).
pub fn roles(codes: &[String]) -> Result<Vec<Role>, AuthError> {
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
pub fn comment(comment: &str) -> Result<String, AuthError> {
    let comment = comment.trim();
    text::plain("comment", comment, Lines::Single).map_err(AuthError::Invalid)?;
    if (1..=1000).contains(&comment.chars().count()) {
        Ok(comment.to_owned())
    } else {
        Err(AuthError::Invalid(
            "comment must be between 1 and 1000 characters".into(),
        ))
    }
}

/// Parses a user or API-key id from a path parameter.
pub fn id(field: &str, id: &str) -> Result<Uuid, AuthError> {
    Uuid::parse_str(id.trim())
        .map_err(|_| AuthError::Invalid(format!("{field} '{}' is not a valid UUID", excerpt(id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<T: std::fmt::Debug>(result: Result<T, AuthError>) -> String {
        match result {
            Err(AuthError::Invalid(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in [
            "", "ann", "ann@", "@x.io", "ann@x", "a b@x.io", "a@b@x.io", "a@x.", "a@.x",
        ] {
            assert!(message(email(bad)).starts_with("email '"), "{bad} accepted");
        }
    }

    #[test]
    fn look_alike_emails_normalise_to_one_address() {
        // Fullwidth letters and the fullwidth at sign are compatibility forms of plain ASCII.
        assert_eq!(email("ＡＮＮ＠example.com").unwrap(), "ann@example.com");
        assert_eq!(email("ann@ｅｘａｍｐｌｅ.com").unwrap(), "ann@example.com");
    }

    #[test]
    fn control_characters_are_refused_and_never_quoted_in_full() {
        assert!(message(email("ann\u{0}@x.io")).starts_with("email '"));
        let long = format!("{}\u{0}@x.io", "a".repeat(10_000));
        assert!(message(email(&long)).len() < 150);
        assert!(message(name("Ann\u{0}")).contains("control characters"));
        assert!(message(comment("ci\u{1b}key")).starts_with("comment must not contain"));
        assert!(
            message(picture_url(Some("https://x.io/\u{0}".into()))).starts_with("profilePicUrl")
        );
    }

    #[test]
    fn emails_longer_than_254_bytes_are_refused() {
        let local = "a".repeat(64);
        let fits = format!("{local}@{}.io", "d".repeat(254 - 64 - 4));
        assert_eq!(fits.len(), 254);
        assert!(email(&fits).is_ok());
        assert!(email(&format!("a{fits}")).is_err());
    }

    #[test]
    fn passwords_hold_6_to_100_characters() {
        assert!(password("secret").is_ok());
        assert!(password(&"ü".repeat(100)).is_ok());
        for bad in ["short", &"x".repeat(101)] {
            assert_eq!(
                message(password(bad)),
                "password must be between 6 and 100 characters"
            );
        }
    }

    #[test]
    fn names_are_trimmed_and_hold_1_to_200_characters() {
        assert_eq!(name("  Ann Lee ").unwrap(), "Ann Lee");
        assert!(name(&"n".repeat(200)).is_ok());
        for bad in ["", "   ", &"n".repeat(201)] {
            assert_eq!(
                message(name(bad)),
                "name must be between 1 and 200 characters"
            );
        }
    }

    #[test]
    fn picture_urls_are_optional_http_links() {
        assert_eq!(picture_url(None).unwrap(), None);
        assert_eq!(picture_url(Some("  ".into())).unwrap(), None);
        assert_eq!(
            picture_url(Some(" https://x.io/a.png ".into())).unwrap(),
            Some("https://x.io/a.png".into())
        );
        assert!(picture_url(Some("http://x.io".into())).is_ok());
        for bad in [
            "javascript:alert(1)".to_owned(),
            "ftp://x.io/a".to_owned(),
            format!("https://x.io/{}", "a".repeat(200)),
        ] {
            assert!(message(picture_url(Some(bad))).starts_with("profilePicUrl"));
        }
    }

    #[test]
    fn role_sets_need_one_known_role_and_collapse_duplicates() {
        let codes = ["author", "EDITOR", "Author"].map(String::from);
        assert_eq!(roles(&codes).unwrap(), [Role::Author, Role::Editor]);
        assert_eq!(message(roles(&[])), "roles must name at least one role");
        assert!(message(roles(&["AUTHOR".into(), "KING".into()])).contains("'KING'"));
    }

    #[test]
    fn api_key_comments_are_trimmed_and_hold_1_to_1000_characters() {
        assert_eq!(comment(" ci runner ").unwrap(), "ci runner");
        for bad in ["", " ", &"c".repeat(1001)] {
            assert_eq!(
                message(comment(bad)),
                "comment must be between 1 and 1000 characters"
            );
        }
    }

    #[test]
    fn ids_are_uuids_and_the_400_names_the_field() {
        let uuid = Uuid::new_v4();
        assert_eq!(id("id", &format!(" {uuid} ")).unwrap(), uuid);
        assert_eq!(message(id("id", "42")), "id '42' is not a valid UUID");
    }
}
