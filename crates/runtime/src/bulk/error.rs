//! What can go wrong in an export beyond a single request's [`Error`](crate::Error).

use std::path::PathBuf;
use std::time::Duration;

use crate::OperationOutcome;

/// An export failure. Carried by [`Error::Bulk`](crate::Error::Bulk); never holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The server did not start an asynchronous job (no `202 Accepted`, no status URL).
    #[error("the server did not start a bulk export (HTTP {status}): {reason}")]
    NotAsync {
        /// The kick-off's status.
        status: u16,
        /// What was missing.
        reason: String,
    },
    /// The status URL reported that the job failed.
    #[error("the export job failed (HTTP {status}): {}", outcome.summary())]
    JobFailed {
        /// The status URL's answer.
        status: u16,
        /// The server's `OperationOutcome`.
        outcome: Box<OperationOutcome>,
    },
    /// The job did not finish within the time limit ([`PollPolicy::max_wait`](super::PollPolicy::max_wait)).
    #[error("the export job did not finish within {}s (last progress: {})", waited.as_secs(), progress.as_deref().unwrap_or("none reported"))]
    TimedOut {
        /// How long the client waited.
        waited: Duration,
        /// The last `X-Progress` seen.
        progress: Option<String>,
    },
    /// The manifest (or the status URL) is not usable.
    #[error("unusable export manifest: {0}")]
    Manifest(String),
    /// The manifest asks for the access token on a file URL whose origin is neither the FHIR
    /// server's nor one the caller allowed; nothing was sent there.
    #[error("the manifest asks for the access token at {origin}, which is not the FHIR server's origin; the token was not sent (allow that origin explicitly if you trust it)")]
    TokenForOtherOrigin {
        /// The file URL's origin (scheme, host, port).
        origin: String,
    },
    /// A file could not be downloaded.
    #[error("downloading {file} failed: {reason}")]
    Download {
        /// The local file name.
        file: String,
        /// What went wrong (the server's outcome, the transport error, ...).
        reason: String,
        /// The failure, when it is a request error.
        #[source]
        source: Option<Box<crate::Error>>,
    },
    /// The server no longer has the job or its files (`404`/`410`).
    #[error("the server no longer has this export ({what} answered HTTP {status}); start a new export (resuming the directory kicks one off)")]
    Gone {
        /// Which URL.
        what: String,
        /// `404` or `410`.
        status: u16,
    },
    /// A line was longer than [`DownloadOptions::max_line_bytes`](super::DownloadOptions::max_line_bytes).
    #[error("{file}: line {line} is longer than {limit} bytes")]
    LineTooLong {
        /// The local file name.
        file: String,
        /// The 1-based line number.
        line: u64,
        /// The limit.
        limit: usize,
    },
    /// Reading or writing the output directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The output directory holds another export (a different level or parameters), or a
    /// `job.json` this version cannot read.
    #[error("{}: {reason}", path.display())]
    DirMismatch {
        /// The directory.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
}

impl BulkError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BulkError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<BulkError> for crate::Error {
    fn from(e: BulkError) -> Self {
        crate::Error::Bulk(Box::new(e))
    }
}
