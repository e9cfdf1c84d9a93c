//! Authentication: how the client obtains the `Authorization` header for each request.
//!
//! The [`Client`](crate::Client) asks its [`AuthProvider`] for a header before every request and
//! tells it when the FHIR server answered 401, so a provider can drop a cached token and the
//! client can retry that request once with a fresh one.
//!
//! Providers:
//!
//! * [`BasicAuth`]: HTTP basic, a user name and a [`Password`].
//! * [`BearerToken`]: a static bearer token obtained elsewhere.
//! * [`ClientCredentials`]: the OAuth2 client credentials grant, authenticating the client with
//!   `client_secret_basic`, `client_secret_post` or `private_key_jwt` (SMART Backend Services:
//!   a JWT assertion signed RS384 or ES384 by a [`keys::SigningKey`]). Tokens are cached until
//!   `expires_in` minus a skew, fetched by one request however many callers wait (single flight),
//!   refreshed once on a 401, and token requests are rate limited.
//!
//! Every secret is a newtype ([`ClientSecret`], [`Password`], [`AccessToken`], ...) whose `Debug`
//! and `Display` print `[redacted]`; headers carrying secrets are marked sensitive; no log line
//! or error message carries a secret value.
//!
//! ```no_run
//! use fhirforge_runtime::auth::{keys::SigningKey, ClientCredentials};
//!
//! # fn main() -> Result<(), fhirforge_runtime::auth::AuthError> {
//! let key = SigningKey::from_pem_file("backend-key.pem")?;
//! let auth = ClientCredentials::builder("my-client-id")
//!     .private_key_jwt(key)
//!     .discover("https://fhir.example.org/r4") // reads .well-known/smart-configuration
//!     .scope("system/Patient.rs system/Observation.rs")
//!     .build()?;
//! # let _ = auth;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use futures::future::BoxFuture;
use http::HeaderValue;

pub mod app_launch;
pub mod keys;
mod oauth;
mod secret;
mod smart;
mod transport;

pub use oauth::{
    ClientCredentials, ClientCredentialsBuilder, DEFAULT_RATE_LIMIT, DEFAULT_SKEW,
    MAX_TOKEN_LIFETIME,
};
pub use secret::{
    AccessToken, ClientAssertion, ClientSecret, Password, PrivateKeyPem, RefreshToken,
};
pub use smart::{oauth_uris, OAuthUris, SmartConfiguration};
pub(crate) use transport::is_loopback;
pub use transport::{HttpContext, PlainHttp, MAX_AUTH_BODY};

/// Why credentials could not be obtained. No variant ever carries a secret value.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The configuration is unusable (missing token URL, bad URL, ...).
    #[error("authentication is misconfigured: {0}")]
    Config(String),
    /// A token endpoint or discovery URL over plain http to another host, refused before any
    /// request (see [`PlainHttp`]).
    #[error("{0}")]
    InsecureHttp(PlainHttp),
    /// A signing key could not be loaded, generated, written or used.
    #[error("signing key: {0}")]
    Key(String),
    /// `.well-known/smart-configuration` could not be read.
    #[error("SMART configuration discovery at {url} failed: {reason}")]
    Discovery {
        /// The discovery URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The token endpoint could not be reached.
    #[error("cannot reach the token endpoint {url}: {reason}")]
    Transport {
        /// The token URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The token endpoint refused the request (an OAuth2 error response).
    #[error("the token endpoint {url} refused the token request (HTTP {status}, {error}{}): {hint}",
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    TokenEndpoint {
        /// The token URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The OAuth2 `error` code (or `http_<status>` when the body was not an OAuth2 error).
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
        /// What to fix.
        hint: String,
    },
    /// The token endpoint answered 2xx with something that is not a usable token response.
    #[error("the token endpoint {url} sent an unusable token response: {reason}")]
    InvalidTokenResponse {
        /// The token URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The client-side token request rate guard refused another token request.
    #[error("token request rate limit reached ({max} per {}s); the next token request is allowed in {}s",
        per.as_secs(), retry_after.as_secs().max(1))]
    RateLimited {
        /// Requests allowed per window.
        max: u32,
        /// The window.
        per: Duration,
        /// How long until a request is allowed again.
        retry_after: Duration,
    },
    /// The server does not accept the key's signing algorithm for client assertions.
    #[error("the authorization server does not accept {alg} client assertions (token_endpoint_auth_signing_alg_values_supported: {}); use a key of a supported algorithm (`fhirforge keys --alg ...`)", supported.join(", "))]
    UnsupportedAlgorithm {
        /// The key's algorithm.
        alg: String,
        /// What the server supports.
        supported: Vec<String>,
    },
    /// The server does not offer what the request needs (a SMART capability, a PKCE method).
    #[error("the authorization server does not offer {what} (it lists: {})", listed.join(", "))]
    NotOffered {
        /// What is missing.
        what: String,
        /// What the server lists instead.
        listed: Vec<String>,
    },
    /// A redirect's `state` is missing or not the one sent: a forged or stale redirect.
    #[error("the redirect's state does not match the authorization request (a forged or stale redirect); sign in again")]
    StateMismatch,
    /// The authorization server redirected with an OAuth2 error (the user declined, ...).
    #[error("authorization refused: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    AuthorizationDenied {
        /// The OAuth2 `error` code (`access_denied`, ...).
        error: String,
        /// The server's `error_description`, if any.
        description: Option<String>,
    },
    /// A user's session cannot be renewed (its refresh token was refused or there is none):
    /// the user must sign in again.
    #[error("the session has ended: {reason}; sign in again")]
    SignInAgain {
        /// Why (never a token).
        reason: String,
    },
    /// A token store could not keep or give back a session's tokens.
    #[error("token store: {0}")]
    TokenStore(String),
    /// The OpenID Connect `id_token` from the code exchange failed verification (signature,
    /// issuer, audience, nonce or time): the sign-in is not trusted.
    #[error("the id_token was refused: {0}")]
    IdToken(String),
    /// The server granted fewer scopes than requested (with `require_granted_scopes`).
    #[error("scope not granted: requested `{requested}` but the token endpoint granted `{granted}`; ask the EHR to authorize these scopes for the client, or request fewer")]
    ScopeNotGranted {
        /// Scopes requested.
        requested: String,
        /// Scopes granted.
        granted: String,
    },
}

impl AuthError {
    /// The plain-http refusal this error is, if it is one.
    pub fn insecure_http(&self) -> Option<&PlainHttp> {
        match self {
            AuthError::InsecureHttp(plain) => Some(plain),
            _ => None,
        }
    }
}

/// Supplies the `Authorization` header for FHIR requests.
pub trait AuthProvider: std::fmt::Debug + Send + Sync + 'static {
    /// The header value to send (marked sensitive), or `None` for no header.
    ///
    /// `http` is the client's HTTP pool with its timeout and a body limit, for providers that
    /// call a token endpoint.
    fn authorization<'a>(
        &'a self,
        http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>>;

    /// The FHIR server rejected `used` with 401. Returns whether retrying the request once with
    /// a fresh [`authorization`](Self::authorization) is worthwhile (a cached token was dropped).
    fn rejected(&self, used: &HeaderValue) -> bool {
        let _ = used;
        false
    }
}

impl<T: AuthProvider + ?Sized> AuthProvider for std::sync::Arc<T> {
    fn authorization<'a>(
        &'a self,
        http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        (**self).authorization(http)
    }

    fn rejected(&self, used: &HeaderValue) -> bool {
        (**self).rejected(used)
    }
}

/// A header value marked sensitive (hyper and reqwest then keep it out of their debug output).
pub(crate) fn sensitive_header(value: &str) -> Result<HeaderValue, AuthError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        AuthError::Config("the credential contains characters not allowed in an HTTP header".into())
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// HTTP basic authentication with a user name and password.
#[derive(Clone)]
pub struct BasicAuth {
    user: String,
    header: HeaderValue,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl BasicAuth {
    /// Basic credentials. The user name must not contain `:` (RFC 7617).
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] for a user name with `:` or control characters.
    pub fn new(user: impl Into<String>, password: Password) -> Result<Self, AuthError> {
        let user = user.into();
        if user.contains(':') || user.chars().any(char::is_control) {
            return Err(AuthError::Config(
                "a basic-auth user name must not contain ':' or control characters".into(),
            ));
        }
        let encoded = STANDARD.encode(format!("{user}:{}", password.expose_secret()));
        let header = sensitive_header(&format!("Basic {encoded}"))?;
        Ok(Self { user, header })
    }
}

impl AuthProvider for BasicAuth {
    fn authorization<'a>(
        &'a self,
        _http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        Box::pin(std::future::ready(Ok(Some(self.header.clone()))))
    }
}

/// A static bearer token obtained elsewhere. A 401 is final: there is nothing to refresh.
#[derive(Clone)]
pub struct BearerToken {
    header: HeaderValue,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

impl BearerToken {
    /// A provider that always sends `Authorization: Bearer <token>`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] when the token has characters not allowed in a header.
    pub fn new(token: AccessToken) -> Result<Self, AuthError> {
        Ok(Self {
            header: sensitive_header(&format!("Bearer {}", token.expose_secret()))?,
        })
    }
}

impl AuthProvider for BearerToken {
    fn authorization<'a>(
        &'a self,
        _http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        Box::pin(std::future::ready(Ok(Some(self.header.clone()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn basic_and_bearer_headers_are_sensitive_and_redacted() {
        let http = HttpContext::new().unwrap();
        let basic = BasicAuth::new("Aladdin", Password::new("open sesame")).unwrap();
        let header = basic.authorization(&http).await.unwrap().unwrap();
        assert_eq!(header, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(header.is_sensitive());
        assert!(!format!("{basic:?}").contains("open sesame"));
        assert!(!basic.rejected(&header));

        let bearer = BearerToken::new(AccessToken::new("tok-123")).unwrap();
        let header = bearer.authorization(&http).await.unwrap().unwrap();
        assert_eq!(header, "Bearer tok-123");
        assert!(header.is_sensitive());
        assert!(!format!("{bearer:?}").contains("tok-123"));
        assert!(!bearer.rejected(&header));
    }

    #[test]
    fn bad_basic_user_and_bad_token_are_errors_not_panics() {
        assert!(BasicAuth::new("a:b", Password::new("x")).is_err());
        let err = BearerToken::new(AccessToken::new("line\nbreak-secret")).unwrap_err();
        assert!(!err.to_string().contains("break-secret"));
    }
}
