//! Plain HTTP requests for routes that are not part of the FHIR RESTful API.
//!
//! Connectors generated from OpenAPI documents call proprietary routes (`GET
//! /api/patient/{puuid}/allergy`) through [`Client::request`], so they share everything a FHIR
//! call has: authentication, the [`RetryPolicy`](crate::RetryPolicy), error classification,
//! response size limits and logging with query values hidden.
//!
//! The path template is an absolute path (`/api/items/{id}`) on the origin (scheme, host and
//! port) of the client's base URL, as OpenAPI's server URL plus path is. Every `{name}` in it
//! is replaced by the value given with [`GenericRequest::path_param`], percent-encoded as one
//! path segment: a value can never add a segment (`a/b` is sent as `a%2Fb`), walk up the path
//! (`.` and `..` are refused) or start a query. ASCII control characters are refused in values
//! and templates: the URL parser silently drops tab, CR and LF from a path, so `".\t."` would
//! otherwise arrive as `..` and pop a segment.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fhirforge_runtime::Error> {
//! use fhirforge_runtime::generic::Method;
//! use fhirforge_runtime::Client;
//!
//! let client = Client::builder("https://ehr.example/fhir").build()?;
//! let allergies = client
//!     .request(Method::GET, "/api/patient/{puuid}/allergy")
//!     .path_param("puuid", "90cde167-7b9b-4ed1-bd55-533925cb2605")
//!     .query("_limit", "20")
//!     .send_json()
//!     .await?;
//! # let _ = allergies; Ok(()) }
//! ```

use crate::client::Req;
use crate::{Client, Error};
use http::header::{HeaderName, HeaderValue, ACCEPT};
use serde_json::Value;
use std::fmt;

/// The HTTP method of a [`GenericRequest`] (re-exported from `http`).
pub use http::Method;

/// One request to a non-FHIR route; nothing is sent until [`send`](Self::send) or
/// [`send_json`](Self::send_json).
///
/// Invalid input (an unknown or unfilled `{name}`, a header that is not a valid HTTP header) is
/// kept and reported by `send`, as [`Error::InvalidInput`], before anything is sent.
#[must_use = "a GenericRequest does nothing until you `send` it"]
pub struct GenericRequest<'a> {
    client: &'a Client,
    method: Method,
    template: String,
    path_params: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl fmt::Debug for GenericRequest<'_> {
    /// Names only: values may carry patient data or credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        f.debug_struct("GenericRequest")
            .field("method", &self.method)
            .field("template", &self.template)
            .field("path_params", &names(&self.path_params))
            .field("query", &names(&self.query))
            .field("headers", &names(&self.headers))
            .field("body", &self.body.is_some())
            .finish()
    }
}

impl Client {
    /// Starts a request to a non-FHIR route: `path_template` is an absolute path with `{name}`
    /// placeholders, resolved on the origin of the base URL (see the [module docs](crate::generic)).
    ///
    /// `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS` are retried per the
    /// [`RetryPolicy`](crate::RetryPolicy); `POST` and `PATCH` never once they may have been sent.
    pub fn request(&self, method: Method, path_template: &str) -> GenericRequest<'_> {
        GenericRequest {
            client: self,
            method,
            template: path_template.to_owned(),
            path_params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }
}

impl GenericRequest<'_> {
    /// Fills `{name}` in the path template with `value` (one percent-encoded segment).
    pub fn path_param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.path_params.push((name.to_owned(), value.into()));
        self
    }

    /// Appends `name=value` to the query string (percent-encoded); repeat it for a list.
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// Sends a request header; a name or value that is not valid HTTP is an error at send.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sends `body` as `application/json`.
    pub fn json_body(mut self, body: &Value) -> Self {
        self.body = Some(body.clone());
        self
    }

    /// Sends the request and returns the JSON response body, `Value::Null` when it is empty.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad template, path value or header (nothing sent);
    /// [`Error::Decode`] when the body is not JSON; transport, auth and status errors.
    pub async fn send_json(self) -> Result<Value, Error> {
        let client = self.client;
        let req = self.build()?;
        Ok(client
            .execute(req)
            .await?
            .json("response body")?
            .unwrap_or(Value::Null))
    }

    /// Sends the request and ignores the response body.
    ///
    /// # Errors
    /// As [`send_json`](Self::send_json), without the decode error.
    pub async fn send(self) -> Result<(), Error> {
        let client = self.client;
        let req = self.build()?;
        client.execute(req).await.map(|_| ())
    }

    fn build(self) -> Result<Req, Error> {
        let mut url = self.client.base_url().clone();
        url.set_query(None);
        url.set_fragment(None);
        let template = self.template.split(['?', '#']).next().unwrap_or_default();
        let Some(rest) = template.strip_prefix('/') else {
            return Err(Error::invalid(
                "path template",
                format!("{template:?} does not start with /"),
            ));
        };
        let mut used = vec![false; self.path_params.len()];
        let mut segments = Vec::new();
        for literal in rest.split('/') {
            segments.push(fill(literal, &self.path_params, &mut used)?);
        }
        if let Some(i) = used.iter().position(|u| !u) {
            return Err(Error::invalid(
                "path parameter",
                format!("{:?} is not in the path template", self.path_params[i].0),
            ));
        }
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| Error::invalid("base URL", "cannot be a base"))?;
            path.clear();
            // `push` percent-encodes `/`, `%`, `?` and `#` in each segment.
            path.extend(segments.iter().map(String::as_str));
        }
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        let mut req = Req::new(self.method, url);
        req.headers
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid("header name", format!("{name:?} is not valid")))?;
            // The value is not echoed: it may be a credential.
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::invalid("header value", format!("the value of {name} is not valid"))
            })?;
            req.headers.append(name, value);
        }
        if let Some(body) = &self.body {
            req = req.json_body(body, "application/json")?;
        }
        Ok(req)
    }
}

/// One template segment with every `{name}` replaced by its value.
fn fill(literal: &str, params: &[(String, String)], used: &mut [bool]) -> Result<String, Error> {
    if literal.chars().any(|c| c.is_ascii_control()) {
        return Err(Error::invalid(
            "path template",
            "contains an ASCII control character",
        ));
    }
    let mut out = String::new();
    let mut rest = literal;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(Error::invalid(
                "path template",
                format!("unclosed {{ in {literal:?}"),
            ));
        };
        let name = &after[..close];
        let Some(i) = params.iter().position(|(n, _)| n == name) else {
            return Err(Error::invalid(
                "path parameter",
                format!("{name:?} has no value"),
            ));
        };
        let value = &params[i].1;
        // Checked before the dot rules: the URL parser removes tab, CR and LF, so a value that
        // is not `..` here could become `..` on the wire. The value is not echoed.
        if value.chars().any(|c| c.is_ascii_control()) {
            return Err(Error::invalid(
                "path parameter",
                format!("{name:?} contains an ASCII control character"),
            ));
        }
        if value.is_empty() || value == "." || value == ".." {
            return Err(Error::invalid(
                "path parameter",
                format!("{name:?} must not be empty, \".\" or \"..\""),
            ));
        }
        used[i] = true;
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    // A segment made of values (`{a}{b}`), or the template itself, may still spell `..`.
    if out == "." || out == ".." {
        return Err(Error::invalid(
            "path parameter",
            format!("the segment {literal:?} would be {out:?}"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn url_of(r: GenericRequest<'_>) -> Result<String, Error> {
        r.build().map(|req| req.url.to_string())
    }

    #[test]
    fn values_stay_in_one_segment() {
        let client = Client::builder("https://ehr.example/fhir/r4")
            .build()
            .unwrap();
        let url = url_of(
            client
                .request(Method::GET, "/api/items/{id}/notes/")
                .path_param("id", "a/b?c#d%2F")
                .query("q", "x&y=z"),
        )
        .unwrap();
        assert_eq!(
            url,
            "https://ehr.example/api/items/a%2Fb%3Fc%23d%252F/notes/?q=x%26y%3Dz"
        );
        for bad in ["..", ".", ""] {
            let err = url_of(
                client
                    .request(Method::GET, "/api/{id}")
                    .path_param("id", bad),
            )
            .unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{bad:?}");
        }
        assert!(url_of(client.request(Method::GET, "/api/{id}")).is_err());
        assert!(url_of(client.request(Method::GET, "/api/x").path_param("id", "1")).is_err());
        assert!(url_of(client.request(Method::GET, "api/x")).is_err());
        assert!(url_of(client.request(Method::GET, "/api/{x")).is_err());
        assert_eq!(
            url_of(
                client
                    .request(Method::GET, "/r/{a}.{b}")
                    .path_param("a", "1")
                    .path_param("b", "json")
            )
            .unwrap(),
            "https://ehr.example/r/1.json"
        );
    }

    fn percent_decode(segment: &str) -> String {
        let bytes = segment.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// Every ASCII control character (0x00-0x1F, 0x7F), in every position of a value and in
    /// combination with dots, is refused before anything is sent; and whatever is accepted
    /// stays exactly one segment that decodes back to the value.
    #[test]
    fn control_characters_are_refused_in_every_position() {
        let client = Client::builder("https://ehr.example/fhir").build().unwrap();
        let controls = (0u8..0x20).chain([0x7f]).map(char::from);
        for c in controls {
            for value in [
                format!("{c}"),
                format!("{c}.."),
                format!(".{c}."),
                format!("..{c}"),
                format!(".{c}"),
                format!("{c}."),
                format!("{c}{c}"),
                format!("{c}P"),
                format!("P{c}"),
                format!("P{c}Q"),
                format!("P{c}..{c}Q"),
            ] {
                let err = url_of(
                    client
                        .request(Method::DELETE, "/api/patient/{p}/document/{d}")
                        .path_param("p", "P")
                        .path_param("d", value.clone()),
                )
                .unwrap_err();
                assert!(
                    matches!(err, Error::InvalidInput { .. }),
                    "{value:?}: {err}"
                );
                // Also when the control character sits in a segment built of two values.
                let err = url_of(
                    client
                        .request(Method::GET, "/api/{a}{b}")
                        .path_param("a", ".")
                        .path_param("b", value.clone()),
                )
                .unwrap_err();
                assert!(matches!(err, Error::InvalidInput { .. }), "{value:?}");
            }
            let err = url_of(client.request(Method::GET, &format!("/api/x{c}y"))).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "template {c:?}");
        }
        // What is accepted is one segment, decoding back to the value.
        for value in [
            "a",
            "a b",
            "é",
            "%2e%2e",
            "a.b",
            "...",
            ".a",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            let url = url_of(
                client
                    .request(Method::GET, "/api/{v}/end")
                    .path_param("v", value),
            )
            .unwrap();
            let url = url::Url::parse(&url).unwrap();
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            assert_eq!(segments.len(), 3, "{value:?} -> {url}");
            assert_eq!(percent_decode(segments[1]), value, "{url}");
        }
    }

    #[test]
    fn headers_are_checked_and_methods_classified() {
        let client = Client::builder("http://127.0.0.1:9").build().unwrap();
        let err = client
            .request(Method::GET, "/x")
            .header("X-Evil", "a\r\nInjected: yes")
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("Injected"), "{err}");
        assert!(client
            .request(Method::GET, "/x")
            .header("X Evil", "a")
            .build()
            .is_err());
        let req = client
            .request(Method::POST, "/x")
            .header("X-Request-Id", "7")
            .json_body(&serde_json::json!({"a": 1}))
            .build()
            .unwrap();
        assert!(!req.idempotent);
        assert_eq!(req.headers["x-request-id"], "7");
        assert!(
            client
                .request(Method::PUT, "/x")
                .build()
                .unwrap()
                .idempotent
        );
    }
}
