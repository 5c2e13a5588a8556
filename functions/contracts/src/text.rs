//! Text rules both functions' APIs promise (listed in the README's API section): no control
//! characters where a store or a reader would choke on them, and links that are safe to render.
//! Each returns the 400 message, naming the field and quoting at most an excerpt of the value.

use runtime::wire::excerpt;

/// The longest link (imgUrl, profilePicUrl) either function keeps, as gomicro's own limit.
pub const MAX_URL_CHARS: usize = 200;

/// Whether a text field may span lines: tab, line feed and carriage return are then allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One line: every control character is refused.
    Single,
    /// Free text: tab and line breaks are kept, every other control character is refused.
    Multi,
}

/// Refuses NUL and the other control characters (C0, DEL, C1) in `value`, except tab and line
/// breaks in free text: PostgreSQL refuses NUL outright, and the others are never meant as text.
pub fn plain(field: &str, value: &str, lines: Lines) -> Result<(), String> {
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\t' | '\n' | '\r');
    match value.chars().find(|c| c.is_control() && !allowed(*c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "{field} must not contain control characters (found U+{:04X})",
            u32::from(c)
        )),
    }
}

/// Checks a link a page will render: http(s) only (never `javascript:` or `data:`), at most
/// [`MAX_URL_CHARS`] characters, no spaces or control characters.
pub fn http_url(field: &str, url: &str) -> Result<(), String> {
    let scheme_ok = ["http://", "https://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    });
    let host_ok = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    let chars_ok = !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if scheme_ok && host_ok && chars_ok && url.chars().count() <= MAX_URL_CHARS {
        Ok(())
    } else {
        Err(format!(
            "{field} must be an http(s) URL of at most {MAX_URL_CHARS} characters (got '{}')",
            excerpt(url)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_except_line_breaks_in_free_text() {
        assert!(plain("title", "Hello, NATS", Lines::Single).is_ok());
        assert_eq!(
            plain("title", "a\0b", Lines::Single).unwrap_err(),
            "title must not contain control characters (found U+0000)"
        );
        for c in ['\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\n', '\t'] {
            assert!(plain("title", &format!("a{c}"), Lines::Single).is_err(), "{c:?}");
        }
        assert!(plain("text", "line 1\r\n\tline 2\n", Lines::Multi).is_ok());
        assert!(plain("text", "line\0", Lines::Multi).is_err());
    }

    #[test]
    fn only_short_http_links_pass() {
        for good in ["http://x.io/a.png", "HTTPS://cdn.example.com/p?q=1"] {
            assert!(http_url("imgUrl", good).is_ok(), "{good}");
        }
        let long = format!("https://x.io/{}", "a".repeat(MAX_URL_CHARS));
        for bad in [
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "ftp://x.io/a",
            "https://",
            "https:///path",
            "https://x.io/a b",
            "https://x.io/\0",
            long.as_str(),
        ] {
            let err = http_url("imgUrl", bad).unwrap_err();
            assert!(err.starts_with("imgUrl must be an http(s) URL"), "{bad}");
            assert!(err.len() < 200, "the message quotes only an excerpt");
        }
    }
}
