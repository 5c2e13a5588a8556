//! Error messages quote what a caller sent, but never all of it: a 600 KB value quoted back would
//! not fit a NATS reply, and a log line is no place for it either.

/// The most characters of one value an error message quotes.
pub const EXCERPT_CHARS: usize = 64;

/// The most characters of a whole error message, whatever built it.
const MESSAGE_CHARS: usize = 512;

/// At most [`EXCERPT_CHARS`] characters of `value`, control characters shown as `\u{..}` escapes and
/// `…` where it was cut: what an error message may quote of a caller's value.
pub fn excerpt(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `message` with every quoted run (`"..."` or `` `...` ``) cut to [`EXCERPT_CHARS`] characters and
/// the whole cut to a bound: for messages built by code that quotes values in full, such as serde's.
pub(crate) fn bounded(message: &str) -> String {
    if message.len() <= EXCERPT_CHARS && !message.chars().any(char::is_control) {
        return message.to_owned();
    }
    let mut out = String::new();
    let mut open: Option<char> = None;
    let (mut quoted, mut kept) = (0usize, 0usize);
    for c in message.chars() {
        if kept > MESSAGE_CHARS {
            out.push('…');
            break;
        }
        match open {
            Some(q) if c == q => open = None,
            None if c == '"' || c == '`' => {
                open = Some(c);
                quoted = 0;
            }
            Some(_) => {
                quoted += 1;
                if quoted > EXCERPT_CHARS {
                    if quoted == EXCERPT_CHARS + 1 {
                        out.push('…');
                        kept += 1;
                    }
                    continue;
                }
            }
            None => {}
        }
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
        kept += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_keeps_64_characters_and_shows_control_characters() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(1000);
        assert_eq!(excerpt(&long), format!("{}…", "é".repeat(64)));
        assert_eq!(excerpt("a\0b"), "a\\u{0}b");
    }

    #[test]
    fn bounded_messages_cut_quoted_values_and_keep_the_rest() {
        let huge = "x".repeat(600_000);
        let serde_like = format!("invalid type: string \"{huge}\", expected u64 at line 1");
        let bounded = bounded(&serde_like);
        assert_eq!(
            bounded,
            format!(
                "invalid type: string \"{}…\", expected u64 at line 1",
                "x".repeat(64)
            )
        );
        let unquoted = "y".repeat(10_000);
        assert_eq!(bounded_len(&unquoted), MESSAGE_CHARS + 2);
        let field = format!("unknown field `{huge}`, expected `title`");
        assert_eq!(
            super::bounded(&field),
            format!("unknown field `{}…`, expected `title`", "x".repeat(64))
        );
        assert_eq!(super::bounded("page is too large"), "page is too large");
    }

    fn bounded_len(message: &str) -> usize {
        bounded(message).chars().count()
    }
}
