//! Live reading: `<base>/metadata` and `<base>/.well-known/smart-configuration`.
//!
//! Kept small on purpose: one GET per document, bounded by [`Limits::max_bytes`] (checked against
//! `Content-Length` before the body is read, and again while it streams), a 30 s timeout and at
//! most 5 redirects: the body is read by the runtime's one bounded reader
//! ([`fhirforge_runtime::body::read_bounded`]). URLs in errors go through [`fhirforge_model::redact::for_display`] (no user info,
//! query or fragment), so credentials never reach a log.

use crate::{Error, Format, Limits, Parsed, SmartDocument};
use fhirforge_runtime::body::{read_bounded, BodyError};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use std::time::Duration;
use url::Url;

const FHIR_JSON: &str = "application/fhir+json";
const FHIR_XML: &str = "application/fhir+xml";

/// A URL as it may appear in an error message: no user info, no query, no fragment.
pub(crate) fn shown(url: &Url) -> String {
    fhirforge_model::redact::for_display(url.as_str())
}

pub(crate) fn parse_base(base: &str) -> Result<Url, Error> {
    let url = Url::parse(base).map_err(|e| Error::InvalidUrl {
        url: fhirforge_model::redact::for_display(base),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(Error::InvalidUrl {
            url: shown(&url),
            reason: "only absolute http and https URLs are fetched".to_owned(),
        });
    }
    Ok(url)
}

/// `base` with `suffix` appended as path segments, unless the path already ends with it.
fn join(base: &Url, suffix: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let path = url.path().trim_end_matches('/').to_owned();
    if !path.ends_with(suffix) {
        url.set_path(&format!("{path}/{suffix}"));
    }
    url
}

pub(crate) fn client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("fhirforge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Http {
            url: String::new(),
            source: e.without_url(),
        })
}

/// One GET: `Ok(Err(status))` for an error status, `Ok(Ok((content type, body)))` otherwise.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &Url,
    accept: &str,
    limits: &Limits,
) -> Result<Result<(Option<String>, Vec<u8>), u16>, Error> {
    let http = |e: reqwest::Error| Error::Http {
        url: shown(url),
        source: e.without_url(),
    };
    let mut response = client
        .get(url.clone())
        .header(ACCEPT, accept)
        .send()
        .await
        .map_err(http)?;
    let status = response.status();
    if !status.is_success() {
        return Ok(Err(status.as_u16()));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let body = read_bounded(&mut response, limits.max_bytes)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { announced, .. } => Error::TooLarge {
                what: shown(url),
                size: announced,
                limit: limits.max_bytes,
            },
            BodyError::Transport(e) => http(e),
        })?
        .to_vec();
    Ok(Ok((content_type, body)))
}

fn format_of(content_type: Option<&str>, body: &[u8]) -> Format {
    match content_type {
        Some(ct) if ct.contains("xml") => Format::Xml,
        Some(ct) if ct.contains("json") => Format::Json,
        _ => Format::sniff(body),
    }
}

/// Reads `<base>/metadata`, asking for `application/fhir+json` and falling back to
/// `application/fhir+xml` when the server answers 406 or 415.
///
/// # Errors
/// [`Error::InvalidUrl`] for a base that is not an absolute http(s) URL, [`Error::Http`] and
/// [`Error::HttpStatus`] when the server cannot be reached or refuses, [`Error::TooLarge`] for a
/// body over the limit, and every error of [`crate::read_capability_statement`].
pub async fn fetch_capability_statement(base: &str, limits: &Limits) -> Result<Parsed, Error> {
    let url = join(&parse_base(base)?, "metadata");
    let client = client()?;
    let (content_type, body) = match get(&client, &url, FHIR_JSON, limits).await? {
        Ok(found) => found,
        Err(406 | 415) => match get(&client, &url, FHIR_XML, limits).await? {
            Ok(found) => found,
            Err(status) => {
                return Err(Error::HttpStatus {
                    url: shown(&url),
                    status,
                })
            }
        },
        Err(status) => {
            return Err(Error::HttpStatus {
                url: shown(&url),
                status,
            })
        }
    };
    let format = format_of(content_type.as_deref(), &body);
    let mut parsed = crate::read_capability_statement(&body, Some(format), limits)?;
    // Generated docs say the connector comes from the server itself, not from a file.
    parsed.connector.source_kind = fhirforge_model::SourceKind::LiveMetadata;
    Ok(parsed)
}

/// Reads a SMART configuration from `url`: a base URL (`/.well-known/smart-configuration` is
/// appended) or the configuration's own URL.
///
/// # Errors
/// As [`fetch_capability_statement`], then those of [`crate::read_smart_configuration`].
pub async fn fetch_smart_configuration(url: &str, limits: &Limits) -> Result<SmartDocument, Error> {
    let url = join(&parse_base(url)?, ".well-known/smart-configuration");
    let client = client()?;
    match get(&client, &url, "application/json", limits).await? {
        Ok((_, body)) => crate::read_smart_configuration(&body, limits),
        Err(status) => Err(Error::HttpStatus {
            url: shown(&url),
            status,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_joined_and_redacted() {
        let base = parse_base("https://user:pw@ehr.example/fhir/r4/?token=s3cret").unwrap();
        assert_eq!(
            shown(&join(&base, "metadata")),
            "https://ehr.example/fhir/r4/metadata"
        );
        let already = parse_base("http://127.0.0.1:8080/metadata").unwrap();
        assert_eq!(
            join(&already, "metadata").as_str(),
            "http://127.0.0.1:8080/metadata"
        );
        let smart = parse_base("http://h/r4/.well-known/smart-configuration").unwrap();
        assert_eq!(
            join(&smart, ".well-known/smart-configuration").as_str(),
            "http://h/r4/.well-known/smart-configuration"
        );
        assert!(matches!(
            parse_base("ftp://h/x"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            parse_base("not a url"),
            Err(Error::InvalidUrl { .. })
        ));
        let err = parse_base("http://alice:pw@[bad/x?y=1")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("alice") && !err.contains("pw"), "{err}");
        assert!(err.contains("http://[bad/x"), "{err}");
        let err = parse_base("file:///etc/passwd?x=secret")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
