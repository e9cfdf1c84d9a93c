//! SMART App Launch 2.x for people: OAuth2 authorization code with PKCE (RFC 6749, RFC 7636
//! `S256` only), a loopback redirect for native apps (RFC 8252), the launch context in the token
//! response, a verified OpenID Connect `id_token`, silent refresh, and revocation (RFC 7009).
//!
//! 1. [`AppLaunch::begin`] builds the authorization URL (checked against what the server's SMART
//!    configuration offers) for the user's browser.
//! 2. The browser comes back to the redirect URI ([`LoopbackRedirect`] catches it on 127.0.0.1).
//! 3. [`AppLaunch::complete`] checks the `state`, exchanges the code (public client, client
//!    secret, or `private_key_jwt` with the Backend Services signer), reads the launch context
//!    and verifies the `id_token` against the server's JWKS.
//! 4. [`AppLaunch::session`] is the [`AuthProvider`] for the FHIR client: it renews the access
//!    token with the refresh token before it expires (one request however many callers wait),
//!    keeps a rotated refresh token (in a [`TokenStore`] when given one), and reports
//!    [`AuthError::SignInAgain`] when the refresh token is refused.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fhirforge_runtime::auth::AuthError> {
//! use fhirforge_runtime::auth::app_launch::{AppLaunch, Launch, LoopbackRedirect};
//! use fhirforge_runtime::auth::{HttpContext, SmartConfiguration};
//! use std::time::Duration;
//! use url::Url;
//!
//! let http = HttpContext::new()?;
//! let base = Url::parse("https://fhir.example.org/r4").expect("url");
//! let config = SmartConfiguration::discover(&http, &base).await?;
//! let launch = AppLaunch::new("my-client-id", base, config)
//!     .scopes(["openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"]);
//! let redirect = LoopbackRedirect::bind(0, "/callback").await?;
//! let pending = launch.begin(redirect.redirect_uri().clone(), Launch::Standalone)?;
//! println!("open {}", pending.url());
//! let back = redirect.wait(Duration::from_secs(300)).await?;
//! let sign_in = launch.complete(&http, &pending, &back).await?;
//! println!("patient in context: {:?}", sign_in.tokens.patient);
//! let auth = launch.session(sign_in.tokens)?; // give it to Client::builder().auth(..)
//! # let _ = auth;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use http::HeaderValue;
use url::Url;

use super::keys::SigningKey;
use super::oauth::TokenResponse;
use super::smart::SmartConfiguration;
use super::transport::HttpContext;
use super::{AuthError, AuthProvider, ClientCredentials, ClientSecret};
use crate::time::{Clock, SystemClock};

mod authorize;
mod id_token;
mod loopback;
mod store;
mod token;

pub use authorize::{AuthorizationRequest, ClientKind, Launch, PendingAuthorization, Pkce};
pub use loopback::LoopbackRedirect;
#[cfg(feature = "keyring")]
pub use store::KeyringTokenStore;
pub use store::{FileTokenStore, StoredTokens, TokenStore, TryLock};
pub use token::SmartTokenResponse;

/// How the app authenticates at the token endpoint.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// A public client: PKCE alone (`client-public`).
    Public,
    /// `client_secret_basic` (`client-confidential-symmetric`).
    SecretBasic(ClientSecret),
    /// `client_secret_post` (`client-confidential-symmetric`).
    SecretPost(ClientSecret),
    /// A JWT assertion signed RS384 or ES384 (`client-confidential-asymmetric`), as in Backend
    /// Services.
    PrivateKeyJwt(SigningKey),
}

impl ClientAuth {
    fn kind(&self) -> ClientKind {
        match self {
            ClientAuth::Public => ClientKind::Public,
            ClientAuth::SecretBasic(_) | ClientAuth::SecretPost(_) => {
                ClientKind::ConfidentialSymmetric
            }
            ClientAuth::PrivateKeyJwt(_) => ClientKind::ConfidentialAsymmetric,
        }
    }
}

/// One app registered with one FHIR server's authorization server.
#[derive(Clone)]
pub struct AppLaunch {
    client_id: String,
    client: ClientAuth,
    fhir_base: Url,
    config: SmartConfiguration,
    scopes: Vec<String>,
    allow_insecure_http: bool,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for AppLaunch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppLaunch")
            .field("client_id", &self.client_id)
            .field("client", &self.client)
            .field("fhir_base", &self.fhir_base.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The result of a completed sign-in.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The tokens and launch context (store them to stay signed in).
    pub tokens: StoredTokens,
    /// The scopes the authorization request asked for.
    pub requested_scopes: Vec<String>,
    /// Whether the app must show a patient banner.
    pub need_patient_banner: Option<bool>,
    /// The EHR's style sheet for the app.
    pub smart_style_url: Option<String>,
}

impl SignIn {
    /// Requested scopes the server did not grant (empty when the server did not say, which
    /// RFC 6749 §5.1 allows only when it granted everything).
    pub fn not_granted(&self) -> Vec<&str> {
        let Some(granted) = &self.tokens.scope else {
            return Vec::new();
        };
        let granted: Vec<&str> = granted.split_whitespace().collect();
        self.requested_scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !granted.contains(s))
            .collect()
    }
}

impl AppLaunch {
    /// An app `client_id` for the FHIR server at `fhir_base` (the token audience, sent as
    /// `aud`), whose SMART configuration is `config`. A public client until
    /// [`client_auth`](Self::client_auth) says otherwise.
    pub fn new(client_id: impl Into<String>, fhir_base: Url, config: SmartConfiguration) -> Self {
        Self {
            client_id: client_id.into(),
            client: ClientAuth::Public,
            fhir_base,
            config,
            scopes: Vec::new(),
            allow_insecure_http: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// [`new`](Self::new) with the SMART configuration read from `fhir_base`'s
    /// `.well-known/smart-configuration`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for a base that is not a URL; [`AuthError::Discovery`] when the
    /// configuration cannot be read.
    pub async fn discover(
        http: &HttpContext,
        client_id: impl Into<String>,
        fhir_base: &str,
    ) -> Result<Self, AuthError> {
        let base = Url::parse(fhir_base)
            .map_err(|e| AuthError::Config(format!("the FHIR base URL is not a URL: {e}")))?;
        let config = SmartConfiguration::discover(http, &base).await?;
        Ok(Self::new(client_id, base, config))
    }

    /// How the app authenticates at the token endpoint.
    #[must_use]
    pub fn client_auth(mut self, client: ClientAuth) -> Self {
        self.client = client;
        self
    }

    /// Adds scopes to request (`openid fhirUser launch/patient patient/*.rs offline_access`).
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for scope in scopes {
            self.scopes
                .extend(scope.as_ref().split_whitespace().map(str::to_owned));
        }
        self
    }

    /// Allow the token endpoint and JWKS over plain http to hosts other than this machine
    /// (default `false`; loopback is always allowed).
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The clock for token expiry and id_token times (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The server's SMART configuration.
    pub fn config(&self) -> &SmartConfiguration {
        &self.config
    }

    /// The authorization URL and what checks the redirect; see [`AuthorizationRequest::begin`].
    ///
    /// # Errors
    /// As [`AuthorizationRequest::begin`].
    pub fn begin(
        &self,
        redirect_uri: Url,
        launch: Launch,
    ) -> Result<PendingAuthorization, AuthError> {
        let mut request =
            AuthorizationRequest::new(&self.client_id, redirect_uri, self.fhir_base.clone())
                .scopes(self.scopes.iter().cloned())
                .client(self.client.kind());
        if let Launch::Ehr(value) = launch {
            request = request.ehr_launch(value);
        }
        request.begin(&self.config)
    }

    /// The provider that talks to the token endpoint for this app; `on_tokens` sees every
    /// renewal.
    fn engine(
        &self,
        on_tokens: super::oauth::OnTokens,
        before_refresh: Option<super::oauth::BeforeRefresh>,
    ) -> Result<ClientCredentials, AuthError> {
        let token_url = self.config.token_endpoint.as_ref().ok_or_else(|| {
            AuthError::Config("the server's SMART configuration has no token_endpoint".into())
        })?;
        let builder = ClientCredentials::builder(&self.client_id)
            .token_url(token_url.as_str())
            .allow_insecure_http(self.allow_insecure_http)
            .refresh_only(on_tokens, before_refresh);
        let builder = match &self.client {
            ClientAuth::Public => builder.public_client(),
            ClientAuth::SecretBasic(secret) => builder.client_secret_basic(secret.clone()),
            ClientAuth::SecretPost(secret) => builder.client_secret_post(secret.clone()),
            ClientAuth::PrivateKeyJwt(key) => builder.private_key_jwt(key.clone()),
        };
        builder.clock(self.clock.clone()).build()
    }

    /// Reads the redirect, exchanges its code and verifies the answer.
    ///
    /// # Errors
    /// [`AuthError::StateMismatch`] or [`AuthError::AuthorizationDenied`] from the redirect;
    /// [`AuthError::TokenEndpoint`] when the exchange is refused (a replayed or expired code,
    /// a wrong verifier); [`AuthError::InvalidTokenResponse`]; [`AuthError::IdToken`] when the
    /// `id_token` fails verification. (Without a `jwks_uri` in the configuration, the `id_token`
    /// cannot be verified: it is ignored, with a warning, and `fhir_user` comes only from the
    /// token response.)
    pub async fn complete(
        &self,
        http: &HttpContext,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<SignIn, AuthError> {
        let code = pending.code_from_redirect(redirect)?;
        let http = http.clone().allow_insecure_http(self.allow_insecure_http);
        let engine = self.engine(Arc::new(|_: &TokenResponse, _| {}), None)?;
        let (body, token_url, sent_at) = engine
            .exchange_code(
                &http,
                &code,
                pending.pkce().verifier(),
                pending.redirect_uri().as_str(),
            )
            .await?;
        let response = SmartTokenResponse::from_json(&token_url, &body)?;
        let mut fhir_user = response.fhir_user.clone();
        match (&response.id_token, &self.config.jwks_uri) {
            (Some(id_token), Some(jwks_uri)) => {
                let expected = id_token::Expected {
                    issuer: self.config.issuer.as_deref(),
                    client_id: &self.client_id,
                    nonce: pending.nonce(),
                    now: self.clock.now(),
                };
                let claims =
                    id_token::verify(&http, id_token.expose_secret(), jwks_uri, expected).await?;
                if let Some(user) = claims.get("fhirUser").and_then(serde_json::Value::as_str) {
                    fhir_user = Some(user.to_owned());
                }
                tracing::debug!(client_id = %self.client_id, "the id_token verified");
            }
            // Endpoints from a statement's oauth-uris come without a JWK Set: the id_token
            // cannot be verified, so none of its claims are used.
            (Some(_), None) => tracing::warn!(
                client_id = %self.client_id,
                "the server names no jwks_uri: the id_token is not verified and its claims are not used"
            ),
            (None, _) => {}
        }
        let tokens = StoredTokens {
            access_token: response.access_token,
            expires_at: response.expires_in.and_then(|d| sent_at.checked_add(d)),
            refresh_token: response.refresh_token,
            scope: response.scope,
            patient: response.patient,
            encounter: response.encounter,
            fhir_user,
        };
        tracing::debug!(
            client_id = %self.client_id,
            scope = tokens.scope.as_deref().unwrap_or(""),
            refresh_token = tokens.refresh_token.is_some(),
            patient = tokens.patient.is_some(),
            "signed in"
        );
        Ok(SignIn {
            tokens,
            requested_scopes: pending.scopes().to_vec(),
            need_patient_banner: response.need_patient_banner,
            smart_style_url: response.smart_style_url,
        })
    }

    /// A session from tokens already held, renewed silently; renewals are not kept anywhere
    /// but in memory (see [`session_with_store`](Self::session_with_store)).
    ///
    /// # Errors
    /// [`AuthError::Config`] when the configuration has no token endpoint.
    pub fn session(&self, tokens: StoredTokens) -> Result<AppLaunchSession, AuthError> {
        self.start_session(tokens, None)
    }

    /// A session whose renewed tokens (and rotated refresh token) are saved to `store` under
    /// `key` as soon as they arrive.
    ///
    /// # Errors
    /// As [`session`](Self::session).
    pub fn session_with_store(
        &self,
        tokens: StoredTokens,
        store: Arc<dyn TokenStore>,
        key: impl Into<String>,
    ) -> Result<AppLaunchSession, AuthError> {
        self.start_session(tokens, Some((store, key.into())))
    }

    fn start_session(
        &self,
        tokens: StoredTokens,
        store: Option<(Arc<dyn TokenStore>, String)>,
    ) -> Result<AppLaunchSession, AuthError> {
        let current = Arc::new(Mutex::new(tokens.clone()));
        let held = current.clone();
        let saving = store.clone();
        let on_tokens: super::oauth::OnTokens = Arc::new(move |response, sent_at| {
            let renewed = {
                let mut held = held.lock().unwrap_or_else(PoisonError::into_inner);
                *held = held.renewed(response, sent_at);
                held.clone()
            };
            if let Some((store, key)) = &saving {
                // The session goes on with the new token; only the next run would need to sign
                // in again, so this is a warning, not a failure of the request in flight.
                if let Err(e) = store.save(key, &renewed) {
                    tracing::warn!(error = %e, "could not keep the renewed tokens");
                }
            }
        });
        let before_refresh = store.map(|(store, key)| {
            let held = current.clone();
            let clock = self.clock.clone();
            let before: super::oauth::BeforeRefresh = Arc::new(move || {
                let (store, key, held, clock) =
                    (store.clone(), key.clone(), held.clone(), clock.clone());
                Box::pin(async move { renewal_of_shared(&*store, &key, &held, &*clock).await })
            });
            before
        });
        let engine = self.engine(on_tokens, before_refresh)?;
        let now = self.clock.now();
        engine.seed(tokens.as_response(now), now);
        Ok(AppLaunchSession { engine, current })
    }

    /// Revokes the session's tokens at the server's `revocation_endpoint` (RFC 7009): the
    /// refresh token (which ends the grant), else the access token. `Ok(false)` when the
    /// server lists no revocation endpoint.
    ///
    /// # Errors
    /// [`AuthError::TokenEndpoint`] or [`AuthError::Transport`] when the revocation fails.
    pub async fn revoke(
        &self,
        http: &HttpContext,
        tokens: &StoredTokens,
    ) -> Result<bool, AuthError> {
        let Some(url) = &self.config.revocation_endpoint else {
            return Ok(false);
        };
        let http = http.clone().allow_insecure_http(self.allow_insecure_http);
        super::transport::check_transport_security(
            "the revocation endpoint",
            url,
            self.allow_insecure_http,
        )?;
        let engine = self.engine(Arc::new(|_: &TokenResponse, _| {}), None)?;
        let (token, hint) = match &tokens.refresh_token {
            Some(refresh) => (refresh.expose_secret(), "refresh_token"),
            None => (tokens.access_token.expose_secret(), "access_token"),
        };
        engine.revoke(&http, url, token, hint).await?;
        Ok(true)
    }
}

/// How long a session waits for another holder of its tokens to finish renewing them.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Before a refresh of a session kept in `store`: takes the store's lock on `key` (waiting while
/// another process holds it) and, when the stored tokens are not the ones this session holds,
/// adopts them: another process renewed the session meanwhile, and its refresh token is the
/// current one.
async fn renewal_of_shared(
    store: &dyn TokenStore,
    key: &str,
    held: &Mutex<StoredTokens>,
    clock: &dyn Clock,
) -> Result<super::oauth::Renewal, AuthError> {
    // Real time, not the session's clock: a test's manual clock would never let the wait end.
    let started = std::time::Instant::now();
    let guard = loop {
        match store.try_lock(key)? {
            TryLock::Held(guard) => break Some(guard),
            TryLock::Unsupported => break None,
            TryLock::Busy => {
                if started.elapsed() > LOCK_WAIT {
                    return Err(AuthError::TokenStore(format!(
                        "another process has held the lock on {key:?}'s tokens for over {} s",
                        LOCK_WAIT.as_secs()
                    )));
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
    };
    let newer = match store.load(key)? {
        Some(stored) => {
            let mut held = held.lock().unwrap_or_else(PoisonError::into_inner);
            let same = |a: &StoredTokens, b: &StoredTokens| {
                a.access_token == b.access_token && a.refresh_token == b.refresh_token
            };
            if same(&stored, &held) {
                None
            } else {
                *held = stored.clone();
                Some(stored.as_response(clock.now()))
            }
        }
        None => None,
    };
    Ok(super::oauth::Renewal {
        _guard: guard,
        newer,
    })
}

/// A signed-in user's session: the [`AuthProvider`] for FHIR requests. Cheap to clone.
#[derive(Clone)]
pub struct AppLaunchSession {
    engine: ClientCredentials,
    current: Arc<Mutex<StoredTokens>>,
}

impl fmt::Debug for AppLaunchSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppLaunchSession")
            .field("client_id", &self.engine.client_id())
            .finish_non_exhaustive()
    }
}

impl AppLaunchSession {
    /// The tokens held now (after any renewal).
    pub fn tokens(&self) -> StoredTokens {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl AuthProvider for AppLaunchSession {
    fn authorization<'a>(
        &'a self,
        http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        self.engine.authorization(http)
    }

    fn rejected(&self, used: &HeaderValue) -> bool {
        self.engine.rejected(used)
    }
}
