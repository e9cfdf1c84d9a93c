//! Identifiers and doc text: the two sinks where spec text reaches Rust source.
//!
//! The model named everything with [`fhirforge_model::names::assign`]; this module checks each
//! name again as it becomes an [`Ident`] (a hand-built or corrupted model must not inject code
//! either), and turns spec documentation into text that is safe for `#[doc = "..."]` and quiet
//! under rustdoc and clippy lints.

use crate::Error;
use fhirforge_model::names;
use proc_macro2::{Ident, Span};

/// Whether `s` is a plain, non-keyword identifier: `^[A-Za-z_][A-Za-z0-9_]*$`.
pub(crate) fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !names::is_keyword(s)
}

/// An [`Ident`] for a name that must already be plain; anything else is an internal error
/// (never a panic, never emitted).
pub(crate) fn ident(s: &str) -> Result<Ident, Error> {
    if !is_plain_ident(s) {
        return Err(Error::InvalidIdent(s.escape_debug().to_string()));
    }
    // Checked above, so `Ident::new` (which panics on anything that is not an identifier)
    // cannot panic.
    Ok(Ident::new(s, Span::call_site()))
}

/// A snake_case method name for a spec name, never a keyword.
pub(crate) fn snake(name: &str) -> String {
    names::snake_ident(name)
}

/// Characters that never reach a doc comment: controls (a bare `\r` is a compile error in a doc
/// comment), line and paragraph separators, and the bidirectional overrides that rustc's
/// `text_direction_codepoint_in_comment` lint rejects.
fn is_dropped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Escapes one word of spec text for markdown: URLs (also inside a word, as in
/// `system=http://...|code`) become autolinks, or code spans when they hold characters an
/// autolink cannot (rustdoc's `bare_urls` lint); brackets, angle brackets, backslashes and
/// backticks elsewhere are backslash-escaped so spec text can make no links, HTML tags or code
/// spans.
fn escape_word(word: &str, out: &mut String) {
    let Some(start) = url_start(word) else {
        push_escaped(word, out);
        return;
    };
    push_escaped(&word[..start], out);
    let rest = &word[start..];
    // Trailing sentence punctuation is not part of the URL.
    let url = rest.trim_end_matches(['.', ',', ';', ':', ')', '\'', '"']);
    let tail = &rest[url.len()..];
    let clean = url
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '`' | '\\'));
    if clean {
        out.push('<');
        out.push_str(url);
        out.push('>');
    } else {
        code_span(url, out);
    }
    push_escaped(tail, out);
}

/// Where the first `http://` or `https://` in `word` starts. Looks only at each `h` (a
/// substring search would set up a searcher per word, for the many words without a URL).
fn url_start(word: &str) -> Option<usize> {
    word.match_indices('h')
        .map(|(i, _)| i)
        .find(|&i| word[i..].starts_with("http://") || word[i..].starts_with("https://"))
}

/// `text` as a markdown code span whose fence is longer than any backtick run inside it.
fn code_span(text: &str, out: &mut String) {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    out.push_str(&fence);
    out.push_str(pad);
    out.push_str(text);
    out.push_str(pad);
    out.push_str(&fence);
}

/// Pushes `text` with a backslash before each markdown-special character. They are all
/// ASCII, so the text between them is copied in runs.
fn push_escaped(text: &str, out: &mut String) {
    let special = |b: &u8| {
        matches!(
            b,
            b'\\' | b'[' | b']' | b'<' | b'>' | b'`' | b'*' | b'_' | b'|' | b'#' | b'&'
        )
    };
    let mut rest = text;
    while let Some(at) = rest.as_bytes().iter().position(special) {
        out.push_str(&rest[..at]);
        out.push('\\');
        out.push_str(&rest[at..=at]);
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
}

/// Splits spec text into paragraphs (blank-line separated) of escaped, whitespace-collapsed text.
fn escaped_paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    // Tabs and carriage returns are whitespace between words, so `\n\r\n` is no paragraph
    // break (`\n\n` is the only one).
    for para in text.split("\n\n") {
        let mut line = String::new();
        let words = para
            .split(|c: char| c.is_whitespace() || is_dropped(c))
            .filter(|w| !w.is_empty());
        for word in words {
            if !line.is_empty() {
                line.push(' ');
            }
            escape_word(word, &mut line);
        }
        if !line.is_empty() {
            paragraphs.push(line);
        }
    }
    paragraphs
}

/// Spec documentation as doc lines: one line per paragraph (blank-line separated in the spec),
/// whitespace collapsed, markdown neutralized, each line starting with a space so `///!` or
/// `////` can never form. Empty when the text has no visible content.
pub(crate) fn doc_paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for mut line in escaped_paragraphs(text) {
        // A paragraph must not open a list, heading, block quote or numbered list item.
        if line.starts_with(['-', '+', '=', '~']) {
            line.insert(0, '\\');
        }
        let numbered = line.split_once(['.', ')']).and_then(|(head, _)| {
            let digits = !head.is_empty() && head.len() <= 9;
            (digits && head.chars().all(|c| c.is_ascii_digit())).then_some(head.len())
        });
        if let Some(at) = numbered {
            line.insert(at, '\\');
        }
        out.push(format!(" {line}"));
    }
    out
}

/// Inline spec text (a name or a short value) for use inside a doc sentence: one line, escaped.
pub(crate) fn doc_inline(text: &str) -> String {
    let joined = escaped_paragraphs(text).join(" ");
    if joined.is_empty() {
        "(empty)".to_owned()
    } else {
        joined
    }
}

/// Inline spec text as a code span when it is plain enough (`birthdate`, `Observation:patient`),
/// else escaped text.
pub(crate) fn doc_code(text: &str) -> String {
    let plain = !text.is_empty()
        && text.len() <= 200
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.$/|*[]".contains(c));
    if plain {
        format!("`{text}`")
    } else {
        doc_inline(text)
    }
}

/// Text for a one-line comment (the `@generated` header): printable ASCII only.
pub(crate) fn comment_safe(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // `*/` cannot end anything in a line comment, but keep the header boring anyway.
    s.replace("*/", "*_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_idents() {
        for ok in ["a", "_a", "type_", "A9", "vendor_encounter"] {
            assert!(is_plain_ident(ok), "{ok}");
        }
        for bad in [
            "", "_", "9a", "type", "a-b", "a b", "r#type", "é", "a\n", "Self",
        ] {
            assert!(!is_plain_ident(bad), "{bad:?}");
            assert!(ident(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn type_stems_are_clean_camel_case() {
        for (input, expected) in [
            ("Patient", "Patient"),
            ("Self", "SelfValue"),
            ("Observation:patient", "ObservationPatient"),
            ("my-thing", "MyThing"),
            ("*", "Unnamed"),
        ] {
            assert_eq!(names::type_stem(input), expected, "{input:?}");
        }
    }

    #[test]
    fn docs_are_neutralized() {
        for (input, expected) in [
            (
                "The patient's date of birth",
                vec![" The patient's date of birth"],
            ),
            ("a\n  b\r\n\tc", vec![" a b c"]),
            ("one\n\ntwo", vec![" one", " two"]),
            ("see [Foo] <b>x</b>", vec![r" see \[Foo\] \<b\>x\</b\>"]),
            ("- item\ncontinued", vec![r" \- item continued"]),
            ("1. first", vec![r" 1\. first"]),
            (
                "see https://example.org/x.",
                vec![" see <https://example.org/x>."],
            ),
            ("evil\u{202E}txt", vec![" evil txt"]),
            ("\n\n \u{0} \n", vec![]),
            ("4.0.1 is a version", vec![r" 4\.0.1 is a version"]),
            ("!inner", vec![" !inner"]),
            ("*/ \"quote\" `tick`", vec![r#" \*/ "quote" \`tick\`"#]),
        ] {
            assert_eq!(doc_paragraphs(input), expected, "{input:?}");
        }
    }

    #[test]
    fn inline_text_has_no_block_escapes() {
        assert_eq!(doc_inline("4.0.1"), "4.0.1");
        assert_eq!(doc_inline("- a\n\nb <c>"), r"- a b \<c\>");
        assert_eq!(doc_inline(" \n "), "(empty)");
    }

    #[test]
    fn header_text_is_printable_ascii() {
        assert_eq!(comment_safe("a\nb\u{202E}c*/"), "a_b_c*_");
    }
}
