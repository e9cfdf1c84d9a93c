//! The FHIR id grammar, checked in one place for every id and version id the runtime puts in a
//! URL or takes from a server's `Location` header (and offered to the CLI for its arguments).
//!
//! FHIR R4 says an `id` is `[A-Za-z0-9\-\.]{1,64}`. The runtime also refuses ids made only of
//! dots: `.` and `..` are valid by that pattern, but the URL library removes them as path
//! segments, so `DELETE [base]/Patient/..` would be sent as `DELETE [base]/Patient` (a
//! conditional delete without criteria), a read would become a type search, and an instance
//! operation a type-level one.

use crate::Error;

/// The longest id FHIR allows.
pub const MAX_LEN: usize = 64;

/// Whether `id` is a FHIR id this runtime sends: 1 to 64 of `A-Z a-z 0-9 - .`, not only dots.
pub fn is_valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && id.bytes().any(|b| b != b'.')
}

/// Checks `id` against the FHIR id grammar; `what` names it in the error (`id`, `version id`).
///
/// # Errors
/// [`Error::InvalidInput`] saying which rule the value breaks (the value is quoted with
/// control characters escaped, and cut, so a hostile value cannot flood a log line).
pub fn check(what: &'static str, id: &str) -> Result<(), Error> {
    if is_valid(id) {
        return Ok(());
    }
    let shown: String = id.chars().take(MAX_LEN + 1).collect();
    let reason = if id.is_empty() {
        "is empty".to_owned()
    } else if id.len() > MAX_LEN {
        format!("{shown:?}… is longer than {MAX_LEN} characters")
    } else if id.bytes().all(|b| b == b'.') {
        format!("{shown:?} is only dots, which the URL would drop as a path segment")
    } else {
        format!("{shown:?} does not match [A-Za-z0-9-.]{{1,64}}")
    };
    Err(Error::invalid(what, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fhir_id_grammar_without_dot_only_ids() {
        for ok in [
            "1",
            "a",
            "A-b.C",
            "-",
            ".a",
            "a.",
            "..a",
            "x".repeat(64).as_str(),
        ] {
            assert!(is_valid(ok), "{ok:?}");
            assert!(check("id", ok).is_ok());
        }
        for bad in [
            "",
            ".",
            "..",
            "...",
            "x".repeat(65).as_str(),
            "a/b",
            "a b",
            "a_b",
            "é",
            "a\tb",
            ".\t.",
            "a?b",
            "a#b",
            "%2e%2e",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
            let err = check("version id", bad).unwrap_err();
            assert!(err.to_string().starts_with("invalid version id: "), "{err}");
        }
        // Every ASCII byte outside the grammar, anywhere in the id.
        for b in (0u8..=127).filter(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')) {
            let c = char::from(b);
            for id in [format!("{c}a"), format!("a{c}a"), format!("a{c}")] {
                assert!(!is_valid(&id), "{id:?}");
            }
        }
        assert!(check("id", "..")
            .unwrap_err()
            .to_string()
            .contains("only dots"));
    }
}
