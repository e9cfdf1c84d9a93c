//! The HTTP side of authentication: what a provider that talks to a token or discovery endpoint
//! is given ([`HttpContext`]), and the one place such requests are sent (timeout, bounded body,
//! error text).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use url::Url;

use super::AuthError;
use crate::body::{read_bounded, BodyError};

/// The largest token response or SMART configuration read, whatever the client's FHIR limit:
/// both are a few kilobytes, and a server that sends more is broken or hostile.
pub const MAX_AUTH_BODY: u64 = 1024 * 1024;

/// What an [`AuthProvider`](super::AuthProvider) gets to reach a token or discovery endpoint:
/// the client's HTTP pool, its per-request timeout, a body size limit, and whether plain http
/// to other hosts was allowed. Token and discovery requests made through it can neither hang
/// (the timeout ends them, and so releases the single-flight lock every caller waits on) nor
/// exhaust memory (the body is read with the same bounded reader as FHIR responses).
///
/// A [`Client`](crate::Client) hands its own context to its provider; use
/// [`HttpContext::new`] to call a provider directly.
#[derive(Clone)]
pub struct HttpContext {
    http: reqwest::Client,
    timeout: Option<Duration>,
    max_body_bytes: u64,
    allow_insecure_http: bool,
}

impl fmt::Debug for HttpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpContext")
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish_non_exhaustive()
    }
}

impl HttpContext {
    /// A context with its own HTTP pool (redirects only within one origin), a 30 s timeout, a
    /// [`MAX_AUTH_BODY`] body limit and plain http refused except to loopback.
    ///
    /// # Errors
    /// [`AuthError::Config`] when the HTTP client cannot be created (no TLS backend).
    pub fn new() -> Result<Self, AuthError> {
        let http = crate::client::default_http(Duration::from_secs(10))
            .map_err(|e| AuthError::Config(format!("cannot create an HTTP client: {e}")))?;
        Ok(Self::from_parts(
            http,
            Some(Duration::from_secs(30)),
            MAX_AUTH_BODY,
            false,
        ))
    }

    pub(crate) fn from_parts(
        http: reqwest::Client,
        timeout: Option<Duration>,
        max_body_bytes: u64,
        allow_insecure_http: bool,
    ) -> Self {
        Self {
            http,
            timeout,
            max_body_bytes: max_body_bytes.min(MAX_AUTH_BODY),
            allow_insecure_http,
        }
    }

    /// The time limit of one token or discovery request (`None`: no limit).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest body read, in bytes (at most [`MAX_AUTH_BODY`]).
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_bytes = bytes.min(MAX_AUTH_BODY);
        self
    }

    /// Allow SMART discovery and token requests over plain http to hosts other than this
    /// machine (default `false`: an on-path attacker could name its own token endpoint and
    /// collect the client's secret).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Whether plain http to other hosts is allowed.
    pub fn insecure_http_allowed(&self) -> bool {
        self.allow_insecure_http
    }

    pub(crate) fn get(&self, url: &Url) -> reqwest::RequestBuilder {
        self.http.get(url.clone())
    }

    pub(crate) fn post(&self, url: &Url) -> reqwest::RequestBuilder {
        self.http.post(url.clone())
    }

    /// Sends `request` with the timeout and reads the body within the limit. The error is a
    /// sentence for [`AuthError`] (the caller names the endpoint).
    pub(crate) async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let timeout = self.timeout;
        let describe = |e: &reqwest::Error| match (e.is_timeout(), timeout) {
            (true, Some(t)) => format!("no complete answer within {} s", t.as_secs_f64()),
            _ => describe_error(e),
        };
        let mut response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = read_bounded(&mut response, self.max_body_bytes)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { limit, .. } => {
                    format!("the response body is larger than {limit} bytes")
                }
                BodyError::Transport(e) => describe(&e),
            })?;
        Ok((status, headers, body))
    }
}

/// An error as text with its sources, separated by `: ` (reqwest's own Display hides the cause).
pub(crate) fn describe_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether `url` is on this machine: 127.0.0.0/8, `::1` or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL that would carry credentials over plain http to a host other than this machine,
/// refused because an on-path attacker could read them (or, for a discovery document, name its
/// own token endpoint). Both [`crate::Error::InsecureHttp`] and [`AuthError::InsecureHttp`] carry
/// it, so a caller can recognise the refusal by type and name its own opt-in (the CLI's
/// `--insecure-http`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainHttp {
    /// What the URL is for (`the base URL`, `the token endpoint`, `the SMART discovery URL`).
    pub what: &'static str,
    /// The URL's origin (scheme, host and port: no path, query or user info).
    pub origin: String,
}

impl PlainHttp {
    pub(crate) fn new(what: &'static str, url: &Url) -> Self {
        Self {
            what,
            origin: url.origin().ascii_serialization(),
        }
    }

    /// Why the URL was refused, without the remedy.
    pub fn reason(&self) -> String {
        format!(
            "{} {} uses plain http to another host: an on-path attacker could read or replace the traffic and collect the credentials",
            self.what, self.origin
        )
    }
}

impl std::fmt::Display for PlainHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; use https, or opt in with allow_insecure_http(true) for a trusted network",
            self.reason()
        )
    }
}

/// Secrets go over TLS, except to this machine (test servers on 127.0.0.1) or when the caller
/// opted in. `what` names the URL in the error (`the token endpoint`).
pub(crate) fn check_transport_security(
    what: &'static str,
    url: &Url,
    allow_insecure_http: bool,
) -> Result<(), AuthError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        "http" => Err(AuthError::InsecureHttp(PlainHttp::new(what, url))),
        other => Err(AuthError::Config(format!(
            "{what} {} must be an https URL, not {other}",
            url
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthProvider as _, ClientCredentials, ClientSecret, SmartConfiguration};
    use fhirforge_testkit::stub::{Reply, Stub};
    use std::time::Instant;

    fn provider(stub: &Stub) -> ClientCredentials {
        ClientCredentials::builder("app")
            .client_secret_post(ClientSecret::new("stub-secret-value"))
            .token_url(format!("{}/token", stub.base_url()))
            .build()
            .unwrap()
    }

    /// A valid token response padded past [`MAX_AUTH_BODY`]: read whole, it would succeed.
    fn padded_token_response() -> String {
        let pad = "a".repeat(MAX_AUTH_BODY as usize + 1);
        format!(r#"{{"access_token":"tok","token_type":"Bearer","pad":"{pad}"}}"#)
    }

    #[tokio::test]
    async fn stub_a_stalled_token_endpoint_times_out_and_releases_every_waiter() {
        let stub = Stub::start(|_| Reply::Stall).await;
        let auth = provider(&stub);
        let ctx = HttpContext::new()
            .unwrap()
            .timeout(Some(Duration::from_millis(300)));
        let started = Instant::now();
        // Three callers share the single flight: all must get the timeout, none may hang.
        let calls = futures::future::join_all((0..3).map(|_| auth.authorization(&ctx)));
        let results = tokio::time::timeout(Duration::from_secs(10), calls)
            .await
            .expect("a stalled token endpoint must not hang the callers");
        for result in results {
            let err = result.unwrap_err();
            assert!(matches!(err, AuthError::Transport { .. }), "{err}");
            assert!(err.to_string().contains("within 0.3 s"), "{err}");
        }
        assert!(started.elapsed() < Duration::from_secs(5));
        // The Client hands its own timeout to its provider.
        let client = crate::Client::builder(stub.base_url())
            .timeout(Some(Duration::from_millis(300)))
            .auth(provider(&stub))
            .build()
            .unwrap();
        let err = tokio::time::timeout(Duration::from_secs(10), client.read("Patient", "1"))
            .await
            .expect("the client's timeout applies to the token request")
            .unwrap_err();
        assert!(matches!(err, crate::Error::Auth(_)), "{err}");
    }

    #[tokio::test]
    async fn stub_oversized_token_responses_are_refused_with_or_without_a_length() {
        let body = padded_token_response();
        let raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{body}"
        );
        for reply in [
            Reply::status(200)
                .header("Content-Type", "application/json")
                .body(body.clone()),
            Reply::Raw(raw.into_bytes()),
        ] {
            let stub = Stub::start(move |_| reply.clone()).await;
            let err = provider(&stub)
                .authorization(&HttpContext::new().unwrap())
                .await
                .unwrap_err();
            assert!(matches!(err, AuthError::Transport { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains(&format!("larger than {MAX_AUTH_BODY} bytes")),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn stub_discovery_is_bounded_in_time_and_size() {
        let stall = Stub::start(|_| Reply::Stall).await;
        let base = Url::parse(&stall.base_url()).unwrap();
        let ctx = HttpContext::new()
            .unwrap()
            .timeout(Some(Duration::from_millis(300)));
        let err = tokio::time::timeout(
            Duration::from_secs(10),
            SmartConfiguration::discover(&ctx, &base),
        )
        .await
        .expect("a stalled discovery must not hang")
        .unwrap_err();
        assert!(matches!(err, AuthError::Discovery { .. }), "{err}");

        let pad = "a".repeat(MAX_AUTH_BODY as usize);
        let doc = format!(r#"{{"token_endpoint":"https://as.test/token","pad":"{pad}"}}"#);
        let big = Stub::start(move |_| {
            Reply::status(200)
                .header("Content-Type", "application/json")
                .body(doc.clone())
        })
        .await;
        let base = Url::parse(&big.base_url()).unwrap();
        let err = SmartConfiguration::discover(&HttpContext::new().unwrap(), &base)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
    }

    #[tokio::test]
    async fn discovery_over_plain_http_to_another_host_needs_an_opt_in() {
        let base = Url::parse("http://ehr.invalid/fhir").unwrap();
        let err = SmartConfiguration::discover(&HttpContext::new().unwrap(), &base)
            .await
            .unwrap_err();
        assert_eq!(
            err.insecure_http(),
            Some(&PlainHttp {
                what: "the SMART discovery URL",
                origin: "http://ehr.invalid".into()
            }),
            "{err}"
        );
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");
        let build = |allow: bool| {
            ClientCredentials::builder("app")
                .client_secret_basic(ClientSecret::new("s3cret"))
                .discover("http://ehr.invalid/fhir")
                .allow_insecure_http(allow)
                .build()
        };
        let err = build(false).unwrap_err();
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");
        assert!(build(true).is_ok());
        // With the opt-in, the request is attempted (and fails on the unresolvable host).
        let err = SmartConfiguration::discover(
            &HttpContext::new().unwrap().allow_insecure_http(true),
            &base,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, AuthError::Discovery { .. }), "{err}");
    }

    #[test]
    fn only_loopback_may_use_plain_http_without_opting_in() {
        for ok in [
            "https://ehr.example/token",
            "http://127.0.0.1:9/token",
            "http://127.8.9.10/t",
            "http://[::1]:8080/t",
            "http://localhost/t",
            "http://LOCALHOST:1/t",
        ] {
            let url = Url::parse(ok).unwrap();
            assert!(check_transport_security("x", &url, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://ehr.example/token",
            "http://10.0.0.1/t",
            "http://[::2]/t",
            "http://localhost.evil.example/t",
            "http://a.localhost/t",
            "http://128.0.0.1/t",
        ] {
            let url = Url::parse(bad).unwrap();
            let err = check_transport_security("the token endpoint", &url, false).unwrap_err();
            assert!(err.to_string().contains("allow_insecure_http"), "{err}");
            assert!(check_transport_security("x", &url, true).is_ok(), "{bad}");
        }
        let ftp = Url::parse("ftp://ehr.example/t").unwrap();
        assert!(check_transport_security("x", &ftp, true).is_err());
    }
}
