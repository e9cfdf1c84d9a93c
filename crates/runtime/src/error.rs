//! The one error type of the runtime.
//!
//! Variants are split by phase, as in smithy-rs: a request that was certainly **not sent** can be
//! repeated safely, one that **may have been sent** can only be repeated when it is idempotent.
//! No variant carries request headers, bodies or full URLs, so no token or patient data reaches an
//! error message.

use std::fmt;

use http::StatusCode;

use crate::outcome::OperationOutcome;

/// Everything that can go wrong talking to a FHIR server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status and a FHIR `OperationOutcome`.
    #[error("FHIR server returned {status}: {}", outcome.summary())]
    Outcome {
        /// The HTTP status.
        status: StatusCode,
        /// The parsed `OperationOutcome`.
        outcome: Box<OperationOutcome>,
    },
    /// The server answered with an error status and a body that is not an `OperationOutcome`
    /// (an HTML error page from a proxy, plain text, nothing).
    #[error("FHIR server returned {status} without an OperationOutcome ({body})")]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The start of the body.
        body: Box<ErrorBody>,
    },
    /// The request was certainly not sent (connection refused, DNS, TLS handshake, invalid
    /// request): repeating it is always safe.
    #[error("request was not sent")]
    NotSent {
        /// The transport error (its URL removed).
        #[source]
        source: TransportError,
    },
    /// The request may have reached the server (connection dropped, timeout): repeat it only if
    /// it is idempotent.
    #[error("request may have been sent, but no complete response arrived")]
    MaybeSent {
        /// The transport error (its URL removed).
        #[source]
        source: TransportError,
    },
    /// A response body could not be decoded.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// A search value is invalid (which parameter, why); nothing was sent.
    #[error("invalid search: {0}")]
    Search(#[from] crate::search::SearchError),
    /// Credentials could not be obtained; nothing was sent. (Boxed: the auth error is large
    /// and rare, and `Error` stays small.)
    #[error("authentication failed: {0}")]
    Auth(Box<crate::auth::AuthError>),
    /// The client has credentials and its base URL is plain http to another host: refused when
    /// the client is built, unless it opted in (see [`crate::auth::PlainHttp`]).
    #[error("{0}")]
    InsecureHttp(crate::auth::PlainHttp),
    /// A paging link points to another origin than the client's base URL; it was not followed,
    /// so the credentials were not handed to another host.
    #[error("refused to follow a link to another origin ({origin})")]
    CrossOrigin {
        /// The link's origin (scheme, host, port), without path or query.
        origin: String,
    },
    /// The response body exceeded the configured maximum.
    #[error("response body larger than the configured maximum of {limit} bytes")]
    TooLarge {
        /// The configured maximum, in bytes.
        limit: u64,
    },
    /// An argument is invalid (a resource type, id, URL or bundle); nothing was sent.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was invalid (`resource type`, `id`, ...).
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A Bulk Data export failed beyond a single request (see [`crate::bulk::BulkError`]).
    #[error("{0}")]
    Bulk(Box<crate::bulk::BulkError>),
}

/// A failure below HTTP (connect, TLS, timeout, a connection dropped mid-body), without the
/// request URL. Opaque, as reqwest's own error is, so the HTTP library is not part of this
/// crate's public API; the predicates say what a caller needs to decide, and
/// [`source`](std::error::Error::source) keeps the underlying chain for the message.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportKind,
    may_have_been_sent: bool,
    source: Box<dyn std::error::Error + Send + Sync>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Connect,
    Timeout,
    Other,
}

impl TransportError {
    /// Classifies a reqwest error and strips its URL (which may hold patient data).
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let kind = if err.is_connect() {
            TransportKind::Connect
        } else if err.is_timeout() {
            TransportKind::Timeout
        } else {
            TransportKind::Other
        };
        // A connect failure or a request that could not be built never left this machine.
        let may_have_been_sent = !(err.is_connect() || err.is_builder());
        Self {
            kind,
            may_have_been_sent,
            source: Box::new(err.without_url()),
        }
    }

    /// Whether the time limit ran out.
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportKind::Timeout
    }

    /// Whether no connection could be made (refused, DNS, TLS handshake).
    pub fn is_connect(&self) -> bool {
        self.kind == TransportKind::Connect
    }

    /// Whether the request may have reached the server (so repeating it is safe only when it is
    /// idempotent).
    pub fn may_have_been_sent(&self) -> bool {
        self.may_have_been_sent
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "the connection failed",
        })
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// The start of an error response body that is not an `OperationOutcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The response's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body as text (lossy UTF-8), cut at [`ErrorBody::MAX_LEN`] bytes.
    pub text: String,
    /// The full body length in bytes.
    pub len: usize,
}

impl ErrorBody {
    /// How much of an error body is kept.
    pub const MAX_LEN: usize = 4096;

    pub(crate) fn new(content_type: Option<String>, body: &[u8]) -> Self {
        let mut end = body.len().min(Self::MAX_LEN);
        // Cut on a UTF-8 boundary when the body is text.
        while end > 0 && end < body.len() && std::str::from_utf8(&body[..end]).is_err() {
            end -= 1;
        }
        Self {
            content_type,
            text: String::from_utf8_lossy(&body[..end]).into_owned(),
            len: body.len(),
        }
    }

    /// Whether `text` holds less than the whole body.
    pub fn is_truncated(&self) -> bool {
        self.text.len() < self.len
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.content_type {
            Some(ct) => write!(f, "{ct}, {} bytes", self.len),
            None => write!(f, "{} bytes", self.len),
        }
    }
}

/// A body that could not be decoded, with the JSON path where decoding stopped.
#[derive(Debug, thiserror::Error)]
#[error("could not decode {what} at {path}: {reason}")]
pub struct DecodeError {
    /// What was being decoded (`Bundle`, `resource`, ...).
    pub what: &'static str,
    /// JSON path of the failure (`.` for the root, `entry[3].resource`).
    pub path: String,
    /// Why.
    pub reason: String,
    /// The JSON error, if the body was not JSON.
    #[source]
    pub source: Option<serde_json::Error>,
}

impl Error {
    /// The plain-http refusal this error is, directly or as an authentication error: callers
    /// that expose the opt-in under another name (a CLI flag) say so with [`PlainHttp::reason`].
    ///
    /// [`PlainHttp::reason`]: crate::auth::PlainHttp::reason
    pub fn insecure_http(&self) -> Option<&crate::auth::PlainHttp> {
        match self {
            Error::InsecureHttp(plain) => Some(plain),
            Error::Auth(auth) => auth.insecure_http(),
            _ => None,
        }
    }
}

impl From<crate::auth::AuthError> for Error {
    fn from(err: crate::auth::AuthError) -> Self {
        Error::Auth(Box::new(err))
    }
}

impl Error {
    pub(crate) fn decode(
        what: &'static str,
        path: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Decode(Box::new(DecodeError {
            what,
            path: path.into(),
            reason: reason.into(),
            source: None,
        }))
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            what,
            reason: reason.into(),
        }
    }

    /// Classifies a reqwest error by phase and strips its URL (which may hold patient data).
    pub(crate) fn transport(err: reqwest::Error) -> Self {
        let source = TransportError::from_reqwest(err);
        if source.may_have_been_sent() {
            Error::MaybeSent { source }
        } else {
            Error::NotSent { source }
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Outcome { status, .. } | Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's `OperationOutcome`, when it sent one.
    pub fn operation_outcome(&self) -> Option<&OperationOutcome> {
        match self {
            Error::Outcome { outcome, .. } => Some(outcome),
            _ => None,
        }
    }

    /// The start of a non-FHIR error body, when the server sent one.
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Error::Status { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether the failure is transient: a transport error, a timeout, or status 429, 502, 503
    /// or 504. Whether a request may be repeated also depends on it being idempotent (see
    /// [`RetryPolicy`](crate::RetryPolicy)).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::NotSent { .. } | Error::MaybeSent { .. } => true,
            Error::Outcome { status, .. } | Error::Status { status, .. } => {
                is_retryable_status(*status)
            }
            _ => false,
        }
    }

    /// Whether the request certainly did not reach the server.
    pub fn is_not_sent(&self) -> bool {
        matches!(
            self,
            Error::NotSent { .. }
                | Error::Search(_)
                | Error::Auth(_)
                | Error::InvalidInput { .. }
                | Error::CrossOrigin { .. }
        )
    }

    /// Whether the error is a timeout.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::NotSent { source } | Error::MaybeSent { source } => source.is_timeout(),
            _ => false,
        }
    }
}

pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(
            size_of::<Error>() <= 64,
            "size_of::<Error>() = {}",
            size_of::<Error>()
        );
    }

    #[test]
    fn error_body_is_cut_on_a_char_boundary() {
        let body = "é".repeat(ErrorBody::MAX_LEN); // 2 bytes each
        let kept = ErrorBody::new(Some("text/plain".into()), body.as_bytes());
        assert_eq!(kept.len, body.len());
        assert!(kept.is_truncated());
        assert_eq!(kept.text.len(), ErrorBody::MAX_LEN);
        assert!(kept.text.chars().all(|c| c == 'é'));
        assert_eq!(
            kept.to_string(),
            format!("text/plain, {} bytes", body.len())
        );
    }

    #[tokio::test]
    async fn transport_errors_are_opaque_classified_and_keep_their_chain() {
        // Nothing listens on port 9 of loopback (discard): the connection is refused.
        let err = reqwest::get("http://127.0.0.1:9/Patient?name=secret")
            .await
            .expect_err("refused");
        let err = Error::transport(err);
        let Error::NotSent { source } = &err else {
            panic!("{err:?}")
        };
        assert!(source.is_connect() && !source.is_timeout() && !source.may_have_been_sent());
        assert!(err.is_not_sent() && err.is_retryable() && !err.is_timeout());
        let mut chain = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        assert!(chain.len() >= 3, "{chain:?}");
        assert!(!chain.iter().any(|c| c.contains("secret")), "{chain:?}");
    }

    #[test]
    fn retryable_statuses() {
        for (code, retry) in [
            (400, false),
            (404, false),
            (409, false),
            (412, false),
            (429, true),
            (500, false),
            (502, true),
            (503, true),
            (504, true),
        ] {
            let status = StatusCode::from_u16(code).expect("valid code");
            let err = Error::Status {
                status,
                body: Box::new(ErrorBody::new(None, b"")),
            };
            assert_eq!(err.is_retryable(), retry, "{code}");
            assert_eq!(err.status(), Some(status));
        }
    }
}
