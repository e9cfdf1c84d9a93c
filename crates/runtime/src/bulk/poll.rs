//! Waiting for an export job: polling its status URL without hammering it.

use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use super::error::BulkError;
use super::kickoff::ExportJob;
use super::manifest::Manifest;
use super::observer::Progress;
use crate::client::Req;
use crate::{Error, OperationOutcome};

/// How a job's status URL is polled.
///
/// A `Retry-After` from the server (seconds or an HTTP date) is the wait, kept within
/// [`min_interval`](Self::min_interval) and [`max_interval`](Self::max_interval); without one
/// the wait doubles from `min_interval` up to `max_interval`. Transient failures (`429`, `502`,
/// `503`, `504`, an `OperationOutcome` with a transient issue code, a dropped connection) are
/// waited out the same way, at most [`max_transient_failures`](Self::max_transient_failures)
/// in a row. The whole wait ends after [`max_wait`](Self::max_wait).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PollPolicy {
    min_interval: Duration,
    max_interval: Duration,
    max_wait: Duration,
    max_transient_failures: u32,
}

impl Default for PollPolicy {
    /// 1 s to 2 min between polls, 24 h in all, 10 transient failures in a row.
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(120),
            max_wait: Duration::from_secs(24 * 3600),
            max_transient_failures: 10,
        }
    }
}

impl PollPolicy {
    /// The shortest wait between two polls, whatever `Retry-After` says.
    pub fn min_interval(mut self, wait: Duration) -> Self {
        self.min_interval = wait;
        self
    }

    /// The longest wait between two polls.
    pub fn max_interval(mut self, wait: Duration) -> Self {
        self.max_interval = wait.max(self.min_interval);
        self
    }

    /// How long to wait for the job in all.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Transient failures in a row before giving up.
    pub fn max_transient_failures(mut self, failures: u32) -> Self {
        self.max_transient_failures = failures;
        self
    }

    fn clamp(&self, wait: Duration) -> Duration {
        wait.clamp(self.min_interval, self.max_interval.max(self.min_interval))
    }

    fn backoff(&self, step: u32) -> Duration {
        self.clamp(
            self.min_interval
                .saturating_mul(2u32.saturating_pow(step.min(30))),
        )
    }
}

/// What the status URL said.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum JobStatus {
    /// Still running (`202 Accepted`).
    InProgress {
        /// `X-Progress`, as sent.
        progress: Option<String>,
        /// `Retry-After`, as a wait.
        retry_after: Option<Duration>,
    },
    /// Done: the manifest, and the body as sent (saved next to the output).
    Complete {
        /// The parsed manifest.
        manifest: Box<Manifest>,
        /// The body as sent.
        raw: Bytes,
    },
}

/// Issue codes with which a server says "try the status URL again later" (Bulk Data IG:
/// "a server SHOULD use a transient code").
const TRANSIENT_CODES: &[&str] = &[
    "transient",
    "throttled",
    "timeout",
    "lock-error",
    "no-store",
    "incomplete",
];

fn is_transient_outcome(outcome: &OperationOutcome) -> bool {
    !outcome.issue.is_empty()
        && outcome
            .issue
            .iter()
            .all(|i| TRANSIENT_CODES.contains(&i.code.as_str()))
}

/// A poll failed: retry it (with the server's `Retry-After`), or end the job.
enum PollError {
    Transient(Error, Option<Duration>),
    Final(Error),
}

impl ExportJob {
    /// Asks the status URL once.
    ///
    /// # Errors
    /// [`BulkError::JobFailed`] with the server's `OperationOutcome`, [`BulkError::Gone`] for
    /// `404`/`410`, [`BulkError::Manifest`] for an unreadable manifest; request errors as sent
    /// (including transient ones: [`wait`](Self::wait) is the call that retries).
    pub async fn poll(&self) -> Result<JobStatus, Error> {
        self.poll_inner().await.map_err(|e| match e {
            PollError::Transient(e, _) | PollError::Final(e) => e,
        })
    }

    async fn poll_inner(&self) -> Result<JobStatus, PollError> {
        let mut req = Req::new(Method::GET, self.status_url().clone());
        req.headers
            .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let resp = match self.client.execute_once(&req).await {
            Ok(resp) => resp,
            Err((error, retry_after)) => return Err(classify(error, retry_after, self)),
        };
        if resp.status == StatusCode::ACCEPTED {
            let retry_after = resp
                .header(header::RETRY_AFTER)
                .and_then(|v| crate::retry::parse_retry_after(&v, self.client.inner.clock.now()));
            return Ok(JobStatus::InProgress {
                progress: resp
                    .header(http::HeaderName::from_static("x-progress"))
                    .map(|p| p.chars().take(200).collect()),
                retry_after,
            });
        }
        if resp.status != StatusCode::OK {
            return Err(PollError::Final(
                BulkError::Manifest(format!(
                    "the status URL answered {} (expected 202 or 200)",
                    resp.status
                ))
                .into(),
            ));
        }
        let manifest = Manifest::from_json(&resp.body)
            .map_err(|reason| PollError::Final(BulkError::Manifest(reason).into()))?;
        Ok(JobStatus::Complete {
            manifest: Box::new(manifest),
            raw: resp.body,
        })
    }

    /// Polls until the job is complete and returns the manifest (and its body as sent).
    ///
    /// # Errors
    /// [`BulkError::TimedOut`] after [`PollPolicy::max_wait`]; the last error after too many
    /// transient failures; as [`poll`](Self::poll) otherwise.
    pub async fn wait(
        &self,
        policy: &PollPolicy,
        progress: &dyn Progress,
    ) -> Result<(Manifest, Bytes), Error> {
        let inner = &*self.client.inner;
        let started = inner.clock.now();
        let mut step = 0u32;
        let mut transient = 0u32;
        let mut last_progress = None;
        loop {
            let elapsed = inner
                .clock
                .now()
                .duration_since(started)
                .unwrap_or(Duration::ZERO);
            let delay = match self.poll_inner().await {
                Ok(JobStatus::Complete { manifest, raw }) => return Ok((*manifest, raw)),
                Ok(JobStatus::InProgress {
                    progress: server_progress,
                    retry_after,
                }) => {
                    transient = 0;
                    let delay = match retry_after {
                        Some(wait) => policy.clamp(wait),
                        None => {
                            step += 1;
                            policy.backoff(step - 1)
                        }
                    };
                    progress.polled(elapsed, server_progress.as_deref(), delay);
                    if server_progress.is_some() {
                        last_progress = server_progress;
                    }
                    delay
                }
                Err(PollError::Final(e)) => return Err(e),
                Err(PollError::Transient(e, retry_after)) => {
                    transient += 1;
                    if transient > policy.max_transient_failures {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, attempt = transient, "export status poll failed; retrying");
                    match retry_after {
                        Some(wait) => policy.clamp(wait),
                        None => policy.backoff(transient - 1),
                    }
                }
            };
            if elapsed.saturating_add(delay) > policy.max_wait {
                return Err(BulkError::TimedOut {
                    waited: elapsed,
                    progress: last_progress,
                }
                .into());
            }
            inner.sleep.sleep(delay).await;
        }
    }
}

fn classify(error: Error, retry_after: Option<Duration>, job: &ExportJob) -> PollError {
    let status = error.status();
    if matches!(status, Some(StatusCode::NOT_FOUND | StatusCode::GONE)) {
        return PollError::Final(
            BulkError::Gone {
                what: format!("the status URL {}", job.status_url().path()),
                status: status.map_or(404, |s| s.as_u16()),
            }
            .into(),
        );
    }
    match error {
        Error::NotSent { .. } | Error::MaybeSent { .. } => PollError::Transient(error, retry_after),
        Error::Outcome { status, outcome } => {
            // 429 is always "later"; otherwise the outcome decides: an issue code that is not
            // transient means the job failed, even on a 503.
            let transient = status == StatusCode::TOO_MANY_REQUESTS
                || is_transient_outcome(&outcome)
                || (crate::error::is_retryable_status(status) && outcome.issue.is_empty());
            if transient {
                PollError::Transient(Error::Outcome { status, outcome }, retry_after)
            } else {
                PollError::Final(
                    BulkError::JobFailed {
                        status: status.as_u16(),
                        outcome,
                    }
                    .into(),
                )
            }
        }
        Error::Status { status, body } => {
            if crate::error::is_retryable_status(status) || status.is_server_error() {
                PollError::Transient(Error::Status { status, body }, retry_after)
            } else {
                PollError::Final(Error::Status { status, body })
            }
        }
        other => PollError::Final(other),
    }
}
