//! Progress callbacks, so a CLI can draw bars without the runtime knowing about terminals.

use std::time::Duration;

use super::download::FileReport;
use super::manifest::Manifest;

/// Receives progress as an export runs. Every method has an empty default; calls come from
/// several download tasks at once, so implementations keep them cheap (atomics, a bar).
pub trait Progress: Send + Sync {
    /// The job was kicked off (or found again when resuming).
    fn kicked_off(&self, status_url: &str) {
        let _ = status_url;
    }
    /// The status URL said "in progress".
    fn polled(&self, elapsed: Duration, server_progress: Option<&str>, next_poll_in: Duration) {
        let _ = (elapsed, server_progress, next_poll_in);
    }
    /// The manifest arrived (or was read back from the directory).
    fn manifest(&self, manifest: &Manifest) {
        let _ = manifest;
    }
    /// Bytes arrived for a file, holding `resources` complete lines.
    fn downloaded(&self, bytes: u64, resources: u64) {
        let _ = (bytes, resources);
    }
    /// A file is complete (or was already complete on disk).
    fn file_done(&self, report: &FileReport) {
        let _ = report;
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
