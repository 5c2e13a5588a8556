//! The input rules, in one place: each takes what a caller sent and returns the value the domain
//! keeps, or a 400 naming the field. The dto types call these; nothing here touches a store.

use contracts::text::{self, Lines};
use mongodb::bson::oid::ObjectId;
use runtime::wire::excerpt;

use crate::error::BlogError;
use crate::model::Window;

/// The most items one page may hold.
const MAX_LIMIT: u64 = 100;

/// The most tags one blog may carry.
pub const MAX_TAGS: usize = 10;

/// Checks that `value` holds `min` to `max` characters once trimmed, and no control characters
/// but the line breaks and tabs free text (`Lines::Multi`) allows.
pub fn text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    lines: Lines,
) -> Result<(), BlogError> {
    let n = value.trim().chars().count();
    if n < min || n > max {
        return Err(BlogError::Invalid(format!(
            "{field} must be {min} to {max} characters (got {n})"
        )));
    }
    text::plain(field, value, lines).map_err(BlogError::Invalid)
}

/// Checks an optional cover image link: http(s), at most 200 characters (`contracts::text`).
pub fn img_url(url: Option<&str>) -> Result<Option<String>, BlogError> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    text::http_url("imgUrl", url).map_err(BlogError::Invalid)?;
    Ok(Some(url.to_owned()))
}

/// Checks a slug: 3-200 characters of lower-case letters, digits and '-'.
pub fn slug(slug: &str) -> Result<(), BlogError> {
    text("slug", slug, 3, 200, Lines::Single)?;
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(BlogError::Invalid(format!(
            "slug '{}' may hold only lower-case letters, digits and '-'",
            excerpt(slug)
        )));
    }
    Ok(())
}

/// Upper-cases, sorts and de-duplicates tags; one to ten, none longer than 50, starting '$' or
/// holding a control character.
pub fn tags(tags: &[String]) -> Result<Vec<String>, BlogError> {
    if tags.len() > MAX_TAGS * 4 {
        // Refused before any work: a blog of 10,000 tags is not worth upper-casing.
        return Err(too_many_tags());
    }
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
    if upper.len() > MAX_TAGS {
        return Err(too_many_tags());
    }
    if let Some(tag) = upper
        .iter()
        .find(|t| t.chars().count() > 50 || t.starts_with('$') || t.contains(char::is_control))
    {
        return Err(BlogError::Invalid(format!(
            "tag '{}' is not allowed",
            excerpt(tag)
        )));
    }
    Ok(upper)
}

fn too_many_tags() -> BlogError {
    BlogError::Invalid(format!("tags must hold at most {MAX_TAGS} tags"))
}

/// Parses an id from a path; `what` names the kind of thing in the 400.
pub fn object_id(raw: &str, what: &str) -> Result<ObjectId, BlogError> {
    ObjectId::parse_str(raw)
        .map_err(|_| BlogError::Invalid(format!("'{}' is not a valid {what} id", excerpt(raw))))
}

/// The window of a 1-based `page` of `limit` items (1 to 100).
pub fn window(page: u64, limit: u64) -> Result<Window, BlogError> {
    if page < 1 {
        return Err(BlogError::Invalid("page must be at least 1".into()));
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(BlogError::Invalid("limit must be between 1 and 100".into()));
    }
    // MongoDB takes the skip as an i64: a page past that is a 400, not a driver error.
    let skip = (page - 1)
        .checked_mul(limit)
        .filter(|skip| i64::try_from(*skip).is_ok())
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
        assert!(text("title", "  abc  ", 3, 5, Lines::Single).is_ok());
        assert!(text("title", "äöü", 3, 3, Lines::Single).is_ok());
        assert_eq!(
            message(text("title", " ab ", 3, 500, Lines::Single)),
            "title must be 3 to 500 characters (got 2)"
        );
        assert!(
            message(text(
                "description",
                &"x".repeat(2001),
                3,
                2000,
                Lines::Multi
            ))
            .contains("got 2001")
        );
        assert!(text("draftText", "", 0, 10, Lines::Multi).is_ok());
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
        let last = i64::MAX as u64 / 100;
        assert_eq!(window(last, 100).unwrap().skip, (last - 1) * 100);
    }

    #[test]
    fn control_characters_are_refused_but_free_text_keeps_its_lines() {
        assert!(message(text("title", "a\u{0}bc", 3, 500, Lines::Single)).contains("title"));
        assert!(text("title", "a\nbc", 3, 500, Lines::Single).is_err());
        assert!(text("draftText", "line 1\n\tline 2", 0, 50, Lines::Multi).is_ok());
        assert!(text("draftText", "nul\u{0}", 0, 50, Lines::Multi).is_err());
        assert!(message(tags(&["ok".into(), "b\u{0}d".into()])).starts_with("tag '"));
    }

    #[test]
    fn a_blog_carries_at_most_ten_tags() {
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        assert_eq!(tags(&ten).unwrap().len(), 10);
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert_eq!(message(tags(&eleven)), "tags must hold at most 10 tags");
        let many: Vec<String> = (0..10_000).map(|i| format!("t{i}")).collect();
        assert_eq!(message(tags(&many)), "tags must hold at most 10 tags");
    }

    #[test]
    fn cover_images_are_short_http_links() {
        assert_eq!(img_url(None).unwrap(), None);
        assert_eq!(img_url(Some(" ")).unwrap(), None);
        assert_eq!(
            img_url(Some("https://x.io/c.png")).unwrap().as_deref(),
            Some("https://x.io/c.png")
        );
        let huge = format!("https://x.io/{}", "a".repeat(900_000));
        for bad in ["javascript:alert(1)", huge.as_str()] {
            let refused = message(img_url(Some(bad)));
            assert!(refused.starts_with("imgUrl must be an http(s) URL"));
            assert!(refused.len() < 200);
        }
    }

    #[test]
    fn a_page_whose_skip_does_not_fit_mongodb_is_too_large() {
        assert_eq!(
            message(window(184_467_440_737_095_516, 100)),
            "page is too large"
        );
        assert_eq!(
            message(window(i64::MAX as u64 / 100 + 2, 100)),
            "page is too large"
        );
    }
}
