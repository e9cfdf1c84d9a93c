//! Who may talk to the studio: the launch token, `Host` and `Origin` checks, and the security
//! headers on every response.
//!
//! The token travels once in the printed URL (`?token=`, as Jupyter does); the first request
//! trades it for an `HttpOnly`, `SameSite=Strict` cookie and a redirect that drops it from the
//! address bar. Reads then need the cookie (or the `X-Studio-Token` header); state-changing
//! requests need the header itself, which a cross-site form cannot set, so a cookie alone never
//! changes anything (no CSRF). `Host` and `Origin` must name this loopback listener, so a
//! DNS-rebinding page on another name is refused even though its requests reach the socket.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, Method, StatusCode};
use std::fmt;
use std::sync::Arc;

/// The header a page sends the token in.
pub(crate) const TOKEN_HEADER: &str = "x-studio-token";

/// The Content-Security-Policy on every response: scripts and styles only from files this
/// server serves (never inline), requests only back to it, no frames, no forms elsewhere.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The launch token: 32 random bytes, hex.
#[derive(Clone)]
pub(crate) struct Token(Arc<str>);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl Token {
    pub(crate) fn generate() -> Result<Self, crate::Error> {
        use rand_core::RngCore as _;
        let mut bytes = [0u8; 32];
        rand_core::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| crate::Error::Randomness)?;
        Ok(Self(
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into(),
        ))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant time over the expected length: no early exit on the first difference.
    pub(crate) fn matches(&self, given: &[u8]) -> bool {
        let want = self.0.as_bytes();
        let mut diff = u8::from(given.len() != want.len());
        for (i, w) in want.iter().enumerate() {
            diff |= w ^ given.get(i).copied().unwrap_or(0);
        }
        diff == 0
    }
}

/// What the guard checks against: the token and the listener's port.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    pub(crate) token: Token,
    pub(crate) port: u16,
}

impl Guard {
    /// The cookie's name carries the port: cookies are shared between ports of one host, and two
    /// studios on one machine must not overwrite each other's.
    fn cookie_name(&self) -> String {
        format!("fhirforge_studio_{}", self.port)
    }

    fn host_ok(&self, host: Option<&HeaderValue>) -> bool {
        let Some(host) = host.and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let port = self.port.to_string();
        ["127.0.0.1", "localhost"]
            .iter()
            .any(|name| host.strip_prefix(name).and_then(|r| r.strip_prefix(':')) == Some(&port))
    }

    /// A missing `Origin` is a same-origin navigation or a tool; a present one must be us.
    fn origin_ok(&self, origin: Option<&HeaderValue>) -> bool {
        let Some(origin) = origin else { return true };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let port = self.port;
        origin == format!("http://127.0.0.1:{port}") || origin == format!("http://localhost:{port}")
    }

    fn cookie_token<'a>(&self, request: &'a Request) -> Option<&'a [u8]> {
        let name = self.cookie_name();
        request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
            .find_map(|pair| {
                let pair = pair.trim_ascii();
                let (k, v) = pair.split_at(pair.iter().position(|b| *b == b'=')?);
                (k == name.as_bytes()).then(|| &v[1..])
            })
    }
}

/// `?token=...` in a query, if any.
fn query_token(query: &str) -> Option<&str> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

fn refuse(status: StatusCode, why: &'static str) -> Response {
    (status, why).into_response()
}

/// The middleware: every request passes here before any route.
pub(crate) async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let response = admit(&guard, request, next).await;
    with_security_headers(response)
}

async fn admit(guard: &Guard, request: Request, next: Next) -> Response {
    if !guard.host_ok(request.headers().get(header::HOST)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "unexpected Host header (DNS rebinding?)",
        );
    }
    if !guard.origin_ok(request.headers().get(header::ORIGIN)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "requests from another origin are refused",
        );
    }
    // The launch URL: trade the token for a cookie, and drop it from the address bar.
    if let Some(given) = request.uri().query().and_then(query_token) {
        if request.method() == Method::GET && guard.token.matches(given.as_bytes()) {
            let cookie = format!(
                "{}={}; HttpOnly; SameSite=Strict; Path=/",
                guard.cookie_name(),
                guard.token.as_str()
            );
            let mut response = (StatusCode::SEE_OTHER, "").into_response();
            let headers = response.headers_mut();
            headers.insert(header::LOCATION, HeaderValue::from_static("/"));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                headers.insert(header::SET_COOKIE, v);
            }
            return response;
        }
        return refuse(StatusCode::FORBIDDEN, "wrong token");
    }
    let header_token = request
        .headers()
        .get(TOKEN_HEADER)
        .map(HeaderValue::as_bytes);
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    // State-changing requests need the header: a cookie is sent by cross-site forms too.
    let given = if safe {
        header_token.or_else(|| guard.cookie_token(&request))
    } else {
        header_token
    };
    match given {
        None => refuse(
            StatusCode::UNAUTHORIZED,
            "the studio needs its launch token: open the URL fhirforge studio printed",
        ),
        Some(given) if !guard.token.matches(given) => refuse(StatusCode::FORBIDDEN, "wrong token"),
        Some(_) => next.run(request).await,
    }
}

fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard {
            token: Token("0123456789abcdef".into()),
            port: 4000,
        }
    }

    #[test]
    fn hosts_and_origins_must_name_this_listener() {
        let g = guard();
        let hv = |s: &'static str| HeaderValue::from_static(s);
        assert!(g.host_ok(Some(&hv("127.0.0.1:4000"))));
        assert!(g.host_ok(Some(&hv("localhost:4000"))));
        assert!(!g.host_ok(Some(&hv("evil.example:4000"))));
        assert!(!g.host_ok(Some(&hv("127.0.0.1:40001"))));
        assert!(!g.host_ok(None));
        assert!(g.origin_ok(None));
        assert!(g.origin_ok(Some(&hv("http://127.0.0.1:4000"))));
        assert!(!g.origin_ok(Some(&hv("http://evil.example"))));
        assert!(!g.origin_ok(Some(&hv("null"))));
    }

    #[test]
    fn tokens_match_exactly_and_never_print() {
        let t = guard().token;
        assert!(t.matches(b"0123456789abcdef"));
        assert!(!t.matches(b"0123456789abcde"));
        assert!(!t.matches(b"0123456789abcdefX"));
        assert!(!format!("{t:?}").contains("0123"));
        assert_eq!(query_token("a=1&token=xyz"), Some("xyz"));
    }
}
