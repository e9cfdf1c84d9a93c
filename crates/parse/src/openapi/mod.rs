//! OpenAPI input: Swagger 2.0, OpenAPI 3.0.x and 3.1.x documents, JSON or YAML, read into the
//! same [`Connector`] a CapabilityStatement gives.
//!
//! Some EHRs describe their API only in OpenAPI: proprietary REST APIs (Elation, OpenEMR's
//! `/api`) and FHIR servers that publish OpenAPI beside or instead of `/metadata` (Firely
//! Server, NextGen Office). The reader turns such a document into the connector model:
//!
//! * **FHIR-shaped paths** under the document's FHIR base (the literal prefix that most often
//!   precedes an R4 resource type: `""` for Firely, `/fhir` for OpenEMR, `/fhir/r4` for NextGen)
//!   become resources and interactions: `GET /{Type}` is search-type, `POST /{Type}` create,
//!   `/{Type}/{id}` read/update/patch/delete whatever the id variable is called (`{uuid}`,
//!   `{logical_id}`), `/{Type}/{id}/_history[/{vid}]` history-instance and vread,
//!   `/{Type}/_search` search-type, `/$op`, `/{Type}/$op` and `/{Type}/{id}/$op` operations,
//!   `POST /` batch/transaction. Query parameters of searches (and the fields of a form-encoded
//!   `_search` body) become search parameters, typed from the CapabilityStatement given in
//!   [`Options::capability`], else from the FHIR R4 core definitions by (resource, name), else
//!   from the common-parameter table (`_count` is a number), else `string` with a warning:
//!   OpenAPI documents type every FHIR search parameter `string`, which says nothing.
//! * **Other paths** become [`GenericOperation`](fhirforge_model::GenericOperation)s: method,
//!   path template, path/query/header parameters with simple types, JSON request and response
//!   bodies, documentation from `summary`/`description`, and a Rust method name from
//!   `operationId`, else derived from method and path (`get_api_patient_by_puuid`), given
//!   (like every Rust name) by [`fhirforge_model::names::assign`].
//! * **Security schemes** map to [`Security`](fhirforge_model::Security): HTTP basic to
//!   `Basic`, bearer to `Bearer`, OAuth2 (client credentials, authorization code; Swagger's
//!   `application` and `accessCode`) to `OAuth` with token and authorization endpoints, grant
//!   types and scopes; relative URLs resolve against the server URL. `openIdConnect` pointing at
//!   a `/.well-known/smart-configuration` adds `SMART-on-FHIR`, and its URL is returned in
//!   [`OpenApiParsed::smart_configuration_url`] for the caller to fetch and merge.
//!
//! # Lenient to mess, strict about danger
//!
//! Every oddity of the real documents in `specs/openapi` is read with a [`Warning`](crate::Warning) naming its
//! JSON pointer: CRLF line ends, a `security` map where a list belongs, integer response codes
//! (YAML `200:`), 3.1 type arrays mixed with `nullable`, missing `operationId`s, undeclared path
//! variables, duplicate `operationId`s. Names are never trusted: resource types must be
//! `^[A-Z][A-Za-z0-9]*$`, parameter and operation names a small ASCII set, path templates
//! printable ASCII without quotes or backslashes; anything else is skipped with a warning, so
//! hostile text never becomes a name or a path.
//!
//! Refused with an [`Error`]: input over [`Limits::max_bytes`], nesting deeper than
//! [`Limits::max_depth`], YAML whose aliases expand past twice the input's size (a "billion
//! laughs"), malformed JSON or YAML, documents that are not Swagger 2.0 or OpenAPI 3.0/3.1,
//! external `$ref`s (never fetched) and `$ref` chains that loop. No input makes the reader panic.
//!
//! ```
//! use fhirforge_parse::openapi;
//!
//! let yaml = b"openapi: 3.0.1
//! info: {title: Example FHIR API, version: '1'}
//! servers: [{url: 'https://ehr.example/fhir/'}]
//! paths:
//!   /Patient:
//!     get:
//!       parameters: [{name: birthdate, in: query, schema: {type: string}}]
//!       responses: {200: {description: a Bundle}}
//!   /Patient/{id}:
//!     get:
//!       parameters: [{name: id, in: path, required: true, schema: {type: string}}]
//!       responses: {200: {description: a Patient}}
//! ";
//! let read = openapi::read(yaml, &openapi::Options::default())?;
//! let patient = read.parsed.connector.resource("Patient").unwrap();
//! assert_eq!(patient.search_params[0].param_type, fhirforge_model::SearchParamType::Date);
//! assert_eq!(read.parsed.connector.base_url.as_deref(), Some("https://ehr.example/fhir"));
//! # Ok::<(), fhirforge_parse::Error>(())
//! ```

mod fhir;
mod reader;
mod refs;

use crate::collect::kind;
use crate::load;
use crate::{Error, Limits, Parsed};
use fhirforge_model::Connector;
use serde_json::Value;
use std::path::Path;

/// Which OpenAPI dialect a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum SpecVersion {
    /// Swagger 2.0 (`swagger: "2.0"`).
    Swagger2,
    /// OpenAPI 3.0.x.
    OpenApi30,
    /// OpenAPI 3.1.x (later 3.x versions are read as 3.1, with a warning).
    OpenApi31,
}

/// How to read a document.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// A CapabilityStatement of the same server, read beforehand: its search parameter types,
    /// definitions and FHIR version win over the FHIR core definitions.
    pub capability: Option<&'a Connector>,
    /// Where the document came from (`https://ehr.example/openapi.json`), to make relative
    /// server URLs absolute.
    pub source_url: Option<&'a str>,
    /// Size and nesting limits.
    pub limits: Limits,
}

/// A connector read from an OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenApiParsed {
    /// The connector and the warnings, as the CapabilityStatement readers return them.
    pub parsed: Parsed,
    /// The document's dialect.
    pub version: SpecVersion,
    /// The SMART configuration URL an `openIdConnect` scheme (or a
    /// `.well-known/smart-configuration` path under the FHIR base) points at, resolved against
    /// the server URL. The reader never fetches it; see
    /// [`crate::read_smart_configuration`] and [`Parsed::merge_smart_configuration`].
    pub smart_configuration_url: Option<String>,
}

/// Whether a parsed document is an OpenAPI or Swagger document (it has an `openapi` or
/// `swagger` key at the top level), so callers can accept either kind of spec by content.
pub fn is_openapi(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.contains_key("openapi") || o.contains_key("swagger"))
}

/// Whether raw bytes look like an OpenAPI or Swagger document without building a tree: JSON
/// with a top-level `"openapi"` or `"swagger"` key (found by a depth-tracking scan, so a nested
/// property of that name does not count), or YAML with an unindented `openapi:`/`swagger:` line.
pub fn sniff(input: &[u8]) -> bool {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    match input.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => json_top_level_key(input),
        Some(b'[' | b'<') | None => false,
        Some(_) => input.split(|&b| b == b'\n').any(|line| {
            let line = line
                .strip_prefix(b"\"")
                .or_else(|| line.strip_prefix(b"'"))
                .unwrap_or(line);
            [&b"openapi"[..], b"swagger"].iter().any(|k| {
                line.strip_prefix(*k).is_some_and(|rest| {
                    let rest = rest
                        .strip_prefix(b"\"")
                        .or_else(|| rest.strip_prefix(b"'"))
                        .unwrap_or(rest);
                    rest.trim_ascii_start().starts_with(b":")
                })
            })
        }),
    }
}

/// Scans JSON for a key `openapi` or `swagger` directly inside the outermost object.
fn json_top_level_key(input: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < input.len() && input[j] != b'"' {
                    j += if input[j] == b'\\' { 2 } else { 1 };
                }
                let text = &input[start..j.min(input.len())];
                let after = input.get(j + 1..).unwrap_or_default();
                if depth == 1
                    && matches!(text, b"openapi" | b"swagger")
                    && after.trim_ascii_start().starts_with(b":")
                {
                    return true;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Reads an OpenAPI or Swagger document (JSON or YAML, detected from the first byte).
///
/// # Errors
/// [`Error::TooLarge`], [`Error::TooDeep`], [`Error::Json`], [`Error::Yaml`],
/// [`Error::Expansion`] (YAML aliases), [`Error::NotOpenApi`], [`Error::UnsupportedOpenApi`],
/// [`Error::ExternalRef`] and [`Error::RefCycle`].
pub fn read(input: &[u8], options: &Options<'_>) -> Result<OpenApiParsed, Error> {
    let limits = load::LoadLimits::new(&options.limits);
    let mut loaded = load::load(input, limits)?;
    // What the loader noticed comes first (it was found first) and counts against the warning
    // cap.
    let notes = loaded.notes();
    read_value_with(&loaded.value, options, notes.into_iter())
}

/// Reads an OpenAPI or Swagger document file.
///
/// # Errors
/// [`Error::Io`], then those of [`read`].
pub fn read_file(path: &Path, options: &Options<'_>) -> Result<OpenApiParsed, Error> {
    let bytes = crate::read_file(path, &options.limits)?;
    read(&bytes, options)
}

/// Fetches an OpenAPI or Swagger document with one GET (the same bounded client as
/// [`crate::fetch`]: size limit checked against `Content-Length` and while streaming, 30 s
/// timeout, at most 5 redirects) and reads it. The URL becomes [`Options::source_url`] unless
/// one is given, so relative `servers` and token URLs resolve against it.
///
/// # Errors
/// [`Error::InvalidUrl`] for a URL that is not absolute http(s), [`Error::Http`] and
/// [`Error::HttpStatus`] when the server cannot be reached or refuses, [`Error::TooLarge`], and
/// those of [`read`]. URLs in errors carry no user info or query.
pub async fn fetch(url: &str, options: &Options<'_>) -> Result<OpenApiParsed, Error> {
    let parsed = crate::fetch::parse_base(url)?;
    let client = crate::fetch::client()?;
    let accept = "application/json, application/yaml;q=0.9, text/yaml;q=0.9, */*;q=0.1";
    match crate::fetch::get(&client, &parsed, accept, &options.limits).await? {
        Ok((_, body)) => {
            let options = Options {
                source_url: options.source_url.or(Some(url)),
                ..*options
            };
            read(&body, &options)
        }
        Err(status) => Err(Error::HttpStatus {
            url: crate::fetch::shown(&parsed),
            status,
        }),
    }
}

/// Reads an already parsed OpenAPI or Swagger document.
///
/// # Errors
/// [`Error::NotOpenApi`], [`Error::UnsupportedOpenApi`], [`Error::ExternalRef`] and
/// [`Error::RefCycle`].
pub fn read_value(doc: &Value, options: &Options<'_>) -> Result<OpenApiParsed, Error> {
    read_value_with(doc, options, std::iter::empty())
}

/// [`read_value`] with warnings found before the walk (pointer, message).
fn read_value_with(
    doc: &Value,
    options: &Options<'_>,
    early: impl Iterator<Item = (String, String)>,
) -> Result<OpenApiParsed, Error> {
    let (version, version_warning) = spec_version(doc)?;
    refs::check_refs(doc).map_err(|problem| match problem {
        refs::RefProblem::External { pointer, reference } => {
            Error::ExternalRef { pointer, reference }
        }
        refs::RefProblem::Cycle { pointer, reference }
        | refs::RefProblem::Dangling { pointer, reference } => {
            Error::RefCycle { pointer, reference }
        }
    })?;
    let mut reader = reader::Reader::new(doc, version, options);
    for (pointer, message) in early {
        reader.warn(pointer, message);
    }
    if let Some((pointer, message)) = version_warning {
        reader.warn(pointer, message);
    }
    reader.read()
}

/// The dialect, from the `swagger` or `openapi` key.
fn spec_version(doc: &Value) -> Result<(SpecVersion, Option<(String, String)>), Error> {
    let Some(obj) = doc.as_object() else {
        return Err(Error::NotOpenApi {
            found: kind(doc).to_owned(),
        });
    };
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        // YAML `openapi: 3.0` without quotes is a number.
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(v) = obj.get("openapi") {
        let text = as_text(v).unwrap_or_default();
        let mut parts = text.split('.');
        return match (parts.next(), parts.next()) {
            (Some("3"), Some("0")) => Ok((SpecVersion::OpenApi30, None)),
            (Some("3"), Some("1")) => Ok((SpecVersion::OpenApi31, None)),
            (Some("3"), Some(minor))
                if minor.chars().all(|c| c.is_ascii_digit()) && !minor.is_empty() =>
            {
                Ok((
                    SpecVersion::OpenApi31,
                    Some((
                        "/openapi".to_owned(),
                        format!(
                            "OpenAPI {} is newer than 3.1; read as 3.1",
                            reader::shown(&text)
                        ),
                    )),
                ))
            }
            _ => Err(Error::UnsupportedOpenApi {
                version: reader::shown(&text),
            }),
        };
    }
    if let Some(v) = obj.get("swagger") {
        let text = as_text(v).unwrap_or_default();
        return if text == "2.0" || text == "2" {
            Ok((SpecVersion::Swagger2, None))
        } else {
            Err(Error::UnsupportedOpenApi {
                version: format!("swagger {}", reader::shown(&text)),
            })
        };
    }
    Err(Error::NotOpenApi {
        found: "an object without an `openapi` or `swagger` key".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detection_by_content() {
        assert!(is_openapi(&json!({"openapi": "3.1.0"})));
        assert!(is_openapi(&json!({"swagger": "2.0"})));
        assert!(!is_openapi(&json!({"resourceType": "CapabilityStatement"})));
        assert!(!is_openapi(&json!(["openapi"])));
        assert!(sniff(b"openapi: 3.0.0\ninfo: {}\n"));
        assert!(sniff(b"{\"components\": {}, \"openapi\": \"3.1.0\"}"));
        assert!(sniff(b"\xEF\xBB\xBFswagger: '2.0'\r\n"));
        assert!(!sniff(b"{\"resourceType\": \"CapabilityStatement\"}"));
        assert!(!sniff(b"info:\n  openapi: 3\n"));
        assert!(!sniff(
            b"{\"info\": {\"openapi\": 1}, \"x\": \"\\\"openapi\\\": 1\"}"
        ));
        assert!(sniff(
            b"{\"info\": {\"a\": [1, {\"b\": 2}]}, \"swagger\" : \"2.0\"}"
        ));
        assert!(!sniff(b"{\"unterminated"));
    }

    #[test]
    fn versions_are_recognised_or_refused() {
        let v = |doc: Value| spec_version(&doc).map(|(v, w)| (v, w.is_some()));
        assert_eq!(
            v(json!({"openapi": "3.0.3"})).ok(),
            Some((SpecVersion::OpenApi30, false))
        );
        assert_eq!(
            v(json!({"openapi": "3.1.0"})).ok(),
            Some((SpecVersion::OpenApi31, false))
        );
        assert_eq!(
            v(json!({"openapi": "3.2.0"})).ok(),
            Some((SpecVersion::OpenApi31, true))
        );
        assert_eq!(
            v(json!({"openapi": 3.0})).ok(),
            Some((SpecVersion::OpenApi30, false))
        );
        assert_eq!(
            v(json!({"swagger": "2.0"})).ok(),
            Some((SpecVersion::Swagger2, false))
        );
        assert!(matches!(
            v(json!({"swagger": "1.2"})),
            Err(Error::UnsupportedOpenApi { .. })
        ));
        assert!(matches!(
            v(json!({"openapi": "4.0"})),
            Err(Error::UnsupportedOpenApi { .. })
        ));
        assert!(matches!(
            v(json!({"info": {}})),
            Err(Error::NotOpenApi { .. })
        ));
        assert!(matches!(v(json!([1])), Err(Error::NotOpenApi { .. })));
    }
}
