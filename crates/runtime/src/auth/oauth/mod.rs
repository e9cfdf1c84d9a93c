//! OAuth2 client credentials with client secrets or SMART Backend Services assertions, and the
//! token lifecycle: cache, single flight, refresh on 401, rate guard.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use futures::future::BoxFuture;
use http::HeaderValue;
use rand_core::{OsRng, RngCore as _};
use serde_json::{json, Value};
use url::Url;

use super::keys::SigningKey;
use super::secret::{AccessToken, ClientAssertion, ClientSecret, RefreshToken};
use super::smart::SmartConfiguration;
use super::transport::{check_transport_security, HttpContext};
use super::{sensitive_header, AuthError, AuthProvider};
use crate::time::{Clock, SystemClock};

/// Default margin before `expires_in` at which a cached token is replaced: 60 seconds.
pub const DEFAULT_SKEW: Duration = Duration::from_secs(60);
/// Default token-request rate guard: 50 requests per 60 seconds (athenahealth's limit).
pub const DEFAULT_RATE_LIMIT: (u32, Duration) = (50, Duration::from_secs(60));
/// SMART Backend Services: a client assertion expires at most five minutes after it is made.
const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);
/// Default assertion lifetime: below the maximum, so a slightly fast server clock still accepts it.
const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(240);
/// Token lifetime assumed when the response has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The longest a token is reused, whatever `expires_in` says: a server (or an attacker in its
/// place) cannot pin a token for years, and the expiry arithmetic cannot overflow.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the client authenticates itself at the token endpoint.
#[derive(Clone)]
enum Method {
    SecretBasic(ClientSecret),
    SecretPost(ClientSecret),
    PrivateKeyJwt(SigningKey),
}

impl Method {
    fn name(&self) -> &'static str {
        match self {
            Method::SecretBasic(_) => "client_secret_basic",
            Method::SecretPost(_) => "client_secret_post",
            Method::PrivateKeyJwt(_) => "private_key_jwt",
        }
    }
}

#[derive(Debug, Clone)]
enum Endpoint {
    Url(Url),
    Discover(Url),
}

/// The resolved token endpoint (configured or discovered).
#[derive(Debug, Clone)]
struct Resolved {
    token_url: Url,
}

/// A cached access token and the header made from it.
#[derive(Clone)]
struct Cached {
    header: HeaderValue,
    /// When to stop using it: `expires_in` minus the skew after the request was sent.
    refresh_at: SystemTime,
}

/// What the provider knows between token requests.
#[derive(Default)]
struct TokenState {
    access: Option<Cached>,
    refresh_token: Option<RefreshToken>,
    granted_scope: Option<String>,
    /// Incremented after every finished token attempt, successful or not.
    generation: u64,
    /// The failure of the last attempt, handed to callers that waited for it (single flight).
    last_failure: Option<(u64, AuthError)>,
}

/// A parsed successful token response.
#[derive(Debug)]
struct TokenResponse {
    access_token: AccessToken,
    expires_in: Option<Duration>,
    refresh_token: Option<RefreshToken>,
    scope: Option<String>,
}

impl TokenState {
    /// Stores a new token. Fields the response leaves out (`refresh_token`, `scope`) keep their
    /// previous values, as RFC 6749 section 6 allows a refresh response to omit them.
    fn apply(
        &mut self,
        response: TokenResponse,
        header: HeaderValue,
        sent_at: SystemTime,
        skew: Duration,
    ) {
        let lifetime = response
            .expires_in
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .min(MAX_TOKEN_LIFETIME);
        // A token shorter-lived than twice the skew would be stale on arrival: cap the skew.
        let skew = skew.min(lifetime / 2);
        // Checked: a clock near the end of `SystemTime`'s range must not panic; such a token is
        // then treated as already due for renewal.
        let refresh_at = sent_at.checked_add(lifetime - skew).unwrap_or(sent_at);
        self.access = Some(Cached { header, refresh_at });
        if let Some(refresh) = response.refresh_token {
            self.refresh_token = Some(refresh);
        }
        if let Some(scope) = response.scope {
            self.granted_scope = Some(scope);
        }
    }

    fn fresh(&self, now: SystemTime) -> Option<HeaderValue> {
        self.access
            .as_ref()
            .filter(|cached| now < cached.refresh_at)
            .map(|cached| cached.header.clone())
    }
}

/// Sliding-window guard on token requests.
#[derive(Debug)]
struct RateGuard {
    max: u32,
    per: Duration,
    sent: VecDeque<SystemTime>,
}

impl RateGuard {
    fn admit(&mut self, now: SystemTime) -> Result<(), AuthError> {
        while let Some(&oldest) = self.sent.front() {
            if now.duration_since(oldest).unwrap_or_default() >= self.per {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        if self.sent.len() >= self.max as usize {
            let oldest = self.sent.front().copied().unwrap_or(now);
            let elapsed = now.duration_since(oldest).unwrap_or_default();
            return Err(AuthError::RateLimited {
                max: self.max,
                per: self.per,
                retry_after: self.per.saturating_sub(elapsed),
            });
        }
        self.sent.push_back(now);
        Ok(())
    }
}

struct Inner {
    client_id: String,
    method: Method,
    endpoint: Endpoint,
    jku: Option<String>,
    scope: Option<String>,
    skew: Duration,
    assertion_lifetime: Duration,
    require_granted_scopes: bool,
    supported_algs: Option<Vec<String>>,
    allow_insecure_http: bool,
    clock: Arc<dyn Clock>,
    resolved: tokio::sync::OnceCell<Resolved>,
    state: Mutex<TokenState>,
    /// The single-flight guard: whoever holds it is the one task talking to the token endpoint.
    flight: tokio::sync::Mutex<RateGuard>,
}

/// OAuth2 client credentials grant: `client_secret_basic`, `client_secret_post`, or SMART Backend
/// Services `private_key_jwt`. Cheap to clone; clones share the token cache.
///
/// * A token is reused until `expires_in` minus the skew (default [`DEFAULT_SKEW`], at most half
///   the token's lifetime).
/// * Any number of concurrent callers with no fresh token cause one token request; the others
///   wait for it and share its token (or its error).
/// * [`AuthProvider::rejected`] drops the token the server refused, so the client's one retry
///   gets a new one.
/// * At most [`DEFAULT_RATE_LIMIT`] token requests are sent per window (configurable); past it,
///   [`AuthError::RateLimited`] says when the next one is allowed.
/// * When a token response has a `refresh_token`, the next renewal uses the `refresh_token`
///   grant (falling back to client credentials if it is refused); a response without one keeps
///   the previous refresh token and granted scope.
#[derive(Clone)]
pub struct ClientCredentials {
    inner: Arc<Inner>,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClientCredentials");
        s.field("client_id", &self.inner.client_id)
            .field("method", &self.inner.method.name());
        if let Method::PrivateKeyJwt(key) = &self.inner.method {
            s.field("key", key);
        }
        s.field("endpoint", &self.inner.endpoint)
            .field("scope", &self.inner.scope)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ClientCredentials`] provider; see [`ClientCredentials::builder`].
#[must_use]
pub struct ClientCredentialsBuilder {
    client_id: String,
    method: Option<Method>,
    endpoint: Option<Result<Endpoint, AuthError>>,
    jku: Option<String>,
    scopes: Vec<String>,
    skew: Duration,
    assertion_lifetime: Duration,
    rate: (u32, Duration),
    require_granted_scopes: bool,
    supported_algs: Option<Vec<String>>,
    allow_insecure_http: bool,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for ClientCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsBuilder")
            .field("client_id", &self.client_id)
            .field("method", &self.method.as_ref().map(Method::name))
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn parse_url(what: &str, url: &str) -> Result<Url, AuthError> {
    let parsed =
        Url::parse(url).map_err(|e| AuthError::Config(format!("{what} is not a URL: {e}")))?;
    // Credentials in a URL would reach error messages and logs: they belong in the builder.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AuthError::Config(format!(
            "{what} must not hold user info (user:password@); configure the client secret or key instead"
        )));
    }
    Ok(parsed)
}

impl ClientCredentialsBuilder {
    /// Authenticate with `client_secret_basic` (HTTP basic with the client id and secret).
    pub fn client_secret_basic(mut self, secret: ClientSecret) -> Self {
        self.method = Some(Method::SecretBasic(secret));
        self
    }

    /// Authenticate with `client_secret_post` (id and secret in the form body).
    pub fn client_secret_post(mut self, secret: ClientSecret) -> Self {
        self.method = Some(Method::SecretPost(secret));
        self
    }

    /// Authenticate with `private_key_jwt` (SMART Backend Services): a JWT assertion signed by
    /// `key` (RS384 or ES384, following the key type), with header `kid`.
    pub fn private_key_jwt(mut self, key: SigningKey) -> Self {
        self.method = Some(Method::PrivateKeyJwt(key));
        self
    }

    /// The JWK Set URL to put in the assertion header as `jku` (Epic requires a JWK Set URL for
    /// new backend apps).
    pub fn jku(mut self, url: impl Into<String>) -> Self {
        self.jku = Some(url.into());
        self
    }

    /// The token endpoint, from configuration or from the capability statement's `oauth-uris`
    /// (see [`oauth_uris`](super::oauth_uris)).
    pub fn token_url(mut self, url: impl AsRef<str>) -> Self {
        self.endpoint = Some(parse_url("the token URL", url.as_ref()).map(Endpoint::Url));
        self
    }

    /// Discover the token endpoint (and the accepted signing algorithms) from
    /// `<fhir_base>/.well-known/smart-configuration`, once, before the first token request.
    pub fn discover(mut self, fhir_base: impl AsRef<str>) -> Self {
        self.endpoint =
            Some(parse_url("the FHIR base URL", fhir_base.as_ref()).map(Endpoint::Discover));
        self
    }

    /// Adds requested scopes (space-separated allowed), SMART v1 (`system/*.read`) or v2
    /// (`system/*.rs`) syntax.
    pub fn scope(mut self, scope: impl AsRef<str>) -> Self {
        self.scopes
            .extend(scope.as_ref().split_whitespace().map(str::to_owned));
        self
    }

    /// How long before `expires_in` a cached token is replaced (default 60 s; capped at half the
    /// token's lifetime).
    pub fn token_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// The client assertion lifetime (`exp - iat`); default 240 s, at most 300 s.
    pub fn assertion_lifetime(mut self, lifetime: Duration) -> Self {
        self.assertion_lifetime = lifetime;
        self
    }

    /// At most `max` token requests per `per` (default 50 per minute).
    pub fn rate_limit(mut self, max: u32, per: Duration) -> Self {
        self.rate = (max, per);
        self
    }

    /// Fail with [`AuthError::ScopeNotGranted`] when the token response's `scope` lacks a
    /// requested scope (default: accept and log a warning, since servers may narrow scopes).
    pub fn require_granted_scopes(mut self, require: bool) -> Self {
        self.require_granted_scopes = require;
        self
    }

    /// The server's `token_endpoint_auth_signing_alg_values_supported`, when known without
    /// discovery (discovery fills it in otherwise).
    pub fn supported_signing_algs<I, S>(mut self, algs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.supported_algs = Some(algs.into_iter().map(Into::into).collect());
        self
    }

    /// Allow a token URL, and SMART discovery, over plain http to hosts other than this
    /// machine (default `false`: an on-path attacker could name its own token endpoint in the
    /// discovery document, or read the token request, and collect the client secret). Loopback
    /// (`127.0.0.0/8`, `::1`, `localhost`) is always allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The clock for token expiry and assertion timestamps (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks the configuration and builds the provider.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] when no authentication method or token endpoint was set, a URL is
    /// bad, a limit is zero or the assertion lifetime exceeds five minutes;
    /// [`AuthError::UnsupportedAlgorithm`] when the key's algorithm is not in the supported list.
    pub fn build(self) -> Result<ClientCredentials, AuthError> {
        if self.client_id.trim().is_empty() {
            return Err(AuthError::Config("the client id is empty".into()));
        }
        let method = self.method.ok_or_else(|| {
            AuthError::Config(
                "no client authentication method: call client_secret_basic, client_secret_post or private_key_jwt"
                    .into(),
            )
        })?;
        let endpoint = self.endpoint.ok_or_else(|| {
            AuthError::Config(
                "no token endpoint: call token_url (configuration or the capability statement's oauth-uris) or discover"
                    .into(),
            )
        })??;
        match &endpoint {
            Endpoint::Url(url) => {
                check_transport_security("the token endpoint", url, self.allow_insecure_http)?;
            }
            Endpoint::Discover(base) => {
                let url = SmartConfiguration::url_for(base)?;
                check_transport_security(
                    "the SMART discovery URL",
                    &url,
                    self.allow_insecure_http,
                )?;
            }
        }
        if self.assertion_lifetime.is_zero() || self.assertion_lifetime > MAX_ASSERTION_LIFETIME {
            return Err(AuthError::Config(format!(
                "the client assertion lifetime must be between 1 and {} seconds (SMART Backend Services)",
                MAX_ASSERTION_LIFETIME.as_secs()
            )));
        }
        if self.rate.0 == 0 || self.rate.1.is_zero() {
            return Err(AuthError::Config(
                "the token request rate limit must allow at least one request per non-zero window"
                    .into(),
            ));
        }
        if let Some(jku) = &self.jku {
            parse_url("the jku", jku)?;
        }
        if let (Method::PrivateKeyJwt(key), Some(supported)) = (&method, &self.supported_algs) {
            check_alg(key, supported)?;
        }
        let scope = (!self.scopes.is_empty()).then(|| self.scopes.join(" "));
        Ok(ClientCredentials {
            inner: Arc::new(Inner {
                client_id: self.client_id,
                method,
                endpoint,
                jku: self.jku,
                scope,
                skew: self.skew,
                assertion_lifetime: self.assertion_lifetime,
                require_granted_scopes: self.require_granted_scopes,
                supported_algs: self.supported_algs,
                allow_insecure_http: self.allow_insecure_http,
                clock: self.clock,
                resolved: tokio::sync::OnceCell::new(),
                state: Mutex::new(TokenState::default()),
                flight: tokio::sync::Mutex::new(RateGuard {
                    max: self.rate.0,
                    per: self.rate.1,
                    sent: VecDeque::new(),
                }),
            }),
        })
    }
}

fn check_alg(key: &SigningKey, supported: &[String]) -> Result<(), AuthError> {
    let alg = key.algorithm().as_str();
    if supported.iter().any(|s| s == alg) {
        Ok(())
    } else {
        Err(AuthError::UnsupportedAlgorithm {
            alg: alg.into(),
            supported: supported.to_vec(),
        })
    }
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl ClientCredentials {
    /// Starts a builder for `client_id`.
    pub fn builder(client_id: impl Into<String>) -> ClientCredentialsBuilder {
        ClientCredentialsBuilder {
            client_id: client_id.into(),
            method: None,
            endpoint: None,
            jku: None,
            scopes: Vec::new(),
            skew: DEFAULT_SKEW,
            assertion_lifetime: DEFAULT_ASSERTION_LIFETIME,
            rate: DEFAULT_RATE_LIMIT,
            require_granted_scopes: false,
            supported_algs: None,
            allow_insecure_http: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The scope the last token response granted (or `None` before the first token, or when the
    /// server did not say).
    pub fn granted_scope(&self) -> Option<String> {
        self.lock_state().granted_scope.clone()
    }

    /// The token URL, once known (configured, or after discovery).
    pub fn token_url(&self) -> Option<Url> {
        match &self.inner.endpoint {
            Endpoint::Url(url) => Some(url.clone()),
            Endpoint::Discover(_) => self.inner.resolved.get().map(|r| r.token_url.clone()),
        }
    }

    /// Drops the cached access token (the refresh token, if any, is kept).
    pub fn invalidate(&self) {
        self.lock_state().access = None;
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, TokenState> {
        // A panic while holding this lock cannot leave the state half-written (plain field
        // assignments), so a poisoned lock is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn resolve(&self, http: &HttpContext) -> Result<&Resolved, AuthError> {
        self.inner
            .resolved
            .get_or_try_init(|| async {
                match &self.inner.endpoint {
                    Endpoint::Url(url) => Ok(Resolved {
                        token_url: url.clone(),
                    }),
                    Endpoint::Discover(base) => {
                        let insecure = self.inner.allow_insecure_http;
                        let http = http.clone().allow_insecure_http(insecure);
                        let conf = SmartConfiguration::discover(&http, base).await?;
                        if !conf.token_endpoint.username().is_empty()
                            || conf.token_endpoint.password().is_some()
                        {
                            return Err(AuthError::Discovery {
                                url: SmartConfiguration::url_for(base)?.to_string(),
                                reason: "the token_endpoint holds user info (user:password@)"
                                    .into(),
                            });
                        }
                        check_transport_security(
                            "the discovered token endpoint",
                            &conf.token_endpoint,
                            insecure,
                        )?;
                        if let Method::PrivateKeyJwt(key) = &self.inner.method {
                            let supported = self
                                .inner
                                .supported_algs
                                .clone()
                                .or(conf.token_endpoint_auth_signing_alg_values_supported);
                            if let Some(supported) = supported {
                                check_alg(key, &supported)?;
                            }
                        }
                        if let Some(methods) = &conf.token_endpoint_auth_methods_supported {
                            let name = self.inner.method.name();
                            if !methods.iter().any(|m| m == name) {
                                return Err(AuthError::Config(format!(
                                    "the server does not list {name} in token_endpoint_auth_methods_supported ({}); configure a supported method",
                                    methods.join(", ")
                                )));
                            }
                        }
                        tracing::debug!(token_url = %conf.token_endpoint, "discovered the token endpoint");
                        Ok(Resolved {
                            token_url: conf.token_endpoint,
                        })
                    }
                }
            })
            .await
    }

    /// The `Authorization` header, from cache or from one token request shared by all callers.
    async fn header(&self, http: &HttpContext) -> Result<HeaderValue, AuthError> {
        let started_generation = {
            let state = self.lock_state();
            if let Some(header) = state.fresh(self.inner.clock.now()) {
                tracing::trace!(client_id = %self.inner.client_id, "using the cached access token");
                return Ok(header);
            }
            state.generation
        };
        let mut guard = self.inner.flight.lock().await;
        {
            // Someone else may have finished a token request while this task waited.
            let state = self.lock_state();
            if let Some(header) = state.fresh(self.inner.clock.now()) {
                tracing::trace!(client_id = %self.inner.client_id, "using the access token another task fetched");
                return Ok(header);
            }
            if let Some((generation, error)) = &state.last_failure {
                if *generation > started_generation {
                    return Err(error.clone());
                }
            }
        }
        let result = self.fetch(http, &mut guard).await;
        let mut state = self.lock_state();
        state.generation += 1;
        match result {
            Ok((response, sent_at)) => {
                let header =
                    sensitive_header(&format!("Bearer {}", response.access_token.expose_secret()))
                        .map_err(|_| AuthError::InvalidTokenResponse {
                            url: self.token_url().map(|u| u.to_string()).unwrap_or_default(),
                            reason: "the access token has characters not allowed in an HTTP header"
                                .into(),
                        });
                match header {
                    Ok(header) => {
                        state.apply(response, header.clone(), sent_at, self.inner.skew);
                        state.last_failure = None;
                        Ok(header)
                    }
                    Err(e) => {
                        state.last_failure = Some((state.generation, e.clone()));
                        Err(e)
                    }
                }
            }
            Err(e) => {
                state.last_failure = Some((state.generation, e.clone()));
                Err(e)
            }
        }
    }

    /// One token request (refresh_token grant first when a refresh token is held).
    async fn fetch(
        &self,
        http: &HttpContext,
        rate: &mut RateGuard,
    ) -> Result<(TokenResponse, SystemTime), AuthError> {
        let token_url = self.resolve(http).await?.token_url.clone();
        let refresh = self.lock_state().refresh_token.clone();
        if let Some(refresh) = refresh {
            let now = self.inner.clock.now();
            rate.admit(now)?;
            match self.request(http, &token_url, Some(&refresh), now).await {
                Ok(response) => return Ok((response, now)),
                Err(AuthError::TokenEndpoint { error, .. }) if error == "invalid_grant" => {
                    tracing::debug!(client_id = %self.inner.client_id, "refresh token refused; using client credentials");
                    self.lock_state().refresh_token = None;
                }
                Err(e) => return Err(e),
            }
        }
        let now = self.inner.clock.now();
        rate.admit(now)?;
        let response = self.request(http, &token_url, None, now).await?;
        Ok((response, now))
    }

    fn client_assertion(
        &self,
        key: &SigningKey,
        token_url: &Url,
        now: SystemTime,
    ) -> Result<ClientAssertion, AuthError> {
        let mut jti = [0u8; 16];
        OsRng.fill_bytes(&mut jti);
        let iat = unix_seconds(now);
        let claims = json!({
            "iss": self.inner.client_id,
            "sub": self.inner.client_id,
            "aud": token_url.as_str(),
            "exp": iat + self.inner.assertion_lifetime.as_secs(),
            "iat": iat,
            "jti": URL_SAFE_NO_PAD.encode(jti),
        });
        Ok(ClientAssertion::new(
            key.sign_jwt(self.inner.jku.as_deref(), &claims)?,
        ))
    }

    async fn request(
        &self,
        http: &HttpContext,
        token_url: &Url,
        refresh: Option<&RefreshToken>,
        now: SystemTime,
    ) -> Result<TokenResponse, AuthError> {
        let inner = &self.inner;
        let mut form: Vec<(&str, String)> = Vec::new();
        match refresh {
            Some(refresh) => {
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", refresh.expose_secret().into()));
            }
            None => form.push(("grant_type", "client_credentials".into())),
        }
        if let Some(scope) = &inner.scope {
            form.push(("scope", scope.clone()));
        }
        let mut request = http
            .post(token_url)
            .header(http::header::ACCEPT, "application/json");
        // Values that must not appear in anything the server echoes back to us.
        let mut secrets: Vec<String> = refresh
            .map(|r| r.expose_secret().to_owned())
            .into_iter()
            .collect();
        match &inner.method {
            Method::SecretBasic(secret) => {
                // RFC 6749 section 2.3.1: form-urlencode both parts before base64.
                let pair = format!(
                    "{}:{}",
                    form_urlencode(&inner.client_id),
                    form_urlencode(secret.expose_secret())
                );
                let header = sensitive_header(&format!("Basic {}", STANDARD.encode(pair)))?;
                request = request.header(http::header::AUTHORIZATION, header);
                secrets.push(secret.expose_secret().to_owned());
            }
            Method::SecretPost(secret) => {
                form.push(("client_id", inner.client_id.clone()));
                form.push(("client_secret", secret.expose_secret().into()));
                secrets.push(secret.expose_secret().to_owned());
            }
            Method::PrivateKeyJwt(key) => {
                let assertion = self.client_assertion(key, token_url, now)?;
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push(("client_assertion", assertion.expose_secret().into()));
                secrets.push(assertion.expose_secret().to_owned());
            }
        }
        tracing::debug!(
            client_id = %inner.client_id,
            %token_url,
            method = inner.method.name(),
            grant = if refresh.is_some() { "refresh_token" } else { "client_credentials" },
            scope = inner.scope.as_deref().unwrap_or(""),
            "requesting an access token"
        );
        // The context's timeout ends a stalled token endpoint (this runs under the single-flight
        // lock every caller waits on) and its limit bounds the body.
        let (status, headers, body) =
            http.send(request.form(&form))
                .await
                .map_err(|reason| AuthError::Transport {
                    url: token_url.to_string(),
                    reason: redact(&reason, &secrets),
                })?;
        let retry_after = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !status.is_success() {
            let error = self.token_error(
                token_url,
                status.as_u16(),
                &body,
                retry_after.as_deref(),
                &secrets,
            );
            tracing::debug!(client_id = %inner.client_id, %token_url, status = status.as_u16(), error = %error, "token request refused");
            return Err(error);
        }
        let response = parse_token_response(token_url, &body)?;
        self.check_scope(&response)?;
        tracing::debug!(
            client_id = %inner.client_id,
            expires_in = response.expires_in.map(|d| d.as_secs()),
            scope = response.scope.as_deref().unwrap_or(""),
            refresh_token = response.refresh_token.is_some(),
            "received an access token"
        );
        Ok(response)
    }

    fn check_scope(&self, response: &TokenResponse) -> Result<(), AuthError> {
        let (Some(requested), Some(granted)) = (&self.inner.scope, &response.scope) else {
            return Ok(());
        };
        let granted_set: Vec<&str> = granted.split_whitespace().collect();
        let missing: Vec<&str> = requested
            .split_whitespace()
            .filter(|s| !granted_set.contains(s))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if self.inner.require_granted_scopes {
            return Err(AuthError::ScopeNotGranted {
                requested: requested.clone(),
                granted: granted.clone(),
            });
        }
        tracing::warn!(
            client_id = %self.inner.client_id,
            missing = %missing.join(" "),
            "the token endpoint granted fewer scopes than requested"
        );
        Ok(())
    }

    /// Maps an OAuth2 error response to an error that says what to fix.
    fn token_error(
        &self,
        token_url: &Url,
        status: u16,
        body: &[u8],
        retry_after: Option<&str>,
        secrets: &[String],
    ) -> AuthError {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
                .map(|s| redact(s, secrets))
        };
        let error = field("error").unwrap_or_else(|| format!("http_{status}"));
        let description = field("error_description");
        let hint = hint_for(
            &error,
            description.as_deref().unwrap_or(""),
            status,
            retry_after,
            &self.inner,
            token_url,
        );
        AuthError::TokenEndpoint {
            url: token_url.to_string(),
            status,
            error,
            description,
            hint,
        }
    }
}

fn form_urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Replaces any occurrence of a secret value (servers sometimes echo request parameters).
fn redact(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret.as_str(), "[redacted]");
    }
    text
}

fn parse_token_response(token_url: &Url, body: &[u8]) -> Result<TokenResponse, AuthError> {
    let fail = |reason: String| AuthError::InvalidTokenResponse {
        url: token_url.to_string(),
        reason,
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| fail("the body is not JSON".into()))?;
    let access_token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| fail("no \"access_token\"".into()))?;
    match value.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(t) => {
            return Err(fail(format!(
                "token_type is {t:?}; only Bearer tokens are supported"
            )))
        }
        None => return Err(fail("no \"token_type\"".into())),
    }
    let expires_in = match value.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let secs = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| fail("\"expires_in\" is not a number of seconds".into()))?;
            Some(Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME))
        }
    };
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        expires_in,
        refresh_token: value
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(RefreshToken::new),
        scope: value
            .get("scope")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn hint_for(
    error: &str,
    description: &str,
    status: u16,
    retry_after: Option<&str>,
    inner: &Inner,
    token_url: &Url,
) -> String {
    let d = description.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| d.contains(w));
    let id = &inner.client_id;
    let key_hint = match &inner.method {
        Method::PrivateKeyJwt(key) => format!("alg {}, kid {}", key.algorithm(), key.kid()),
        _ => String::new(),
    };
    if status == 429 || error == "slow_down" || error == "temporarily_unavailable" {
        return format!(
            "the token endpoint is rate limiting this client{}: reuse tokens and lower the token request rate (rate_limit)",
            retry_after.map(|r| format!(" (Retry-After: {r})")).unwrap_or_default()
        );
    }
    match error {
        "invalid_client" => {
            if has(&["not found", "unknown client", "client is invalid", "no client", "unregistered", "does not exist"]) {
                format!("the authorization server does not know client_id {id:?}: check the client id registered with the EHR (and that the app is enabled in this environment)")
            } else if has(&["audience", "aud)", " aud ", "\"aud\""]) {
                format!("the client assertion's aud must be the token URL exactly; it was {token_url}: configure the token URL the EHR publishes (or use discovery)")
            } else if has(&["exp", "nbf", "iat", "timestamp", "not yet valid", "future", "too old", "stale"]) {
                "the client assertion was refused for its time claims (exp/iat): check this machine's clock for skew against the server (NTP) and keep the assertion lifetime at most 5 minutes".into()
            } else if has(&["signature", "no matching key", "jwks", "kid", "key"]) {
                format!("the client assertion's signature was not accepted: the public key registered for {id:?} (its JWK Set or JKU) must match the private key in use ({key_hint})")
            } else if has(&["jti", "only be used once", "replay"]) {
                "the server saw this assertion's jti before: each assertion must be used once (check that two processes do not share a clock-identical key setup)".into()
            } else if has(&["registered for", "auth method", "authentication method", "client_secret_basic", "client_secret_post"]) {
                format!("the client used {} but is registered for another token endpoint auth method: configure the registered one", inner.method.name())
            } else if has(&["secret"]) {
                "the client secret was not accepted: check the secret (it may have expired or been rotated)".into()
            } else {
                match &inner.method {
                    Method::PrivateKeyJwt(_) => format!("client authentication failed: check the client id {id:?}, that the registered JWK Set holds this key ({key_hint}), that the token URL ({token_url}) is the assertion's aud, and this machine's clock"),
                    _ => format!("client authentication failed: check the client id {id:?} and the client secret, and that the client is registered for {}", inner.method.name()),
                }
            }
        }
        "invalid_scope" => format!(
            "scope not granted: the client may not request {:?}; request only the scopes registered for it (SMART v1 system/Patient.read or v2 system/Patient.rs, as the server supports)",
            inner.scope.as_deref().unwrap_or("")
        ),
        "unauthorized_client" => "this client may not use the client_credentials grant: ask the EHR to enable backend (system) access for it".into(),
        "unsupported_grant_type" => "the server does not support the client_credentials grant at this endpoint: check the token URL".into(),
        "invalid_grant" => "the grant was refused: for a refresh token, it expired or was revoked (a new client credentials request follows)".into(),
        "invalid_target" => "the requested resource (audience) is not known to the authorization server: check the FHIR base URL registered for the client".into(),
        "invalid_request" => "the token request was malformed; the server's description says which parameter".into(),
        _ if status >= 500 => "the authorization server failed: retry later".into(),
        _ => "the token endpoint refused the request; the server's description says why".into(),
    }
}

impl AuthProvider for ClientCredentials {
    fn authorization<'a>(
        &'a self,
        http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        Box::pin(async move { self.header(http).await.map(Some) })
    }

    fn rejected(&self, used: &HeaderValue) -> bool {
        let mut state = self.lock_state();
        if state.access.as_ref().is_some_and(|c| c.header == *used) {
            tracing::debug!(client_id = %self.inner.client_id, "the FHIR server rejected the access token; dropping it");
            state.access = None;
        }
        // Either the refused token is gone now, or a newer one replaced it already: retry once.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ManualClock;

    fn response(
        token: &str,
        expires: Option<u64>,
        refresh: Option<&str>,
        scope: Option<&str>,
    ) -> TokenResponse {
        TokenResponse {
            access_token: AccessToken::new(token),
            expires_in: expires.map(Duration::from_secs),
            refresh_token: refresh.map(RefreshToken::new),
            scope: scope.map(str::to_owned),
        }
    }

    fn header(v: &str) -> HeaderValue {
        HeaderValue::from_str(v).unwrap()
    }

    #[test]
    fn token_is_fresh_until_expires_in_minus_skew() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut state = TokenState::default();
        state.apply(
            response("a", Some(570), None, None),
            header("Bearer a"),
            t0,
            DEFAULT_SKEW,
        );
        assert!(state.fresh(t0 + Duration::from_secs(509)).is_some());
        assert!(state.fresh(t0 + Duration::from_secs(510)).is_none());
        // Short-lived tokens: the skew is capped at half the lifetime.
        state.apply(
            response("b", Some(4), None, None),
            header("Bearer b"),
            t0,
            DEFAULT_SKEW,
        );
        assert!(state.fresh(t0 + Duration::from_secs(1)).is_some());
        assert!(state.fresh(t0 + Duration::from_secs(2)).is_none());
        // No expires_in: five minutes assumed.
        state.apply(
            response("c", None, None, None),
            header("Bearer c"),
            t0,
            DEFAULT_SKEW,
        );
        assert!(state.fresh(t0 + Duration::from_secs(239)).is_some());
        assert!(state.fresh(t0 + Duration::from_secs(240)).is_none());
    }

    #[test]
    fn huge_expires_in_is_clamped_not_a_panic() {
        let url = Url::parse("https://as.test/token").unwrap();
        for huge in [
            u64::MAX.to_string(),
            format!("\"{}\"", u64::MAX),
            "31536000000".to_owned(),
        ] {
            let body =
                format!(r#"{{"access_token":"x","token_type":"Bearer","expires_in":{huge}}}"#);
            let parsed = parse_token_response(&url, body.as_bytes()).unwrap();
            assert_eq!(parsed.expires_in, Some(MAX_TOKEN_LIFETIME), "{huge}");
        }
        // Even unclamped input and a clock at the end of time: no overflow panic.
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut state = TokenState::default();
        state.apply(
            TokenResponse {
                expires_in: Some(Duration::MAX),
                ..response("a", None, None, None)
            },
            header("Bearer a"),
            t0,
            DEFAULT_SKEW,
        );
        let day = MAX_TOKEN_LIFETIME - DEFAULT_SKEW;
        assert!(state.fresh(t0 + day - Duration::from_secs(1)).is_some());
        assert!(state.fresh(t0 + day).is_none());
        // The latest representable time (to the second): adding a day overflows.
        let mut end = UNIX_EPOCH;
        let mut step = Duration::from_secs(1 << 62);
        while step >= Duration::from_secs(1) {
            if let Some(later) = end.checked_add(step) {
                end = later;
            }
            step /= 2;
        }
        state.apply(
            response("b", Some(86_400), None, None),
            header("Bearer b"),
            end,
            DEFAULT_SKEW,
        );
        assert!(state.fresh(end).is_none(), "due for renewal at once");
    }

    #[test]
    fn a_response_without_refresh_token_or_scope_keeps_the_previous_ones() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        let mut state = TokenState::default();
        state.apply(
            response("a", Some(60), Some("r1"), Some("system/*.read")),
            header("Bearer a"),
            t0,
            DEFAULT_SKEW,
        );
        state.apply(
            response("b", Some(60), None, None),
            header("Bearer b"),
            t0,
            DEFAULT_SKEW,
        );
        assert_eq!(
            state
                .refresh_token
                .as_ref()
                .map(RefreshToken::expose_secret),
            Some("r1")
        );
        assert_eq!(state.granted_scope.as_deref(), Some("system/*.read"));
        assert_eq!(state.fresh(t0).unwrap(), "Bearer b");
        state.apply(
            response("c", Some(60), Some("r2"), Some("system/Patient.rs")),
            header("Bearer c"),
            t0,
            DEFAULT_SKEW,
        );
        assert_eq!(
            state
                .refresh_token
                .as_ref()
                .map(RefreshToken::expose_secret),
            Some("r2")
        );
        assert_eq!(state.granted_scope.as_deref(), Some("system/Patient.rs"));
    }

    #[test]
    fn rate_guard_admits_max_per_window_then_says_when() {
        let t0 = UNIX_EPOCH + Duration::from_secs(10_000);
        let mut guard = RateGuard {
            max: 3,
            per: Duration::from_secs(60),
            sent: VecDeque::new(),
        };
        for i in 0..3 {
            guard.admit(t0 + Duration::from_secs(i)).unwrap();
        }
        match guard.admit(t0 + Duration::from_secs(10)) {
            Err(AuthError::RateLimited {
                retry_after,
                max: 3,
                ..
            }) => {
                assert_eq!(retry_after, Duration::from_secs(50));
            }
            other => panic!("{other:?}"),
        }
        guard.admit(t0 + Duration::from_secs(60)).unwrap();
        assert!(guard.admit(t0 + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn token_responses_are_validated() {
        let url = Url::parse("https://as.test/token").unwrap();
        let ok = parse_token_response(
            &url,
            br#"{"access_token":"x","token_type":"bearer","expires_in":"30"}"#,
        )
        .unwrap();
        assert_eq!(ok.expires_in, Some(Duration::from_secs(30)));
        for bad in [
            &b"<html>"[..],
            br#"{"token_type":"Bearer"}"#,
            br#"{"access_token":"x","token_type":"DPoP"}"#,
            br#"{"access_token":"x"}"#,
            br#"{"access_token":"x","token_type":"Bearer","expires_in":-1}"#,
        ] {
            let err = parse_token_response(&url, bad).unwrap_err();
            assert!(
                matches!(err, AuthError::InvalidTokenResponse { .. }),
                "{err}"
            );
        }
    }

    fn provider(method: Method) -> ClientCredentials {
        let builder = ClientCredentials::builder("app-1")
            .token_url("https://as.test/token")
            .scope("system/*.read");
        let builder = match method {
            Method::SecretBasic(s) => builder.client_secret_basic(s),
            Method::SecretPost(s) => builder.client_secret_post(s),
            Method::PrivateKeyJwt(k) => builder.private_key_jwt(k),
        };
        builder.build().unwrap()
    }

    #[test]
    fn token_endpoint_errors_say_what_to_fix() {
        let key = crate::auth::keys::generate(crate::auth::keys::Algorithm::Es384)
            .unwrap()
            .signing_key()
            .unwrap();
        let jwt = provider(Method::PrivateKeyJwt(key));
        let url = Url::parse("https://as.test/token").unwrap();
        let hint = |p: &ClientCredentials, status: u16, body: &str| match p.token_error(
            &url,
            status,
            body.as_bytes(),
            Some("30"),
            &[],
        ) {
            AuthError::TokenEndpoint { hint, .. } => hint,
            other => panic!("{other:?}"),
        };
        assert!(hint(&jwt, 401, r#"{"error":"invalid_client","error_description":"client authentication failed: client not found"}"#).contains("does not know client_id"));
        assert!(hint(
            &jwt,
            401,
            r#"{"error":"invalid_client","error_description":"signature verification failed"}"#
        )
        .contains("signature was not accepted"));
        assert!(hint(&jwt, 401, r#"{"error":"invalid_client","error_description":"\"exp\" claim timestamp check failed"}"#).contains("clock"));
        assert!(hint(&jwt, 401, r#"{"error":"invalid_client","error_description":"audience (aud) must equal the token endpoint url"}"#).contains("aud must be the token URL"));
        assert!(hint(
            &jwt,
            400,
            r#"{"error":"invalid_scope","error_description":"requested scope is not allowed"}"#
        )
        .contains("scope not granted"));
        assert!(hint(&jwt, 429, "").contains("Retry-After: 30"));
        assert!(hint(&jwt, 401, r#"{"error":"invalid_client"}"#).contains("registered JWK Set"));
        let basic = provider(Method::SecretBasic(ClientSecret::new("s3cr3t-value")));
        assert!(hint(
            &basic,
            401,
            r#"{"error":"invalid_client","error_description":"invalid secret provided"}"#
        )
        .contains("client secret was not accepted"));
        // A description that echoes the secret is redacted.
        let err = basic.token_error(
            &url,
            400,
            br#"{"error":"invalid_request","error_description":"bad client_secret s3cr3t-value"}"#,
            None,
            &["s3cr3t-value".to_owned()],
        );
        assert!(!err.to_string().contains("s3cr3t-value"), "{err}");
        assert!(err.to_string().contains("[redacted]"));
        // Non-JSON bodies still give a status-based error.
        let err = basic.token_error(&url, 502, b"<html>", None, &[]);
        assert!(err.to_string().contains("http_502"), "{err}");
    }

    #[test]
    fn builder_rejects_bad_configuration() {
        let b = || ClientCredentials::builder("id").client_secret_basic(ClientSecret::new("s"));
        assert!(matches!(b().build(), Err(AuthError::Config(_))));
        assert!(matches!(
            ClientCredentials::builder("id")
                .token_url("https://a.test/t")
                .build(),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            b().token_url("not a url").build(),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            b().token_url("http://ehr.example/token").build(),
            Err(AuthError::Config(_))
        ));
        assert!(b().token_url("http://127.0.0.1:9/token").build().is_ok());
        assert!(matches!(
            b().token_url("https://a.test/t")
                .assertion_lifetime(Duration::from_secs(301))
                .build(),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            b().token_url("https://a.test/t")
                .rate_limit(0, Duration::from_secs(1))
                .build(),
            Err(AuthError::Config(_))
        ));
        assert!(matches!(
            ClientCredentials::builder(" ")
                .client_secret_basic(ClientSecret::new("s"))
                .token_url("https://a.test/t")
                .build(),
            Err(AuthError::Config(_))
        ));
        let key = crate::auth::keys::generate(crate::auth::keys::Algorithm::Es384)
            .unwrap()
            .signing_key()
            .unwrap();
        let err = ClientCredentials::builder("id")
            .private_key_jwt(key)
            .token_url("https://a.test/t")
            .supported_signing_algs(["RS384"])
            .build()
            .unwrap_err();
        assert!(
            matches!(err, AuthError::UnsupportedAlgorithm { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("ES384"));
    }

    #[test]
    fn client_assertion_claims_follow_smart_backend_services() {
        let key = crate::auth::keys::generate(crate::auth::keys::Algorithm::Es384)
            .unwrap()
            .signing_key()
            .unwrap();
        let kid = key.kid().to_owned();
        let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        let p = ClientCredentials::builder("app-1")
            .private_key_jwt(key.clone())
            .jku("https://app.test/jwks.json")
            .token_url("https://as.test/token")
            .clock(clock.clone())
            .build()
            .unwrap();
        let url = Url::parse("https://as.test/token").unwrap();
        let a = p.client_assertion(&key, &url, clock.now()).unwrap();
        let b = p.client_assertion(&key, &url, clock.now()).unwrap();
        let part = |jws: &str, i: usize| -> Value {
            serde_json::from_slice(
                &URL_SAFE_NO_PAD
                    .decode(jws.split('.').nth(i).unwrap())
                    .unwrap(),
            )
            .unwrap()
        };
        let (header, claims) = (part(a.expose_secret(), 0), part(a.expose_secret(), 1));
        assert_eq!(header["alg"], "ES384");
        assert_eq!(header["kid"], kid.as_str());
        assert_eq!(header["jku"], "https://app.test/jwks.json");
        assert_eq!(claims["iss"], "app-1");
        assert_eq!(claims["sub"], "app-1");
        assert_eq!(claims["aud"], "https://as.test/token");
        assert_eq!(claims["iat"], 1_700_000_000u64);
        let exp = claims["exp"].as_u64().unwrap();
        assert!(exp > 1_700_000_000 && exp <= 1_700_000_300, "{exp}");
        assert_ne!(
            claims["jti"],
            part(b.expose_secret(), 1)["jti"],
            "jti must be unique"
        );
        assert!(!format!("{p:?}").contains(a.expose_secret()));
    }

    #[test]
    fn rejected_drops_only_the_refused_token() {
        let p = provider(Method::SecretPost(ClientSecret::new("s")));
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        p.lock_state().apply(
            response("new", Some(3600), None, None),
            header("Bearer new"),
            t0,
            DEFAULT_SKEW,
        );
        // A stale token from before: the current one stays, and a retry is still worthwhile.
        assert!(p.rejected(&header("Bearer old")));
        assert!(p.lock_state().access.is_some());
        assert!(p.rejected(&header("Bearer new")));
        assert!(p.lock_state().access.is_none());
    }
}
