//! The workspace's one URL-redaction helper: what of a URL may be shown, logged or written into
//! generated code.
//!
//! It lives here because every crate that handles URLs from users or documents (parse, codegen,
//! cli) depends on the model, and the model has no dependencies; it works on text so that a URL
//! that does not even parse is redacted the same way. (The runtime does not depend on the model:
//! it refuses URLs with user info where it takes them, so it has nothing to redact.)
//!
//! User info (`user:password@`) is credentials and is always removed. The query can hold
//! credentials too (`?api_key=`) and patient data, so [`for_display`] drops it; [`strip_user_info`]
//! keeps it for callers that must keep the URL working (a profile's base URL).

/// `url` without user info: `https://u:p@ehr.example/r4?x=1` becomes
/// `https://ehr.example/r4?x=1`. Text without user info comes back unchanged.
pub fn strip_user_info(url: &str) -> String {
    match split(url) {
        Some(parts) if parts.user_info => {
            format!("{}{}{}", parts.scheme_and_slashes, parts.host, parts.rest)
        }
        _ => url.to_owned(),
    }
}

/// `url` as it may appear in a message, a log line, a README or generated code: no user info, no
/// query, no fragment (`https://u:p@ehr.example/r4?token=s#x` becomes `https://ehr.example/r4`).
pub fn for_display(url: &str) -> String {
    let stripped = strip_user_info(url);
    let end = stripped.find(['?', '#']).unwrap_or(stripped.len());
    stripped[..end].to_owned()
}

/// Whether `url` carries user info (`user:password@host`).
pub fn has_user_info(url: &str) -> bool {
    split(url).is_some_and(|parts| parts.user_info)
}

struct Parts<'a> {
    /// `https://` (or `https:` when the slashes are missing, which URL parsers accept).
    scheme_and_slashes: &'a str,
    user_info: bool,
    /// The authority after any `@`.
    host: &'a str,
    /// Path, query and fragment.
    rest: &'a str,
}

fn split(url: &str) -> Option<Parts<'_>> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let valid_scheme = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return None;
    }
    let after = &url[colon + 1..];
    // URL parsers treat `\` as `/` in http(s) URLs, so it may start or end an authority too.
    let slashes = after.len() - after.trim_start_matches(['/', '\\']).len();
    let authority_start = colon + 1 + slashes;
    let authority_and_rest = &url[authority_start..];
    let end = authority_and_rest
        .find(['/', '\\', '?', '#'])
        .unwrap_or(authority_and_rest.len());
    let authority = &authority_and_rest[..end];
    let (user_info, host) = match authority.rfind('@') {
        Some(at) => (true, &authority[at + 1..]),
        None => (false, authority),
    };
    Some(Parts {
        scheme_and_slashes: &url[..authority_start],
        user_info,
        host,
        rest: &authority_and_rest[end..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_removed_and_display_drops_query_and_fragment() {
        for (url, stripped, shown) in [
            (
                "https://u:p@ehr.example/r4?x=1#f",
                "https://ehr.example/r4?x=1#f",
                "https://ehr.example/r4",
            ),
            (
                "https://ehr.example/r4",
                "https://ehr.example/r4",
                "https://ehr.example/r4",
            ),
            (
                "http://u@127.0.0.1:8080",
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080",
            ),
            (
                "https://a:b@c@h.example/x",
                "https://h.example/x",
                "https://h.example/x",
            ),
            (
                "https://h.example/p@th?q=a@b",
                "https://h.example/p@th?q=a@b",
                "https://h.example/p@th",
            ),
            (
                "https://u:p@h.example?x",
                "https://h.example?x",
                "https://h.example",
            ),
            (
                "https:\\\\u:p@h.example\\x",
                "https:\\\\h.example\\x",
                "https:\\\\h.example\\x",
            ),
            (
                "https:u:p@h.example/x",
                "https:h.example/x",
                "https:h.example/x",
            ),
            (
                "http://alice:pw@[bad/x?y=1",
                "http://[bad/x?y=1",
                "http://[bad/x",
            ),
            ("not a url", "not a url", "not a url"),
            (
                "file:///etc/passwd?x=secret",
                "file:///etc/passwd?x=secret",
                "file:///etc/passwd",
            ),
            ("", "", ""),
        ] {
            assert_eq!(strip_user_info(url), stripped, "{url}");
            assert_eq!(for_display(url), shown, "{url}");
            assert_eq!(has_user_info(url), url != stripped, "{url}");
        }
    }

    #[test]
    fn no_credential_survives_in_any_spelling() {
        for url in [
            "https://user:s3cret@h/x",
            "HTTPS://user:s3cret@h/x",
            "https:///user:s3cret@h/x",
            "https:/user:s3cret@h",
            "https://user:s3cret@",
            "ftp://user:s3cret@h/x",
        ] {
            assert!(!strip_user_info(url).contains("s3cret"), "{url}");
            assert!(!for_display(url).contains("s3cret"), "{url}");
            assert!(has_user_info(url), "{url}");
        }
    }
}
