//! FHIR Bulk Data export (`$export`, HL7 Bulk Data Access IG v2): kick-off, status polling,
//! the manifest, and streamed, resumable downloads.
//!
//! The flow has traps that lose data in naive clients, and each has its place here:
//!
//! * **Kick-off** ([`ExportRequest`]): `GET` (or `POST` with a `Parameters` resource) on
//!   `[base]/$export`, `[base]/Patient/$export` or `[base]/Group/[id]/$export` with
//!   `Prefer: respond-async`; the server answers `202 Accepted` and a `Content-Location` status
//!   URL, which is all the client needs to find the job again ([`ExportJob`]).
//! * **Polling** ([`ExportJob::wait`], [`PollPolicy`]): `Retry-After` (seconds or an HTTP date)
//!   is honoured within bounds, a bounded exponential backoff is used without it, `X-Progress`
//!   is reported, a total time limit ends the wait; `429` and `5xx` answers are retried; a
//!   `4xx`/`5xx` with an `OperationOutcome` ends the job with that outcome.
//! * **The manifest** ([`Manifest`]): typed, and saved as sent next to the output.
//! * **Downloads** ([`download`], [`DownloadOptions`]): bounded concurrency, streamed to disk
//!   chunk by chunk (never a whole file in memory), gzip accepted, a partly written file resumed
//!   with `Range` (or downloaded again from the start when the server ignores ranges), every
//!   line checked to be one JSON resource of the declared type; a bad line is reported with its
//!   file and line number.
//! * **Credentials**: the access token goes only to file URLs for which the manifest says
//!   `requiresAccessToken: true` **and** whose origin is the FHIR server's or one the caller
//!   allowed ([`DownloadOptions::allow_origin`]). A manifest that asks for the token elsewhere
//!   fails with [`BulkError::TokenForOtherOrigin`] before anything is sent there, so a hostile
//!   manifest cannot harvest it.
//! * **Cancel** ([`ExportJob::cancel`]): `DELETE` on the status URL.
//! * **Resume** ([`JobDir`]): the output directory holds `job.json` (the request, the status
//!   URL, the manifest, what is done), so an interrupted export continues where it stopped.
//!
//! ```no_run
//! # async fn demo(client: fhirforge_runtime::Client) -> Result<(), fhirforge_runtime::Error> {
//! use fhirforge_runtime::bulk::{DownloadOptions, Level, NoProgress};
//!
//! let summary = client
//!     .bulk_export(Level::Group("f1".into()))
//!     .types(["Patient", "Observation"])
//!     .since("2026-01-01T00:00:00Z")
//!     .run("export-out", &DownloadOptions::default(), &NoProgress)
//!     .await?;
//! println!("{} resources in {} files", summary.resources(), summary.files.len());
//! # Ok(()) }
//! ```

mod dir;
mod download;
mod error;
mod kickoff;
mod lines;
mod manifest;
mod observer;
mod poll;

pub use dir::{JobDir, JobState, JOB_FILE, MANIFEST_FILE};
pub use download::{download, DownloadOptions, DownloadSummary, FileKind, FileReport, InvalidLine};
pub use error::BulkError;
pub use kickoff::{ExportJob, ExportParams, ExportRequest, Level};
pub use manifest::{Manifest, ManifestFile};
pub use observer::{NoProgress, Progress};
pub use poll::{JobStatus, PollPolicy};
