//! The client: configuration, the transport loop (auth, retries, size limit, logging) and
//! response decoding. The FHIR interactions are in `interactions.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use crate::auth::{AuthProvider, HttpContext};
use crate::body::{read_bounded, BodyError};
use crate::error::{is_retryable_status, DecodeError, Error, ErrorBody};
use crate::outcome::OperationOutcome;
use crate::retry::{parse_retry_after, Jitter, RetryPolicy};
use crate::time::{Clock, Sleep, SystemClock, TokioSleep};

pub(crate) const FHIR_JSON: &str = "application/fhir+json";

/// An async FHIR R4 client. Cheap to clone (one `Arc`), `Send + Sync`, one connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), fhirforge_runtime::Error> {
/// use fhirforge_runtime::{Client, RetryPolicy};
/// let client = Client::builder("https://fhir.example.org/r4")
///     .bearer_token("token")
///     .retry(RetryPolicy::default().max_attempts(4))
///     .build()?;
/// let patient = client.read("Patient", "123").await?;
/// # let _ = patient; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) base: Url,
    pub(crate) http: reqwest::Client,
    auth: Option<Arc<dyn AuthProvider>>,
    /// The pool, timeout and limits the auth provider's own requests use.
    auth_http: HttpContext,
    pub(crate) timeout: Option<Duration>,
    user_agent: HeaderValue,
    default_headers: HeaderMap,
    pub(crate) retry: RetryPolicy,
    conditional_create_is_idempotent: bool,
    max_response_bytes: u64,
    pub(crate) max_get_url_len: usize,
    log_query_values: bool,
    pub(crate) allow_cross_origin: bool,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleep: Arc<dyn Sleep>,
    pub(crate) jitter: Jitter,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.base.as_str())
            .field("auth", &i.auth.is_some())
            .field("timeout", &i.timeout)
            .field("retry", &i.retry)
            .field("max_response_bytes", &i.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Client`]. Setters consume and return the builder; errors wait until
/// [`build`](Self::build).
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    http: Option<reqwest::Client>,
    auth: Option<Result<Arc<dyn AuthProvider>, crate::auth::AuthError>>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    user_agent: String,
    default_headers: Vec<(String, String)>,
    header_map: HeaderMap,
    retry: RetryPolicy,
    conditional_create_is_idempotent: bool,
    max_response_bytes: u64,
    max_get_url_len: usize,
    log_query_values: bool,
    allow_cross_origin: bool,
    allow_insecure_http: bool,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth.is_some())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client for the FHIR base URL `base_url`
    /// (`https://host/fhir/r4`; `Patient/1` is resolved below it).
    pub fn builder(base_url: impl AsRef<str>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.as_ref().to_owned(),
            http: None,
            auth: None,
            timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("fhirforge-runtime/", env!("CARGO_PKG_VERSION")).to_owned(),
            default_headers: Vec::new(),
            header_map: HeaderMap::new(),
            retry: RetryPolicy::default(),
            conditional_create_is_idempotent: false,
            max_response_bytes: 64 * 1024 * 1024,
            max_get_url_len: 4096,
            log_query_values: false,
            allow_cross_origin: false,
            allow_insecure_http: false,
            clock: Arc::new(SystemClock),
            sleep: Arc::new(TokioSleep),
        }
    }

    /// The FHIR base URL (always ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The underlying HTTP pool.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// What this client's auth provider uses for token and discovery requests: the same pool,
    /// the same timeout, a bounded body.
    pub fn http_context(&self) -> &HttpContext {
        &self.inner.auth_http
    }
}

impl ClientBuilder {
    /// Use this `reqwest::Client` (its pool, TLS and proxy settings). Timeouts, user agent,
    /// default headers and auth of this builder are still applied per request.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Authenticate every request with `provider`.
    pub fn auth(mut self, provider: impl AuthProvider) -> Self {
        self.auth = Some(Ok(Arc::new(provider)));
        self
    }

    /// Send `Authorization: Bearer <token>` on every request (see [`auth::BearerToken`](crate::auth::BearerToken)).
    pub fn bearer_token(mut self, token: impl AsRef<str>) -> Self {
        self.auth = Some(
            crate::auth::BearerToken::new(crate::auth::AccessToken::new(token.as_ref()))
                .map(|p| Arc::new(p) as Arc<dyn AuthProvider>),
        );
        self
    }

    /// Total time for one attempt, from sending to the end of the body (default 60 s);
    /// `None` for no limit.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time to establish a connection (default 10 s). Applies only when this builder creates
    /// the HTTP client.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `fhirforge-runtime/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// A header sent on every request (vendor client ids and the like). Validated in
    /// [`build`](Self::build).
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// Headers sent on every request.
    pub fn default_headers(mut self, headers: HeaderMap) -> Self {
        self.header_map.extend(headers);
        self
    }

    /// How failed requests are repeated (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Whether the server honours `If-None-Exist` (default `false`). Only then is a conditional
    /// create that may have reached the server repeated after a transient failure: a server
    /// that ignores the header would create a second resource on the retry. Generated
    /// connectors set it when the server's CapabilityStatement declares `conditionalCreate`.
    pub fn conditional_create_is_idempotent(mut self, honoured: bool) -> Self {
        self.conditional_create_is_idempotent = honoured;
        self
    }

    /// The largest response body accepted, in bytes (default 64 MiB); larger ones fail with
    /// [`Error::TooLarge`].
    pub fn max_response_size(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Searches whose GET URL would be longer than this many bytes are sent as
    /// `POST [type]/_search` instead (default 4096).
    pub fn max_get_url_len(mut self, len: usize) -> Self {
        self.max_get_url_len = len;
        self
    }

    /// Log query values (default `false`: only parameter names, since values carry patient
    /// data).
    pub fn log_query_values(mut self, log: bool) -> Self {
        self.log_query_values = log;
        self
    }

    /// Follow paging links to other origins (default `false`: such links fail with
    /// [`Error::CrossOrigin`], so credentials are never sent to another host).
    pub fn allow_cross_origin_links(mut self, allow: bool) -> Self {
        self.allow_cross_origin = allow;
        self
    }

    /// Allow credentials over plain `http://` to a host other than this machine (default
    /// `false`): with auth configured, such a base URL fails in [`build`](Self::build), since
    /// anyone on the path could read the token or password. The auth provider's own token and
    /// discovery requests get the same permission through [`HttpContext`]. Loopback
    /// (`127.0.0.0/8`, `::1`, `localhost`) is always allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The clock for `Retry-After` dates and the retry time budget.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How to wait between attempts.
    pub fn sleep(mut self, sleep: impl Sleep) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// Checks the configuration and creates the client.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a base URL that is not absolute `http`/`https` without query
    /// or fragment, an invalid header or user agent, or an HTTP client that cannot be created;
    /// [`Error::Auth`] for an unusable bearer token.
    pub fn build(self) -> Result<Client, Error> {
        let mut base =
            Url::parse(&self.base_url).map_err(|e| Error::invalid("base URL", e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::invalid("base URL", "must be an http or https URL"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::invalid(
                "base URL",
                "must not have a query or fragment",
            ));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::invalid(
                "base URL",
                "must not hold credentials; use auth()",
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::invalid("user agent", "not a valid header value"))?;
        let mut default_headers = self.header_map;
        for (name, value) in self.default_headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::invalid("header name", format!("{name:?}")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| Error::invalid("header value", format!("for {name}")))?;
            default_headers.append(name, value);
        }
        if default_headers.contains_key(header::AUTHORIZATION) {
            return Err(Error::invalid(
                "default header",
                "set Authorization through auth() or bearer_token()",
            ));
        }
        let auth = self.auth.transpose()?;
        if auth.is_some()
            && base.scheme() == "http"
            && !self.allow_insecure_http
            && !crate::auth::is_loopback(&base)
        {
            return Err(Error::InsecureHttp(crate::auth::PlainHttp::new(
                "the base URL",
                &base,
            )));
        }
        let http = match self.http {
            Some(http) => http,
            None => default_http(self.connect_timeout)
                .map_err(|e| Error::invalid("HTTP client", e.to_string()))?,
        };
        let auth_http = HttpContext::from_parts(
            http.clone(),
            self.timeout,
            self.max_response_bytes,
            self.allow_insecure_http,
        );
        let seed = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x5eed, |d| d.as_nanos() as u64);
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                http,
                auth,
                auth_http,
                timeout: self.timeout,
                user_agent,
                default_headers,
                retry: self.retry,
                conditional_create_is_idempotent: self.conditional_create_is_idempotent,
                max_response_bytes: self.max_response_bytes,
                max_get_url_len: self.max_get_url_len,
                log_query_values: self.log_query_values,
                allow_cross_origin: self.allow_cross_origin,
                clock: self.clock,
                sleep: self.sleep,
                jitter: Jitter::new(seed),
            }),
        })
    }
}

/// The HTTP pool a builder makes when none is given: redirects only within one origin.
pub(crate) fn default_http(connect_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(same_origin_redirects())
        .build()
}

/// Why a body could not be read.
/// Redirects are followed only within the same origin, so a redirect never carries the
/// credentials elsewhere (reqwest also drops `Authorization` across hosts).
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// A request as the transport loop sees it.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<(Bytes, &'static str)>,
    /// Whether repeating it after it may have reached the server is safe.
    pub(crate) idempotent: bool,
    /// A create with `If-None-Exist`: safe to repeat only on a server that honours the header
    /// ([`ClientBuilder::conditional_create_is_idempotent`]).
    pub(crate) conditional_create: bool,
    /// Per request: whether the server honours `If-None-Exist` here (`None`: the client's
    /// setting decides).
    pub(crate) conditional_create_honoured: Option<bool>,
}

impl Req {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent,
            conditional_create: false,
            conditional_create_honoured: None,
        }
    }

    pub(crate) fn json_body(
        mut self,
        value: &Value,
        content_type: &'static str,
    ) -> Result<Self, Error> {
        let bytes =
            serde_json::to_vec(value).map_err(|e| Error::invalid("request body", e.to_string()))?;
        self.body = Some((Bytes::from(bytes), content_type));
        Ok(self)
    }
}

/// A successful response, body read in full.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Resp {
    pub(crate) fn header(&self, name: HeaderName) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The body as JSON; `None` when empty.
    pub(crate) fn json(&self, what: &'static str) -> Result<Option<Value>, Error> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if let Some(ct) = self.header(header::CONTENT_TYPE) {
            if !ct.to_ascii_lowercase().contains("json") {
                return Err(Error::decode(
                    what,
                    ".",
                    format!("expected FHIR JSON, got content type {ct}"),
                ));
            }
        }
        decode_json(&self.body, what).map(Some)
    }

    /// The body as JSON, which must be present.
    pub(crate) fn json_required(&self, what: &'static str) -> Result<Value, Error> {
        self.json(what)?
            .ok_or_else(|| Error::decode(what, ".", "empty body"))
    }
}

/// Decodes JSON, reporting where it stopped.
pub(crate) fn decode_json(body: &[u8], what: &'static str) -> Result<Value, Error> {
    // The fast path first: tracking the path costs on every element, so it is only done again
    // for a body that failed.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: Value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Error::Decode(Box::new(DecodeError {
            what,
            path,
            reason: inner.to_string(),
            source: Some(inner),
        }))
    })?;
    de.end().map_err(|e| {
        Error::Decode(Box::new(DecodeError {
            what,
            path: ".".to_owned(),
            reason: e.to_string(),
            source: Some(e),
        }))
    })?;
    Ok(value)
}

/// Turns an error response into an [`Error`].
pub(crate) fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        if let Some(outcome) = OperationOutcome::from_json(&json) {
            return Error::Outcome {
                status,
                outcome: Box::new(outcome),
            };
        }
    }
    Error::Status {
        status,
        body: Box::new(ErrorBody::new(content_type, body)),
    }
}

/// `path?name=…&other=…`: the path with query values hidden (they carry patient data).
pub(crate) fn loggable(url: &Url, show_values: bool) -> String {
    let mut out = url.path().to_owned();
    if let Some(query) = url.query() {
        out.push('?');
        if show_values {
            out.push_str(query);
        } else {
            let names: Vec<String> = url
                .query_pairs()
                .map(|(name, _)| format!("{name}=…"))
                .collect();
            out.push_str(&names.join("&"));
        }
    }
    out
}

enum Attempt {
    Done(Resp),
    Failed {
        error: Error,
        retry_after: Option<Duration>,
    },
}

impl Client {
    /// Sends `req`, repeating it as the retry policy allows; returns a 2xx/304 response or the
    /// last error.
    pub(crate) async fn execute(&self, req: Req) -> Result<Resp, Error> {
        let inner = &*self.inner;
        let started = inner.clock.now();
        let idempotent = req.idempotent
            || (req.conditional_create
                && req
                    .conditional_create_honoured
                    .unwrap_or(inner.conditional_create_is_idempotent));
        let mut failed = 0u32;
        let mut auth_retried = false;
        loop {
            let auth_header = match &inner.auth {
                Some(provider) => provider.authorization(&inner.auth_http).await?,
                None => None,
            };
            let outcome = self.attempt(&req, auth_header.as_ref(), failed + 1).await;
            let (error, retry_after) = match outcome {
                Attempt::Done(resp) => return Ok(resp),
                Attempt::Failed { error, retry_after } => (error, retry_after),
            };
            // A 401 with a cached token: the provider may drop it; then retry once, uncounted.
            if error.status() == Some(StatusCode::UNAUTHORIZED) && !auth_retried {
                if let (Some(provider), Some(used)) = (&inner.auth, &auth_header) {
                    if provider.rejected(used) {
                        auth_retried = true;
                        tracing::debug!(method = %req.method, "retrying once with fresh credentials");
                        continue;
                    }
                }
            }
            failed += 1;
            let may_repeat = match &error {
                Error::NotSent { .. } => true,
                Error::MaybeSent { .. } => idempotent,
                Error::Outcome { status, .. } | Error::Status { status, .. } => {
                    idempotent && is_retryable_status(*status)
                }
                _ => false,
            };
            if !may_repeat {
                return Err(error);
            }
            let elapsed = inner
                .clock
                .now()
                .duration_since(started)
                .unwrap_or(Duration::ZERO);
            let Some(delay) =
                inner
                    .retry
                    .next_delay(failed, retry_after, elapsed, inner.jitter.next())
            else {
                return Err(error);
            };
            tracing::warn!(
                method = %req.method,
                path = %loggable(&req.url, inner.log_query_values),
                attempt = failed,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "retrying FHIR request"
            );
            inner.sleep.sleep(delay).await;
        }
    }

    /// Sends `req` once (and once more with fresh credentials after a 401 that dropped a
    /// cached token); a failure comes with the server's `Retry-After`. For callers with their
    /// own waiting rules (bulk status polling).
    pub(crate) async fn execute_once(&self, req: &Req) -> Result<Resp, (Error, Option<Duration>)> {
        let mut auth_retried = false;
        loop {
            let auth_header = self.auth_header().await.map_err(|e| (e, None))?;
            match self.attempt(req, auth_header.as_ref(), 1).await {
                Attempt::Done(resp) => return Ok(resp),
                Attempt::Failed { error, retry_after } => {
                    if error.status() == Some(StatusCode::UNAUTHORIZED) && !auth_retried {
                        if let Some(used) = &auth_header {
                            if self.auth_rejected(used) {
                                auth_retried = true;
                                continue;
                            }
                        }
                    }
                    return Err((error, retry_after));
                }
            }
        }
    }

    /// The `Authorization` header for the next request, if the client has auth.
    pub(crate) async fn auth_header(&self) -> Result<Option<HeaderValue>, Error> {
        match &self.inner.auth {
            Some(provider) => Ok(provider.authorization(&self.inner.auth_http).await?),
            None => Ok(None),
        }
    }

    /// The server refused `used` with 401: whether a fresh header is worth one more try.
    pub(crate) fn auth_rejected(&self, used: &HeaderValue) -> bool {
        self.inner
            .auth
            .as_ref()
            .is_some_and(|provider| provider.rejected(used))
    }

    /// A request with this client's user agent and default headers, and `auth` (marked
    /// sensitive) when given; no time limit, for streamed downloads that set their own.
    pub(crate) fn streaming_request(
        &self,
        method: Method,
        url: Url,
        auth: Option<&HeaderValue>,
    ) -> reqwest::RequestBuilder {
        let inner = &*self.inner;
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, inner.user_agent.clone());
        for (name, value) in &inner.default_headers {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(auth) = auth {
            let mut auth = auth.clone();
            auth.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, auth);
        }
        inner.http.request(method, url).headers(headers)
    }

    async fn attempt(&self, req: &Req, auth: Option<&HeaderValue>, attempt: u32) -> Attempt {
        let inner = &*self.inner;
        let start = Instant::now();
        let result = self.attempt_inner(req, auth).await;
        if tracing::enabled!(tracing::Level::DEBUG) {
            let latency_ms = start.elapsed().as_millis() as u64;
            let path = loggable(&req.url, inner.log_query_values);
            match &result {
                Ok((status, _, _)) => tracing::debug!(
                    method = %req.method, path = %path, status = status.as_u16(), latency_ms, attempt,
                    "FHIR request"
                ),
                Err(error) => tracing::debug!(
                    method = %req.method, path = %path, latency_ms, attempt, error = %error,
                    "FHIR request failed"
                ),
            }
        }
        match result {
            Err(error) => Attempt::Failed {
                error,
                retry_after: None,
            },
            Ok((status, headers, body)) => {
                if status.is_success() || status == StatusCode::NOT_MODIFIED {
                    Attempt::Done(Resp {
                        status,
                        headers,
                        body,
                    })
                } else {
                    let retry_after = headers
                        .get(header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, inner.clock.now()));
                    Attempt::Failed {
                        error: status_error(status, &headers, &body),
                        retry_after,
                    }
                }
            }
        }
    }

    async fn attempt_inner(
        &self,
        req: &Req,
        auth: Option<&HeaderValue>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        let inner = &*self.inner;
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(FHIR_JSON));
        headers.insert(header::USER_AGENT, inner.user_agent.clone());
        for (name, value) in &inner.default_headers {
            headers.insert(name.clone(), value.clone());
        }
        for (name, value) in &req.headers {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(auth) = auth {
            let mut auth = auth.clone();
            auth.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, auth);
        }
        let mut builder = inner
            .http
            .request(req.method.clone(), req.url.clone())
            .headers(headers);
        if let Some(timeout) = inner.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some((body, content_type)) = &req.body {
            builder = builder
                .header(header::CONTENT_TYPE, *content_type)
                .body(body.clone());
        }
        let mut response = builder.send().await.map_err(Error::transport)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = read_bounded(&mut response, inner.max_response_bytes)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { limit, .. } => Error::TooLarge { limit },
                BodyError::Transport(e) => Error::transport(e),
            })?;
        Ok((status, headers, body))
    }
}

#[cfg(test)]
mod tests;
