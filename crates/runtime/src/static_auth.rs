//! A fixed bearer token, for servers where the caller already holds a token.

use std::fmt;

use futures::future::BoxFuture;
use http::HeaderValue;

use crate::auth::{AuthError, AuthProvider};

/// Sends the same `Authorization: Bearer <token>` on every request.
///
/// Its `Debug` never shows the token.
#[derive(Clone)]
pub struct StaticBearer {
    header: HeaderValue,
}

impl StaticBearer {
    /// A provider for `token`.
    ///
    /// # Errors
    /// [`AuthError::Config`] when the token holds characters a header cannot carry (the message
    /// does not repeat the token).
    pub fn new(token: impl AsRef<str>) -> Result<Self, AuthError> {
        let mut header =
            HeaderValue::from_str(&format!("Bearer {}", token.as_ref())).map_err(|_| {
                AuthError::Config(
                    "the bearer token holds characters not allowed in an HTTP header".to_owned(),
                )
            })?;
        header.set_sensitive(true);
        Ok(Self { header })
    }
}

impl fmt::Debug for StaticBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticBearer([redacted])")
    }
}

impl AuthProvider for StaticBearer {
    fn authorization<'a>(
        &'a self,
        _http: &'a reqwest::Client,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        Box::pin(std::future::ready(Ok(Some(self.header.clone()))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_errors_never_show_the_token() {
        let auth = StaticBearer::new("hunter2").expect("valid token");
        assert!(!format!("{auth:?}").contains("hunter2"));
        assert!(auth.header.is_sensitive());
        let err = StaticBearer::new("hunter2\n").expect_err("newline is invalid");
        assert!(!err.to_string().contains("hunter2"));
    }
}
