//! The input rules, in one place: each takes what a caller sent and returns the value the domain
//! keeps, or a 400 naming the field. The dto types call these; nothing here touches a store.

use mongodb::bson::oid::ObjectId;

use crate::error::BlogError;
use crate::model::Window;

/// The most items one page may hold.
const MAX_LIMIT: u64 = 100;

/// Checks that `value` holds `min` to `max` characters once trimmed.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<(), BlogError> {
    let n = value.trim().chars().count();
    if n < min || n > max {
        return Err(BlogError::Invalid(format!(
            "{field} must be {min} to {max} characters (got {n})"
        )));
    }
    Ok(())
}

/// Checks a slug: 3-200 characters of lower-case letters, digits and '-'.
pub fn slug(slug: &str) -> Result<(), BlogError> {
    text("slug", slug, 3, 200)?;
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(BlogError::Invalid(format!(
            "slug '{slug}' may hold only lower-case letters, digits and '-'"
        )));
    }
    Ok(())
}

/// Upper-cases, sorts and de-duplicates tags; at least one, none longer than 50 or starting '$'.
pub fn tags(tags: &[String]) -> Result<Vec<String>, BlogError> {
    let mut upper: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty())
        .collect();
    upper.sort();
    upper.dedup();
    if upper.is_empty() {
        return Err(BlogError::Invalid("tags must hold at least one tag".into()));
    }
    if let Some(tag) = upper
        .iter()
        .find(|t| t.chars().count() > 50 || t.starts_with('$'))
    {
        return Err(BlogError::Invalid(format!("tag '{tag}' is not allowed")));
    }
    Ok(upper)
}

/// Parses an id from a path; `what` names the kind of thing in the 400.
pub fn object_id(raw: &str, what: &str) -> Result<ObjectId, BlogError> {
    ObjectId::parse_str(raw)
        .map_err(|_| BlogError::Invalid(format!("'{raw}' is not a valid {what} id")))
}

/// The window of a 1-based `page` of `limit` items (1 to 100).
pub fn window(page: u64, limit: u64) -> Result<Window, BlogError> {
    if page < 1 {
        return Err(BlogError::Invalid("page must be at least 1".into()));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(BlogError::Invalid("limit must be between 1 and 100".into()));
    }
    let skip = (page - 1)
        .checked_mul(limit)
        .ok_or_else(|| BlogError::Invalid("page is too large".into()))?;
    Ok(Window { skip, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug, BlogError>) -> String {
        match result {
            Err(BlogError::Invalid(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn text_counts_trimmed_characters_not_bytes() {
        assert!(text("title", "  abc  ", 3, 5).is_ok());
        assert!(text("title", "äöü", 3, 3).is_ok());
        assert_eq!(
            message(text("title", " ab ", 3, 500)),
            "title must be 3 to 500 characters (got 2)"
        );
        assert!(message(text("description", &"x".repeat(2001), 3, 2000)).contains("got 2001"));
        assert!(text("draftText", "", 0, 10).is_ok());
    }

    #[test]
    fn slugs_allow_lower_case_digits_and_dashes_only() {
        for good in ["abc", "rust-nats-2", "a-b", &"x".repeat(200)] {
            assert!(slug(good).is_ok(), "{good} refused");
        }
        for bad in ["Rust", "rust nats", "rust_nats", "ünï", "a.b", "a/b"] {
            assert!(message(slug(bad)).contains(bad), "{bad} accepted");
        }
    }

    #[test]
    fn slug_length_is_checked_before_its_characters() {
        assert!(message(slug("ab")).starts_with("slug must be 3 to 200"));
        assert!(message(slug(&"x".repeat(201))).starts_with("slug must be 3 to 200"));
        assert!(message(slug("AB")).starts_with("slug must be 3 to 200"));
    }

    #[test]
    fn tags_are_upper_cased_sorted_and_deduplicated() {
        let raw = ["rust", " NATS ", "Rust", "", "  "].map(String::from);
        assert_eq!(tags(&raw).unwrap(), ["NATS", "RUST"]);
    }

    #[test]
    fn tags_need_one_and_refuse_long_or_operator_like_ones() {
        assert_eq!(message(tags(&[])), "tags must hold at least one tag");
        assert_eq!(
            message(tags(&[" ".into()])),
            "tags must hold at least one tag"
        );
        assert!(tags(&["x".repeat(50)]).is_ok());
        assert!(message(tags(&["x".repeat(51)])).contains("is not allowed"));
        assert_eq!(message(tags(&["$ne".into()])), "tag '$NE' is not allowed");
    }

    #[test]
    fn object_ids_are_24_hex_digits() {
        let id = ObjectId::new();
        assert_eq!(object_id(&id.to_hex(), "blog").unwrap(), id);
        assert_eq!(
            message(object_id("not-an-id", "comment")),
            "'not-an-id' is not a valid comment id"
        );
        assert!(object_id(&id.to_hex()[1..], "blog").is_err());
    }

    #[test]
    fn page_one_starts_at_the_first_item() {
        assert_eq!(window(1, 10).unwrap(), Window { skip: 0, limit: 10 });
        assert_eq!(
            window(3, 25).unwrap(),
            Window {
                skip: 50,
                limit: 25
            }
        );
    }

    #[test]
    fn limits_run_from_1_to_100() {
        assert_eq!(window(1, 1).unwrap().limit, 1);
        assert_eq!(window(1, 100).unwrap().limit, 100);
        assert_eq!(message(window(1, 0)), "limit must be between 1 and 100");
        assert_eq!(message(window(1, 101)), "limit must be between 1 and 100");
    }

    #[test]
    fn page_zero_and_overflowing_pages_are_refused() {
        assert_eq!(message(window(0, 10)), "page must be at least 1");
        assert_eq!(message(window(u64::MAX, 100)), "page is too large");
        assert_eq!(
            window(u64::MAX / 100, 100).unwrap().skip,
            (u64::MAX / 100 - 1) * 100
        );
    }
}
