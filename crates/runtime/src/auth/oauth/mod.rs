//! OAuth2 client credentials with client secrets or SMART Backend Services assertions, and the
//! token lifecycle: single flight, refresh on 401. The token cache and rate guard are in `cache`,
//! reading token responses and error hints in `response`.

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
use super::secret::{ClientAssertion, ClientSecret, RefreshToken};
use super::smart::SmartConfiguration;
use super::transport::{check_transport_security, HttpContext};
use super::{sensitive_header, AuthError, AuthProvider};
use crate::time::{Clock, SystemClock};
pub(super) use cache::TokenResponse;
use cache::{RateGuard, TokenState};
pub(super) use response::{check_bearer, lifetime};
use response::{form_urlencode, hint_for, parse_token_response, redact};

mod cache;
mod response;

/// Default margin before `expires_in` at which a cached token is replaced: 60 seconds.
pub const DEFAULT_SKEW: Duration = Duration::from_secs(60);
/// Default token-request rate guard: 50 requests per 60 seconds (athenahealth's limit).
pub const DEFAULT_RATE_LIMIT: (u32, Duration) = (50, Duration::from_secs(60));
/// SMART Backend Services: a client assertion expires at most five minutes after it is made.
const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);
/// Default assertion lifetime: below the maximum, so a slightly fast server clock still accepts it.
const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(240);
/// A token another holder of the session renewed is used when it has at least this long left.
const MIN_ADOPTED_LIFETIME: Duration = Duration::from_secs(2);
/// Token lifetime assumed when the response has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The longest a token is reused, whatever `expires_in` says: a server (or an attacker in its
/// place) cannot pin a token for years, and the expiry arithmetic cannot overflow.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the client authenticates itself at the token endpoint.
#[derive(Clone)]
enum Method {
    /// A public client (SMART App Launch `client-public`): only its id, in the form; PKCE
    /// protects the code exchange.
    None,
    SecretBasic(ClientSecret),
    SecretPost(ClientSecret),
    PrivateKeyJwt(SigningKey),
}

impl Method {
    fn name(&self) -> &'static str {
        match self {
            Method::None => "none",
            Method::SecretBasic(_) => "client_secret_basic",
            Method::SecretPost(_) => "client_secret_post",
            Method::PrivateKeyJwt(_) => "private_key_jwt",
        }
    }
}

/// What a request to the token endpoint asks for (or, for `Revoke`, the revocation endpoint:
/// it authenticates the client the same way).
enum Grant<'a> {
    ClientCredentials,
    Refresh(&'a RefreshToken),
    /// SMART App Launch: the code from the redirect, with the PKCE verifier and the same
    /// redirect URI the authorization request named.
    AuthorizationCode {
        code: &'a str,
        verifier: &'a str,
        redirect_uri: &'a str,
    },
    /// RFC 7009: revoke `token` (`hint` is `refresh_token` or `access_token`).
    Revoke {
        token: &'a str,
        hint: &'static str,
    },
}

impl Grant<'_> {
    fn name(&self) -> &'static str {
        match self {
            Grant::ClientCredentials => "client_credentials",
            Grant::Refresh(_) => "refresh_token",
            Grant::AuthorizationCode { .. } => "authorization_code",
            Grant::Revoke { .. } => "revocation",
        }
    }
}

/// Called with every token the provider obtains (a refresh rotates the refresh token, which a
/// session must keep to renew again later), before the renewal's guard is released.
pub(in crate::auth) type OnTokens = Arc<dyn Fn(&TokenResponse, SystemTime) + Send + Sync>;

/// Called before a refresh: takes a guard that other holders of the same session (other
/// processes) respect, and returns tokens one of them renewed meanwhile, if any. With refresh
/// token rotation, two holders refreshing with the same token would look like a replay to the
/// server, which then revokes the whole grant.
pub(in crate::auth) type BeforeRefresh =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Renewal, AuthError>> + Send + Sync>;

/// What [`BeforeRefresh`] gives: a guard held until the renewed tokens are kept, and tokens
/// another holder renewed meanwhile.
pub(in crate::auth) struct Renewal {
    pub(in crate::auth) _guard: Option<Box<dyn std::any::Any + Send>>,
    pub(in crate::auth) newer: Option<TokenResponse>,
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
    /// A user's session (SMART App Launch): renew only with the refresh token; when it is
    /// refused, the user must sign in again (there is no client credentials grant to fall
    /// back on).
    refresh_only: bool,
    on_tokens: Option<OnTokens>,
    before_refresh: Option<BeforeRefresh>,
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
    refresh_only: bool,
    on_tokens: Option<OnTokens>,
    before_refresh: Option<BeforeRefresh>,
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

    /// A public client: no client authentication, the client id in the form (SMART App Launch
    /// only; the client credentials grant always authenticates).
    pub(in crate::auth) fn public_client(mut self) -> Self {
        self.method = Some(Method::None);
        self
    }

    /// Renew only with a refresh token (a user's session); see [`Inner::refresh_only`].
    pub(in crate::auth) fn refresh_only(
        mut self,
        on_tokens: OnTokens,
        before_refresh: Option<BeforeRefresh>,
    ) -> Self {
        self.refresh_only = true;
        self.on_tokens = Some(on_tokens);
        self.before_refresh = before_refresh;
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
        if matches!(method, Method::None) && !self.refresh_only {
            return Err(AuthError::Config(
                "the client credentials grant needs client authentication (a secret or a key)"
                    .into(),
            ));
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
                refresh_only: self.refresh_only,
                on_tokens: self.on_tokens,
                before_refresh: self.before_refresh,
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
            refresh_only: false,
            on_tokens: None,
            before_refresh: None,
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
                        // `discover` already requires it; checked again rather than unwrapped.
                        let token_endpoint = conf.token_endpoint.ok_or_else(|| {
                            AuthError::Discovery {
                                url: base.to_string(),
                                reason: "the document has no \"token_endpoint\"".into(),
                            }
                        })?;
                        if !token_endpoint.username().is_empty()
                            || token_endpoint.password().is_some()
                        {
                            return Err(AuthError::Discovery {
                                url: SmartConfiguration::url_for(base)?.to_string(),
                                reason: "the token_endpoint holds user info (user:password@)"
                                    .into(),
                            });
                        }
                        check_transport_security(
                            "the discovered token endpoint",
                            &token_endpoint,
                            insecure,
                        )?;
                        if let Method::PrivateKeyJwt(key) = &self.inner.method {
                            let supported = self
                                .inner
                                .supported_algs
                                .clone()
                                .or(Some(conf.token_endpoint_auth_signing_alg_values_supported)
                                    .filter(|algs| !algs.is_empty()));
                            if let Some(supported) = supported {
                                check_alg(key, &supported)?;
                            }
                        }
                        let methods = &conf.token_endpoint_auth_methods_supported;
                        if !methods.is_empty() {
                            let name = self.inner.method.name();
                            if !methods.iter().any(|m| m == name) {
                                return Err(AuthError::Config(format!(
                                    "the server does not list {name} in token_endpoint_auth_methods_supported ({}); configure a supported method",
                                    methods.join(", ")
                                )));
                            }
                        }
                        tracing::debug!(token_url = %token_endpoint, "discovered the token endpoint");
                        Ok(Resolved {
                            token_url: token_endpoint,
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
        // Held until the renewed tokens are kept (`on_tokens`), then dropped.
        let mut renewal = match &self.inner.before_refresh {
            Some(before) => Some(before().await?),
            None => None,
        };
        if let Some(newer) = renewal.as_mut().and_then(|r| r.newer.take()) {
            if newer.expires_in.is_some_and(|d| d >= MIN_ADOPTED_LIFETIME) {
                tracing::debug!(client_id = %self.inner.client_id, "another holder of the session renewed it; using its token");
                return Ok((newer, self.inner.clock.now()));
            }
            // Its access token is spent too, but its refresh token is the current one.
            let mut state = self.lock_state();
            state.refresh_token = newer.refresh_token.or(state.refresh_token.take());
        }
        let refresh = self.lock_state().refresh_token.clone();
        if let Some(refresh) = refresh {
            let now = self.inner.clock.now();
            rate.admit(now)?;
            match self
                .request(http, &token_url, Grant::Refresh(&refresh), now)
                .await
            {
                Ok(response) => {
                    if let Some(on_tokens) = &self.inner.on_tokens {
                        on_tokens(&response, now);
                    }
                    drop(renewal);
                    return Ok((response, now));
                }
                Err(AuthError::TokenEndpoint {
                    error, description, ..
                }) if error == "invalid_grant" && self.inner.refresh_only => {
                    self.lock_state().refresh_token = None;
                    return Err(AuthError::SignInAgain {
                        reason: format!(
                            "the token endpoint refused the refresh token ({})",
                            description.unwrap_or(error)
                        ),
                    });
                }
                Err(AuthError::TokenEndpoint { error, .. }) if error == "invalid_grant" => {
                    tracing::debug!(client_id = %self.inner.client_id, "refresh token refused; using client credentials");
                    self.lock_state().refresh_token = None;
                }
                Err(e) => return Err(e),
            }
        }
        if self.inner.refresh_only {
            return Err(AuthError::SignInAgain {
                reason: "the access token expired and there is no refresh token (ask for \
                         `offline_access` or `online_access` to stay signed in)"
                    .into(),
            });
        }
        let now = self.inner.clock.now();
        rate.admit(now)?;
        let response = self
            .request(http, &token_url, Grant::ClientCredentials, now)
            .await?;
        Ok((response, now))
    }

    /// Starts a session with tokens obtained elsewhere (a code exchange, or a token store):
    /// `access_token` is used until `expires_at` minus the skew, then `refresh_token` renews it.
    pub(in crate::auth) fn seed(&self, response: TokenResponse, obtained_at: SystemTime) {
        let header = sensitive_header(&format!("Bearer {}", response.access_token.expose_secret()));
        let mut state = self.lock_state();
        match header {
            Ok(header) => state.apply(response, header, obtained_at, self.inner.skew),
            // An unusable token is treated as expired: the refresh token still renews it.
            Err(_) => {
                state.refresh_token = response.refresh_token;
                state.granted_scope = response.scope;
            }
        }
    }

    /// RFC 7009: revokes `token` at `url`, authenticating the client as for a token request.
    pub(in crate::auth) async fn revoke(
        &self,
        http: &HttpContext,
        url: &Url,
        token: &str,
        hint: &'static str,
    ) -> Result<(), AuthError> {
        let now = self.inner.clock.now();
        self.send(http, url, &Grant::Revoke { token, hint }, now)
            .await
            .map(|_| ())
    }

    /// SMART App Launch: exchanges an authorization code, under the single-flight lock and
    /// the rate guard like any token request. Returns the response body (the caller reads the
    /// launch context from it), the token URL and when the request was sent.
    pub(in crate::auth) async fn exchange_code(
        &self,
        http: &HttpContext,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<(bytes::Bytes, Url, SystemTime), AuthError> {
        let mut rate = self.inner.flight.lock().await;
        let token_url = self.resolve(http).await?.token_url.clone();
        let now = self.inner.clock.now();
        rate.admit(now)?;
        let grant = Grant::AuthorizationCode {
            code,
            verifier,
            redirect_uri,
        };
        let body = self.send(http, &token_url, &grant, now).await?;
        Ok((body, token_url, now))
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
        grant: Grant<'_>,
        now: SystemTime,
    ) -> Result<TokenResponse, AuthError> {
        let body = self.send(http, token_url, &grant, now).await?;
        let response = parse_token_response(token_url, &body)?;
        self.check_scope(&response)?;
        tracing::debug!(
            client_id = %self.inner.client_id,
            expires_in = response.expires_in.map(|d| d.as_secs()),
            scope = response.scope.as_deref().unwrap_or(""),
            refresh_token = response.refresh_token.is_some(),
            "received an access token"
        );
        Ok(response)
    }

    /// Sends one token request and returns the body of a 2xx answer; anything else becomes
    /// [`AuthError::TokenEndpoint`] with a hint, with every secret of the request redacted.
    async fn send(
        &self,
        http: &HttpContext,
        token_url: &Url,
        grant: &Grant<'_>,
        now: SystemTime,
    ) -> Result<bytes::Bytes, AuthError> {
        let inner = &self.inner;
        let mut form: Vec<(&str, String)> = Vec::new();
        // Values that must not appear in anything the server echoes back to us.
        let mut secrets: Vec<String> = Vec::new();
        match grant {
            Grant::Revoke { token, hint } => {
                form.push(("token", (*token).into()));
                form.push(("token_type_hint", (*hint).into()));
                secrets.push((*token).to_owned());
            }
            _ => form.push(("grant_type", grant.name().into())),
        }
        match grant {
            Grant::ClientCredentials | Grant::Revoke { .. } => {}
            Grant::Refresh(refresh) => {
                form.push(("refresh_token", refresh.expose_secret().into()));
                secrets.push(refresh.expose_secret().to_owned());
            }
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => {
                form.push(("code", (*code).into()));
                form.push(("redirect_uri", (*redirect_uri).into()));
                form.push(("code_verifier", (*verifier).into()));
                secrets.push((*code).to_owned());
                secrets.push((*verifier).to_owned());
            }
        }
        // The code exchange and revocation name no scope: the authorization fixed it.
        if let (Some(scope), false) = (
            &inner.scope,
            matches!(
                grant,
                Grant::AuthorizationCode { .. } | Grant::Revoke { .. }
            ),
        ) {
            form.push(("scope", scope.clone()));
        }
        let mut request = http
            .post(token_url)
            .header(http::header::ACCEPT, "application/json");
        match &inner.method {
            Method::None => form.push(("client_id", inner.client_id.clone())),
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
            grant = grant.name(),
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
                grant,
                &secrets,
            );
            tracing::debug!(client_id = %inner.client_id, %token_url, status = status.as_u16(), error = %error, "token request refused");
            return Err(error);
        }
        Ok(body)
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
        grant: &Grant<'_>,
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
            grant,
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
mod tests;
