//! The streamable HTTP transport: loopback only, and every request must carry
//! `Authorization: Bearer <token>`. The token is compared in constant time and never logged by
//! this crate.

use crate::server::FhirMcp;
use crate::Error;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// The HTTP transport's bearer token.
#[derive(Clone)]
pub struct Token(Arc<str>);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl Token {
    /// A token the caller chose (from an environment variable): at least 16 characters.
    ///
    /// # Errors
    /// [`Error::Token`] when it is shorter.
    pub fn new(text: &str) -> Result<Self, Error> {
        if text.chars().count() < 16 {
            return Err(Error::Token("must be at least 16 characters long"));
        }
        if !text.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::Token("must be printable ASCII without spaces"));
        }
        Ok(Self(text.into()))
    }

    /// A fresh random token (32 bytes from the OS, hex).
    ///
    /// # Errors
    /// [`Error::Token`] when the OS has no randomness to give.
    pub fn generate() -> Result<Self, Error> {
        use rand_core::RngCore as _;
        let mut bytes = [0u8; 32];
        rand_core::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| Error::Token("could not be generated: no OS randomness"))?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self(hex.into()))
    }

    /// The token.
    ///
    /// # Security Warning
    /// Do not log or format the returned value beyond handing it to the user once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn matches(&self, header: Option<&[u8]>) -> bool {
        let Some(given) = header.and_then(|h| h.strip_prefix(b"Bearer ")) else {
            return false;
        };
        let want = self.0.as_bytes();
        // Constant time over the expected length: no early exit on the first difference.
        let mut diff = u8::from(given.len() != want.len());
        for (i, w) in want.iter().enumerate() {
            diff |= w ^ given.get(i).copied().unwrap_or(0);
        }
        diff == 0
    }
}

/// Refuses any address that is not loopback.
///
/// # Errors
/// [`Error::NotLoopback`].
pub fn check_loopback(addr: SocketAddr) -> Result<(), Error> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(Error::NotLoopback { addr })
    }
}

async fn require_token(token: Token, request: Request, next: Next) -> Response {
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if token.matches(header) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a bearer token is required (see the token printed by fhirforge mcp --http)",
    )
        .into_response()
}

/// Binds `addr` (loopback only) and serves MCP at `/mcp` until the process ends. `ready` is
/// called with the bound address (port 0 picks one) before the first request is accepted.
///
/// # Errors
/// [`Error::NotLoopback`] before anything is bound; [`Error::Io`] when binding or serving fails.
pub async fn serve_http(
    server: FhirMcp,
    addr: SocketAddr,
    token: Token,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), Error> {
    check_loopback(addr)?;
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let router =
        axum::Router::new()
            .nest_service("/mcp", service)
            .layer(axum::middleware::from_fn(
                move |req: Request, next: Next| require_token(token.clone(), req, next),
            ));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Io {
            what: format!("binding {addr}"),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| Error::Io {
        what: "reading the bound address".into(),
        source,
    })?;
    ready(bound);
    axum::serve(listener, router)
        .await
        .map_err(|source| Error::Io {
            what: "serving HTTP".into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(check_loopback("127.0.0.1:0".parse().expect("addr")).is_ok());
        assert!(check_loopback("[::1]:8080".parse().expect("addr")).is_ok());
        assert!(matches!(
            check_loopback("0.0.0.0:8080".parse().expect("addr")),
            Err(Error::NotLoopback { .. })
        ));
        assert!(check_loopback("192.168.1.5:80".parse().expect("addr")).is_err());
    }

    #[test]
    fn tokens_match_exactly_and_never_print() {
        let t = Token::new("0123456789abcdef-token").expect("long enough");
        assert!(t.matches(Some(b"Bearer 0123456789abcdef-token")));
        assert!(!t.matches(Some(b"Bearer 0123456789abcdef-toke")));
        assert!(!t.matches(Some(b"Bearer 0123456789abcdef-tokenX")));
        assert!(!t.matches(Some(b"0123456789abcdef-token")));
        assert!(!t.matches(None));
        assert!(!format!("{t:?}").contains("0123"));
        assert!(Token::new("short").is_err());
        let g = Token::generate().expect("randomness");
        assert_eq!(g.expose().len(), 64);
    }
}
