//! The one bounded reader of HTTP response bodies: FHIR responses, token responses, SMART
//! discovery, and the readers' live fetch of `/metadata` (`fhirforge-parse`) all use it, so a
//! hostile or broken server cannot make any of them hold more than its limit.

use bytes::Bytes;

/// Why a body could not be read whole (a closed set: a body is either too large or cut off).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More than the limit: refused before reading (`Content-Length`, then `announced`) or
    /// while streaming (`announced` is `None`).
    #[error("the response body is larger than the limit of {limit} bytes{}", announced.map(|n| format!(" ({n} bytes announced)")).unwrap_or_default())]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
        /// The `Content-Length` the server announced, when that is what was refused.
        announced: Option<u64>,
    },
    /// The connection failed while reading.
    #[error("the connection failed while the response body was read")]
    Transport(#[source] reqwest::Error),
}

/// Reads a response body, never holding more than `limit` bytes: a `Content-Length` over the
/// limit is refused before anything is read, and a body without one is counted as it streams.
///
/// # Errors
/// [`BodyError::TooLarge`] and [`BodyError::Transport`].
pub async fn read_bounded(
    response: &mut reqwest::Response,
    limit: u64,
) -> Result<Bytes, BodyError> {
    if let Some(len) = response.content_length().filter(|&len| len > limit) {
        return Err(BodyError::TooLarge {
            limit,
            announced: Some(len),
        });
    }
    // Trust the announced length only up to a modest size: a lying server must not make us
    // reserve the whole limit up front.
    let capacity = response.content_length().unwrap_or(8 * 1024).min(1 << 20);
    let mut body = Vec::with_capacity(capacity as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge {
                limit,
                announced: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
