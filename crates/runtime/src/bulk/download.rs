//! Downloading the files of a manifest: streamed to disk, checked line by line, resumed, with
//! the access token kept on allowed origins.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::BulkError;
use super::lines::{Lines, TooLong, Verdict};
use super::manifest::Manifest;
use super::observer::Progress;
use super::poll::PollPolicy;
use crate::{Client, Error};

/// Bytes buffered before a write reaches the file.
const WRITE_BUFFER: usize = 256 * 1024;

/// Chunks received but not yet checked, per file (a chunk is what one read of the connection
/// gave, at most a few hundred KiB).
const CHECK_QUEUE: usize = 8;

/// Which list of the manifest a file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// `output`: the exported data.
    Output,
    /// `error`: `OperationOutcome`s for what the server could not export.
    Error,
    /// `deleted`: `Bundle`s naming deleted resources.
    Deleted,
}

impl FileKind {
    /// The subdirectory of the output directory (`""`, `error`, `deleted`).
    pub fn subdir(self) -> &'static str {
        match self {
            FileKind::Output => "",
            FileKind::Error => "error",
            FileKind::Deleted => "deleted",
        }
    }
}

/// How files are downloaded.
#[derive(Debug, Clone)]
#[must_use]
pub struct DownloadOptions {
    pub(crate) concurrency: usize,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) max_line_bytes: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_attempts: u32,
    pub(crate) poll: PollPolicy,
}

impl Default for DownloadOptions {
    /// 4 files at a time, no other origin allowed the token, lines up to 64 MiB, 60 s without a
    /// byte ends an attempt, 5 attempts per file, the default [`PollPolicy`].
    fn default() -> Self {
        Self {
            concurrency: 4,
            allowed_origins: Vec::new(),
            max_line_bytes: 64 * 1024 * 1024,
            idle_timeout: Duration::from_secs(60),
            max_attempts: 5,
            poll: PollPolicy::default(),
        }
    }
}

impl DownloadOptions {
    /// Files downloaded at the same time (at least 1).
    pub fn concurrency(mut self, files: usize) -> Self {
        self.concurrency = files.max(1);
        self
    }

    /// Also send the access token to file URLs on `origin`'s origin (scheme, host and port),
    /// when the manifest says `requiresAccessToken`. Only for storage you trust with the token.
    pub fn allow_origin(mut self, origin: &Url) -> Self {
        self.allowed_origins
            .push(origin.origin().ascii_serialization());
        self
    }

    /// The longest line accepted, in bytes.
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes;
        self
    }

    /// How long a download may go without receiving a byte before the attempt is abandoned
    /// (and resumed).
    pub fn idle_timeout(mut self, wait: Duration) -> Self {
        self.idle_timeout = wait;
        self
    }

    /// Attempts per file, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How the status URL is polled (used by [`ExportRequest::run`](super::ExportRequest::run)).
    pub fn poll(mut self, policy: PollPolicy) -> Self {
        self.poll = policy;
        self
    }
}

/// A line that is not one resource of the declared type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidLine {
    /// The local file (relative to the output directory).
    pub file: String,
    /// The 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What one file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileReport {
    /// Which manifest list it comes from.
    pub kind: FileKind,
    /// The declared resource type.
    pub resource_type: String,
    /// The local file (relative to the output directory).
    pub file: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Resources of the declared type on disk.
    pub resources: u64,
    /// The manifest's `count`, if it gave one.
    pub expected: Option<u64>,
    /// The first bad lines (at most 100).
    pub invalid_lines: Vec<InvalidLine>,
    /// Bad lines in all.
    pub invalid_total: u64,
    /// Lines not written because an earlier job of this export already wrote that resource.
    pub duplicates_skipped: u64,
    /// Bytes already on disk from an earlier, interrupted attempt (kept, not downloaded again).
    pub resumed_at: u64,
    /// The server ignored a range request, so the file was downloaded again from its start.
    pub restarted: bool,
}

/// Every file of an export.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DownloadSummary {
    /// The job's manifest.
    pub manifest: Manifest,
    /// One report per file, in manifest order (files of earlier jobs of a resumed export
    /// first).
    pub files: Vec<FileReport>,
}

impl DownloadSummary {
    /// Resources in `output` files.
    pub fn resources(&self) -> u64 {
        self.of(FileKind::Output).map(|f| f.resources).sum()
    }

    /// Bytes on disk.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Resources in `output` files per type.
    pub fn per_type(&self) -> BTreeMap<&str, u64> {
        let mut map = BTreeMap::new();
        for f in self.of(FileKind::Output) {
            *map.entry(f.resource_type.as_str()).or_default() += f.resources;
        }
        map
    }

    /// `OperationOutcome`s in `error` files.
    pub fn error_outcomes(&self) -> u64 {
        self.of(FileKind::Error).map(|f| f.resources).sum()
    }

    /// Bad lines in all files.
    pub fn invalid_lines(&self) -> u64 {
        self.files.iter().map(|f| f.invalid_total).sum()
    }

    /// Files whose resource count differs from the manifest's `count`.
    pub fn count_mismatches(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| {
            f.expected
                .is_some_and(|n| n != f.resources + f.duplicates_skipped)
        })
    }

    fn of(&self, kind: FileKind) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(move |f| f.kind == kind)
    }
}

/// One file to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileTask {
    pub(crate) kind: FileKind,
    pub(crate) resource_type: String,
    pub(crate) url: String,
    /// Relative to the output directory.
    pub(crate) file: String,
    pub(crate) expected: Option<u64>,
}

/// Downloads every file of `manifest` into `dir` (`Patient.001.ndjson`,
/// `error/OperationOutcome.001.ndjson`, `deleted/Bundle.001.ndjson`), resuming `.part` files
/// an earlier call left there. [`ExportRequest::run`](super::ExportRequest::run) adds the
/// polling, the saved job and the final `DELETE`.
///
/// # Errors
/// [`BulkError::TokenForOtherOrigin`] before anything is sent when a file needs the token on an
/// origin that is not allowed; [`BulkError::Manifest`] for a file URL or type that cannot be
/// used; [`BulkError::Download`], [`BulkError::Gone`] or [`BulkError::Io`] for the first file
/// that failed (the others stop; everything written stays resumable).
pub async fn download(
    client: &Client,
    manifest: &Manifest,
    dir: impl AsRef<Path>,
    options: &DownloadOptions,
    progress: &dyn Progress,
) -> Result<DownloadSummary, Error> {
    let tasks = plan(manifest, &BTreeMap::new())?;
    let files = fetch_all(
        client,
        manifest,
        &tasks,
        dir.as_ref(),
        options,
        progress,
        None,
    )
    .await?;
    Ok(DownloadSummary {
        manifest: manifest.clone(),
        files,
    })
}

/// Local names for the manifest's files; `first` gives, per kind and type, the number the
/// first file takes (earlier jobs of a resumed export used the ones below).
pub(crate) fn plan(
    manifest: &Manifest,
    first: &BTreeMap<(FileKind, String), u32>,
) -> Result<Vec<FileTask>, Error> {
    let mut next: BTreeMap<(FileKind, String), u32> = first.clone();
    let mut tasks = Vec::new();
    for (kind, f) in manifest.files() {
        crate::interactions::check_type(&f.resource_type).map_err(|_| {
            let shown: String = f.resource_type.chars().take(64).collect();
            BulkError::Manifest(format!("{shown:?} is not a resource type name"))
        })?;
        let n = next.entry((kind, f.resource_type.clone())).or_insert(1);
        let name = format!("{}.{:03}.ndjson", f.resource_type, n);
        *n += 1;
        let file = match kind.subdir() {
            "" => name,
            sub => format!("{sub}/{name}"),
        };
        tasks.push(FileTask {
            kind,
            resource_type: f.resource_type.clone(),
            url: f.url.clone(),
            file,
            expected: f.count,
        });
    }
    Ok(tasks)
}

/// Whether the token goes with `url`: only when the manifest requires it and the origin is the
/// FHIR server's or allowed.
fn token_for(
    client: &Client,
    manifest: &Manifest,
    url: &Url,
    options: &DownloadOptions,
) -> Result<bool, BulkError> {
    if !manifest.requires_access_token {
        return Ok(false);
    }
    let origin = url.origin().ascii_serialization();
    if url.origin() == client.inner.base.origin() || options.allowed_origins.contains(&origin) {
        Ok(true)
    } else {
        Err(BulkError::TokenForOtherOrigin { origin })
    }
}

/// Resolves and checks every file URL, then downloads the files `concurrency` at a time.
pub(crate) async fn fetch_all(
    client: &Client,
    manifest: &Manifest,
    tasks: &[FileTask],
    dir: &Path,
    options: &DownloadOptions,
    progress: &dyn Progress,
    seen: Option<Arc<HashSet<u64>>>,
) -> Result<Vec<FileReport>, Error> {
    // Every URL and token decision is checked before the first byte is fetched, so a hostile
    // manifest fails whole instead of after some downloads.
    let mut checked = Vec::with_capacity(tasks.len());
    for task in tasks {
        let url = client.inner.base.join(&task.url).map_err(|e| {
            BulkError::Manifest(format!("file URL for {}: {e}", task.resource_type))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BulkError::Manifest(format!(
                "file URL for {} is not http or https",
                task.resource_type
            ))
            .into());
        }
        let token = token_for(client, manifest, &url, options)?;
        checked.push((task, url, token));
    }
    for sub in ["error", "deleted"] {
        if checked.iter().any(|(t, _, _)| t.kind.subdir() == sub) {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| BulkError::io(path, e))?;
        }
    }
    // `try_collect` stops at the first failure and drops the downloads still running; what
    // they wrote stays in their `.part` files, resumable.
    futures::stream::iter(checked)
        .map(|(task, url, token)| {
            let seen = seen.clone();
            async move {
                let fetch = Fetch {
                    client,
                    task,
                    url,
                    token,
                    options,
                    progress,
                    path: dir.join(&task.file),
                    seen,
                };
                let report = fetch.run().await?;
                progress.file_done(&report);
                Ok(report)
            }
        })
        .buffered(options.concurrency)
        .try_collect()
        .await
}

/// The part file beside `path`.
pub(crate) fn part_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    path.with_file_name(name)
}

struct Fetch<'a> {
    client: &'a Client,
    task: &'a FileTask,
    url: Url,
    token: bool,
    options: &'a DownloadOptions,
    progress: &'a dyn Progress,
    path: PathBuf,
    /// Resources earlier jobs wrote: lines for them are skipped, and the file is written line
    /// by line (so it is not byte-equal to the server's and is never resumed by range).
    seen: Option<Arc<HashSet<u64>>>,
}

/// How one attempt ended.
enum AttemptEnd {
    Complete,
    /// Retry after a wait (the server's `Retry-After`, or the backoff).
    Retry(Error, Option<Duration>),
}

impl Fetch<'_> {
    fn io(&self, path: &Path, e: std::io::Error) -> Error {
        BulkError::io(path, e).into()
    }

    fn failed(&self, reason: String, source: Option<Error>) -> Error {
        BulkError::Download {
            file: self.task.file.clone(),
            reason,
            source: source.map(Box::new),
        }
        .into()
    }

    fn lines(&self) -> Lines {
        Lines::new(
            self.task.file.clone(),
            self.task.resource_type.clone(),
            self.options.max_line_bytes,
        )
    }

    fn report(&self, lines: &Lines, bytes: u64) -> FileReport {
        FileReport {
            kind: self.task.kind,
            resource_type: self.task.resource_type.clone(),
            file: self.task.file.clone(),
            bytes,
            resources: lines.resources,
            expected: self.task.expected,
            invalid_lines: lines.invalid.clone(),
            invalid_total: lines.invalid_total,
            duplicates_skipped: 0,
            resumed_at: 0,
            restarted: false,
        }
    }

    /// Feeds a file on disk through `lines` (to count and check what an earlier run wrote).
    fn scan(&self, path: &Path, lines: &mut Lines) -> Result<u64, Error> {
        let mut file = File::open(path).map_err(|e| self.io(path, e))?;
        let mut buf = vec![0u8; WRITE_BUFFER];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(|e| self.io(path, e))?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
            lines
                .feed(&buf[..n], |_, _| Ok::<_, ()>(()))
                .map_err(|e| self.too_long(e.line))?
                .ok();
        }
    }

    fn too_long(&self, line: u64) -> Error {
        BulkError::LineTooLong {
            file: self.task.file.clone(),
            line,
            limit: self.options.max_line_bytes,
        }
        .into()
    }

    async fn run(self) -> Result<FileReport, Error> {
        let mut lines = self.lines();
        if self.path.exists() {
            let bytes = self.scan(&self.path, &mut lines)?;
            lines.finish(|_, _| Ok::<_, ()>(())).ok();
            let mut report = self.report(&lines, bytes);
            report.resumed_at = bytes;
            self.progress.downloaded(bytes, lines.resources);
            return Ok(report);
        }
        let part = part_path(&self.path);
        let mut offset = 0u64;
        if self.seen.is_none() && part.exists() {
            offset = self.scan(&part, &mut lines)?;
            self.progress.downloaded(offset, lines.resources);
        }
        let resumed_at = offset;
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&part)
            .map_err(|e| self.io(&part, e))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        out.get_mut()
            .set_len(offset)
            .and_then(|()| out.get_mut().seek(SeekFrom::Start(offset)).map(drop))
            .map_err(|e| self.io(&part, e))?;
        let check = match &self.seen {
            None => Check::Beside(Checker::start(lines)),
            Some(seen) => Check::Dedup(lines, seen.clone()),
        };
        let mut state = State {
            check,
            offset,
            duplicates: 0,
            restarted: false,
        };
        let inner = &*self.client.inner;
        let mut failures = 0u32;
        let mut auth_retried = false;
        loop {
            let auth = if self.token {
                self.client.auth_header().await?
            } else {
                None
            };
            let end = self
                .attempt(auth.as_ref(), &mut out, &mut state, &part)
                .await?;
            let (error, retry_after) = match end {
                AttemptEnd::Complete => break,
                AttemptEnd::Retry(error, retry_after) => (error, retry_after),
            };
            if error.status() == Some(StatusCode::UNAUTHORIZED) {
                let fresh = !auth_retried
                    && auth
                        .as_ref()
                        .is_some_and(|used| self.client.auth_rejected(used));
                if !fresh {
                    return Err(self.failed(error.to_string(), Some(error)));
                }
                auth_retried = true;
                tracing::debug!(file = %self.task.file, "download refused the token; retrying once with a fresh one");
                continue;
            }
            failures += 1;
            if failures >= self.options.max_attempts {
                return Err(
                    self.failed(format!("{error} (after {failures} attempts)"), Some(error))
                );
            }
            let wait = retry_after.unwrap_or_else(|| {
                Duration::from_secs(1)
                    .saturating_mul(2u32.saturating_pow(failures - 1))
                    .min(Duration::from_secs(30))
            });
            tracing::warn!(file = %self.task.file, attempt = failures, offset = state.offset, error = %error, "download interrupted; resuming");
            inner.sleep.sleep(wait).await;
        }
        let mut lines = match state.check {
            Check::Dedup(lines, _) => lines,
            Check::Beside(checker) => {
                let (lines, resources) =
                    checker.finish().await.map_err(|e| self.too_long(e.line))?;
                if resources > 0 {
                    self.progress.downloaded(0, resources);
                }
                lines
            }
        };
        let seen = self.seen.as_deref();
        let mut dup = 0u64;
        let mut write_err = None;
        lines
            .finish(|line, verdict| {
                if let Some(seen) = seen {
                    if let Err(e) = write_line(&mut out, seen, line, verdict, &mut dup) {
                        write_err = Some(e);
                    }
                }
                Ok::<_, ()>(())
            })
            .ok();
        state.duplicates += dup;
        if let Some(e) = write_err {
            return Err(self.io(&part, e));
        }
        out.flush().map_err(|e| self.io(&part, e))?;
        let bytes = out
            .get_ref()
            .metadata()
            .map_err(|e| self.io(&part, e))?
            .len();
        drop(out);
        std::fs::rename(&part, &self.path).map_err(|e| self.io(&self.path, e))?;
        let mut report = self.report(&lines, bytes);
        // In de-duplicating mode the checked lines include the skipped ones.
        report.resources -= state.duplicates;
        report.duplicates_skipped = state.duplicates;
        report.resumed_at = resumed_at;
        report.restarted = state.restarted;
        Ok(report)
    }

    /// One request: sends it (with `Range` when bytes are already there), streams the body
    /// to `out` and through the line checker.
    async fn attempt(
        &self,
        auth: Option<&HeaderValue>,
        out: &mut BufWriter<File>,
        state: &mut State,
        part: &Path,
    ) -> Result<AttemptEnd, Error> {
        let mut request = self
            .client
            .streaming_request(Method::GET, self.url.clone(), auth)
            .header(header::ACCEPT, "application/fhir+ndjson");
        if state.offset > 0 {
            // A range of the identity encoding: gzip would make the offset meaningless.
            request = request
                .header(header::RANGE, format!("bytes={}-", state.offset))
                .header(header::ACCEPT_ENCODING, "identity");
        }
        let idle = self.options.idle_timeout;
        let response = match tokio::time::timeout(idle, request.send()).await {
            Err(_) => {
                return Ok(AttemptEnd::Retry(
                    self.failed(format!("no response within {}s", idle.as_secs()), None),
                    None,
                ))
            }
            Ok(Err(e)) => return Ok(AttemptEnd::Retry(Error::transport(e), None)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        match status {
            StatusCode::OK if state.offset > 0 => {
                // The server ignored the range: start the file again, so nothing is repeated.
                tracing::debug!(file = %self.task.file, "server ignored the range; downloading the file again");
                out.flush().map_err(|e| self.io(part, e))?;
                out.get_mut()
                    .set_len(0)
                    .and_then(|()| out.get_mut().seek(SeekFrom::Start(0)).map(drop))
                    .map_err(|e| self.io(part, e))?;
                state.offset = 0;
                match &mut state.check {
                    Check::Dedup(lines, _) => lines.reset(),
                    Check::Beside(checker) => checker
                        .send(Feed::Reset)
                        .await
                        .map_err(|e| self.too_long(e.line))?,
                }
                state.duplicates = 0;
                state.restarted = true;
            }
            StatusCode::OK => {}
            StatusCode::PARTIAL_CONTENT => {
                let start = response
                    .headers()
                    .get(header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(content_range_start);
                if start != Some(state.offset) {
                    return Err(self.failed(
                        format!(
                            "asked for bytes from {}, got a range starting at {start:?}",
                            state.offset
                        ),
                        None,
                    ));
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE if state.offset > 0 => {
                // Everything was already there (the earlier run stopped before renaming).
                return Ok(AttemptEnd::Complete);
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                return Err(BulkError::Gone {
                    what: format!("the file URL for {}", self.task.file),
                    status: status.as_u16(),
                }
                .into())
            }
            _ => {
                let headers = response.headers().clone();
                let retry_after = headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        crate::retry::parse_retry_after(v, self.client.inner.clock.now())
                    });
                let body = crate::body::read_bounded(&mut { response }, 64 * 1024)
                    .await
                    .unwrap_or_default();
                let error = crate::client::status_error(status, &headers, &body);
                if status == StatusCode::UNAUTHORIZED
                    || crate::error::is_retryable_status(status)
                    || status.is_server_error()
                {
                    return Ok(AttemptEnd::Retry(error, retry_after));
                }
                return Err(self.failed(error.to_string(), Some(error)));
            }
        }
        let mut response = response;
        loop {
            let chunk = match tokio::time::timeout(idle, response.chunk()).await {
                Err(_) => {
                    out.flush().map_err(|e| self.io(part, e))?;
                    return Ok(AttemptEnd::Retry(
                        self.failed(format!("no data for {}s", idle.as_secs()), None),
                        None,
                    ));
                }
                Ok(Err(e)) => {
                    out.flush().map_err(|e| self.io(part, e))?;
                    return Ok(AttemptEnd::Retry(Error::transport(e), None));
                }
                Ok(Ok(None)) => return Ok(AttemptEnd::Complete),
                Ok(Ok(Some(chunk))) => chunk,
            };
            let bytes = chunk.len() as u64;
            let resources = match &mut state.check {
                Check::Beside(checker) => {
                    out.write_all(&chunk).map_err(|e| self.io(part, e))?;
                    checker
                        .send(Feed::Chunk(chunk))
                        .await
                        .map_err(|e| self.too_long(e.line))?;
                    checker.newly_checked()
                }
                Check::Dedup(lines, seen) => {
                    let before = lines.resources;
                    let mut dup = 0;
                    lines
                        .feed(&chunk, |line, verdict| {
                            write_line(out, seen, line, verdict, &mut dup)
                        })
                        .map_err(|e| self.too_long(e.line))?
                        .map_err(|e| self.io(part, e))?;
                    state.duplicates += dup;
                    lines.resources - before
                }
            };
            state.offset += bytes;
            self.progress.downloaded(bytes, resources);
        }
    }
}

/// Download state that survives a retry.
struct State {
    check: Check,
    /// Bytes of the server's file received (the next range starts here).
    offset: u64,
    duplicates: u64,
    restarted: bool,
}

/// Where a file's lines are checked.
enum Check {
    /// As each chunk arrives, in de-duplicating mode: a line is written only if `seen` (the
    /// resources earlier jobs wrote) does not hold it.
    Dedup(Lines, Arc<HashSet<u64>>),
    /// On a blocking thread, while this task goes on receiving and writing: checking costs more
    /// CPU than receiving and writing the same bytes, so this keeps a second core busy instead
    /// of slowing the download (the file is written as received either way).
    Beside(Checker),
}

/// What the checking thread is sent.
enum Feed {
    Chunk(Bytes),
    /// The file is being downloaded again from its start.
    Reset,
}

/// A [`Lines`] running on tokio's blocking pool, fed through a short queue (so a slow check
/// holds the download back instead of buffering it).
struct Checker {
    queue: tokio::sync::mpsc::Sender<Feed>,
    thread: tokio::task::JoinHandle<Result<Lines, TooLong>>,
    /// Resources checked so far (never reset; progress gets the difference).
    checked: Arc<AtomicU64>,
    reported: u64,
}

impl Checker {
    fn start(lines: Lines) -> Self {
        // Only the de-duplicating mode needs the verdicts' identities.
        let mut lines = lines.without_identities();
        let (queue, mut rx) = tokio::sync::mpsc::channel(CHECK_QUEUE);
        let checked = Arc::new(AtomicU64::new(0));
        let counter = checked.clone();
        // Ends when the queue is closed (the download is over or abandoned) or at a line too
        // long.
        let thread = tokio::task::spawn_blocking(move || {
            while let Some(feed) = rx.blocking_recv() {
                match feed {
                    Feed::Chunk(chunk) => {
                        let before = lines.resources;
                        lines.feed(&chunk, |_, _| Ok::<_, ()>(()))?.ok();
                        counter.fetch_add(lines.resources - before, Ordering::Relaxed);
                    }
                    Feed::Reset => lines.reset(),
                }
            }
            Ok(lines)
        });
        Self {
            queue,
            thread,
            checked,
            reported: 0,
        }
    }

    /// Queues `feed`, waiting while the queue is full. A line too long ended the check.
    async fn send(&mut self, feed: Feed) -> Result<(), TooLong> {
        if self.queue.send(feed).await.is_ok() {
            return Ok(());
        }
        // The thread stopped while the queue was open: only a line too long does that.
        match join(&mut self.thread).await {
            Err(e) => Err(e),
            Ok(lines) => Err(TooLong {
                line: lines.line_no + 1,
            }),
        }
    }

    /// Resources checked since the last call.
    fn newly_checked(&mut self) -> u64 {
        let now = self.checked.load(Ordering::Relaxed);
        let new = now - self.reported;
        self.reported = now;
        new
    }

    /// Closes the queue and waits for the rest to be checked: the lines, and the resources
    /// not yet reported.
    async fn finish(mut self) -> Result<(Lines, u64), TooLong> {
        drop(self.queue);
        let lines = join(&mut self.thread).await?;
        let now = self.checked.load(Ordering::Relaxed);
        Ok((lines, now - self.reported))
    }
}

/// The checking thread's result (its panic, resumed here).
async fn join(
    thread: &mut tokio::task::JoinHandle<Result<Lines, TooLong>>,
) -> Result<Lines, TooLong> {
    match thread.await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// De-duplicating mode: writes `line` unless `seen` holds its resource.
fn write_line(
    out: &mut impl Write,
    seen: &HashSet<u64>,
    line: &[u8],
    verdict: Verdict,
    duplicates: &mut u64,
) -> std::io::Result<()> {
    match verdict {
        Verdict::Blank => Ok(()),
        Verdict::Resource(id) if seen.contains(&id) => {
            *duplicates += 1;
            Ok(())
        }
        _ => {
            out.write_all(line)?;
            out.write_all(b"\n")
        }
    }
}

/// The first byte of `Content-Range: bytes 100-199/200`.
fn content_range_start(value: &str) -> Option<u64> {
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_starts() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes 0-0/*"), Some(0));
        assert_eq!(content_range_start("items 1-2"), None);
    }

    fn checker(max_line: usize) -> Checker {
        Checker::start(Lines::new(
            "Patient.001.ndjson".into(),
            "Patient".into(),
            max_line,
        ))
    }

    #[tokio::test]
    async fn the_checking_thread_counts_lines_across_chunks_and_resets() {
        let mut c = checker(1024);
        for chunk in [
            &b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Pat"[..],
            b"ient\",\"id\":\"b\"}\n{bad}\n",
        ] {
            c.send(Feed::Chunk(Bytes::copy_from_slice(chunk)))
                .await
                .expect("queued");
        }
        c.send(Feed::Reset).await.expect("queued");
        c.send(Feed::Chunk(Bytes::from_static(
            b"{\"resourceType\":\"Patient\"}\n{\"resourceType\":\"Patient\"}",
        )))
        .await
        .expect("queued");
        let (mut lines, unreported) = c.finish().await.expect("no long line");
        // Two before the reset, one after; the last line has no newline yet.
        assert_eq!(unreported, 3);
        assert_eq!(
            (lines.resources, lines.invalid_total, lines.line_no),
            (1, 0, 1)
        );
        lines.finish(|_, _| Ok::<_, ()>(())).expect("sink");
        assert_eq!(lines.resources, 2);
    }

    #[tokio::test]
    async fn a_line_too_long_stops_the_checking_thread_and_is_reported() {
        let mut c = checker(16);
        let mut result = c
            .send(Feed::Chunk(Bytes::from_static(b"{}\n0123456789")))
            .await;
        // The thread stops when the second line passes 16 bytes; a later send (or finish)
        // reports it.
        for _ in 0..(CHECK_QUEUE + 4) {
            if result.is_err() {
                break;
            }
            result = c.send(Feed::Chunk(Bytes::from_static(b"0123456789"))).await;
        }
        let line = match result {
            Err(e) => e.line,
            Ok(()) => c.finish().await.err().map(|e| e.line).unwrap_or(0),
        };
        assert_eq!(line, 2);
    }

    #[test]
    fn files_are_named_by_kind_type_and_number() {
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "transactionTime": "2026-01-01T00:00:00Z",
            "request": "x",
            "requiresAccessToken": false,
            "output": [
                {"type": "Patient", "url": "https://a/1"},
                {"type": "Observation", "url": "https://a/2"},
                {"type": "Patient", "url": "https://a/3"}
            ],
            "error": [{"type": "OperationOutcome", "url": "https://a/4"}]
        }))
        .expect("manifest");
        let mut first = BTreeMap::new();
        first.insert((FileKind::Output, "Patient".to_owned()), 3);
        let names: Vec<String> = plan(&manifest, &first)
            .expect("plan")
            .into_iter()
            .map(|t| t.file)
            .collect();
        assert_eq!(
            names,
            [
                "Patient.003.ndjson",
                "Observation.001.ndjson",
                "Patient.004.ndjson",
                "error/OperationOutcome.001.ndjson"
            ]
        );
        let mut hostile = manifest.clone();
        hostile.output[0].resource_type = "../../etc/passwd".into();
        assert!(plan(&hostile, &BTreeMap::new()).is_err());
    }
}
