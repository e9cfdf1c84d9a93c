//! FHIR search escaping (`\` `,` `$` `|` inside a value part) and its inverse.
//!
//! This is the only place that adds backslashes. Percent-encoding is a separate, later step
//! ([`SearchParams::to_query_string`](super::SearchParams::to_query_string) or the HTTP client),
//! so a value is FHIR-escaped exactly once and percent-encoded exactly once.

/// The characters FHIR search gives a meaning inside a value: `\` escapes, `,` separates OR
/// alternatives, `$` separates composite parts and `|` separates system, code and unit.
const SPECIAL: [char; 4] = ['\\', ',', '$', '|'];

/// Escapes one value part: `\` → `\\`, `,` → `\,`, `$` → `\$`, `|` → `\|`.
///
/// Call it on the caller's text only, never on separators the encoder adds itself.
///
/// ```
/// use fhirforge_runtime::search::escape;
/// assert_eq!(escape(r"a,b|c$d\e"), r"a\,b\|c\$d\\e");
/// ```
pub fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len() + 2);
    for c in part.chars() {
        if SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape`]: `\x` becomes `x` for the four special characters.
///
/// A backslash before any other character (or at the end) is kept as it is, because servers
/// read it literally too.
///
/// ```
/// use fhirforge_runtime::search::unescape;
/// assert_eq!(unescape(r"a\,b\|c\$d\\e"), r"a,b|c$d\e");
/// ```
pub fn unescape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    let mut chars = part.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if SPECIAL.contains(&next) {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// Splits `value` at every `sep` that is not escaped by a backslash. The pieces stay escaped.
///
/// ```
/// use fhirforge_runtime::search::split_unescaped;
/// assert_eq!(split_unescaped(r"a\,b,c", ','), vec![r"a\,b", "c"]);
/// ```
pub fn split_unescaped(value: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&value[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_table() {
        for (input, expected) in [
            ("plain", "plain"),
            ("", ""),
            ("a,b", r"a\,b"),
            ("a|b", r"a\|b"),
            ("a$b", r"a\$b"),
            (r"a\b", r"a\\b"),
            (r"\,", r"\\\,"),
            (",,", r"\,\,"),
            ("ä|é", r"ä\|é"),
            ("a=b&c", "a=b&c"),
        ] {
            assert_eq!(escape(input), expected, "input: {input:?}");
            assert_eq!(unescape(expected), input, "escaped: {expected:?}");
        }
    }

    #[test]
    fn unescape_keeps_unknown_backslashes() {
        assert_eq!(unescape(r"a\nb"), r"a\nb");
        assert_eq!(unescape("a\\"), "a\\");
    }

    #[test]
    fn split_respects_escapes() {
        assert_eq!(split_unescaped("a,b", ','), vec!["a", "b"]);
        assert_eq!(split_unescaped(r"a\,b", ','), vec![r"a\,b"]);
        assert_eq!(split_unescaped(r"a\\,b", ','), vec![r"a\\", "b"]);
        assert_eq!(split_unescaped("", ','), vec![""]);
        assert_eq!(split_unescaped("s|c", '|'), vec!["s", "c"]);
        assert_eq!(split_unescaped(",", ','), vec!["", ""]);
    }
}
