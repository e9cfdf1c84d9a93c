//! Authentication: how the client obtains the `Authorization` header for each request.
//!
//! The [`Client`](crate::Client) asks its [`AuthProvider`] for a header before every request and
//! tells it when the FHIR server answered 401, so a provider can drop a cached token and the
//! client can retry that request once with a fresh one.

use futures::future::BoxFuture;
use http::HeaderValue;

/// Why credentials could not be obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The configuration is unusable (missing token URL, unreadable key, ...).
    #[error("authentication is misconfigured: {0}")]
    Config(String),
}

/// Supplies the `Authorization` header for FHIR requests.
pub trait AuthProvider: std::fmt::Debug + Send + Sync + 'static {
    /// The header value to send (marked sensitive by the client), or `None` for no header.
    ///
    /// `http` is the client's own HTTP pool, for providers that call a token endpoint.
    fn authorization<'a>(
        &'a self,
        http: &'a reqwest::Client,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>>;

    /// The FHIR server rejected `used` with 401. Returns whether retrying the request once with
    /// a fresh [`authorization`](Self::authorization) is worthwhile (a cached token was dropped).
    fn rejected(&self, used: &HeaderValue) -> bool {
        let _ = used;
        false
    }
}
