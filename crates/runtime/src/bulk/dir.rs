//! The output directory of an export: the files, the manifest as sent, and `job.json`, which
//! holds what is needed to continue after an interruption.
//!
//! * A run that stopped without cancelling (a crash, a lost connection) continues the same
//!   job: finished files are kept, `.part` files resume with `Range`.
//! * A job that was cancelled (Ctrl-C, an error) or that the server no longer has is replaced
//!   by a new kick-off with the same parameters. What the earlier job wrote is kept (a `.part`
//!   file up to its last complete line), and the new job's lines for resources already on disk
//!   are skipped, so nothing is lost or written twice.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use super::download::{fetch_all, part_path, plan, DownloadOptions, DownloadSummary, FileTask};
use super::error::BulkError;
use super::kickoff::{ExportJob, ExportParams, Level};
use super::lines::{Lines, Verdict};
use super::observer::Progress;
use crate::{Client, Error};

/// The job record in an output directory.
pub const JOB_FILE: &str = "job.json";
/// The manifest, as the server sent it.
pub const MANIFEST_FILE: &str = "manifest.json";

/// `job.json` is small; anything larger is not ours.
const MAX_JOB_FILE: u64 = 64 * 1024 * 1024;
const FORMAT: u32 = 1;

/// Where the current job of a directory stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Kicked off; waiting for the manifest.
    Polling,
    /// The manifest is saved; files are being downloaded.
    Downloading,
    /// Every file is downloaded.
    Done,
    /// Cancelled on the server (or failed there): resuming kicks off a new job.
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    format: u32,
    level: Level,
    params: ExportParams,
    /// Files written by earlier, cancelled jobs of this export.
    #[serde(default)]
    earlier_files: Vec<FileTask>,
    current: Option<Run>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Run {
    status_url: String,
    state: JobState,
    #[serde(default)]
    manifest: Option<super::Manifest>,
    #[serde(default)]
    files: Vec<FileTask>,
}

/// An export's output directory.
#[derive(Debug)]
pub struct JobDir {
    path: PathBuf,
    record: Record,
}

impl JobDir {
    /// Opens the directory of an earlier run of this export, or starts one.
    ///
    /// # Errors
    /// [`BulkError::DirMismatch`] when the directory holds another export (different level or
    /// parameters) or files without a `job.json`; [`BulkError::Io`].
    pub fn open_or_create(
        path: &Path,
        level: &Level,
        params: &ExportParams,
    ) -> Result<Self, Error> {
        if path.join(JOB_FILE).exists() {
            let dir = Self::open(path)?;
            if dir.record.level != *level || dir.record.params != *params {
                return Err(BulkError::DirMismatch {
                    path: path.to_owned(),
                    reason: format!(
                        "it holds another export ({}); use another directory, or resume it as it is",
                        dir.record.level.path()
                    ),
                }
                .into());
            }
            return Ok(dir);
        }
        std::fs::create_dir_all(path).map_err(|e| BulkError::io(path, e))?;
        let not_empty = std::fs::read_dir(path)
            .map_err(|e| BulkError::io(path, e))?
            .next()
            .is_some();
        if not_empty {
            return Err(BulkError::DirMismatch {
                path: path.to_owned(),
                reason: "the directory is not empty and holds no job.json".into(),
            }
            .into());
        }
        let dir = Self {
            path: path.to_owned(),
            record: Record {
                format: FORMAT,
                level: level.clone(),
                params: params.clone(),
                earlier_files: Vec::new(),
                current: None,
            },
        };
        dir.save()?;
        Ok(dir)
    }

    /// Opens the directory of an earlier run.
    ///
    /// # Errors
    /// [`BulkError::DirMismatch`] without a readable `job.json`; [`BulkError::Io`].
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = path.join(JOB_FILE);
        let meta = std::fs::metadata(&file).map_err(|e| BulkError::io(&file, e))?;
        if meta.len() > MAX_JOB_FILE {
            return Err(mismatch(
                path,
                "job.json is too large to be an export record",
            ));
        }
        let text = std::fs::read(&file).map_err(|e| BulkError::io(&file, e))?;
        let record: Record = serde_json::from_slice(&text)
            .map_err(|e| mismatch(path, &format!("job.json is unreadable: {e}")))?;
        if record.format != FORMAT {
            return Err(mismatch(path, "job.json was written by another version"));
        }
        Ok(Self {
            path: path.to_owned(),
            record,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The export's level.
    pub fn level(&self) -> &Level {
        &self.record.level
    }

    /// The export's parameters.
    pub fn params(&self) -> &ExportParams {
        &self.record.params
    }

    /// The current job's state (`None` before the first kick-off).
    pub fn state(&self) -> Option<JobState> {
        self.record.current.as_ref().map(|r| r.state)
    }

    /// The current job's status URL.
    pub fn status_url(&self) -> Option<&str> {
        self.record.current.as_ref().map(|r| r.status_url.as_str())
    }

    /// Writes `job.json` atomically (a crash leaves the old or the new record, never half).
    fn save(&self) -> Result<(), Error> {
        let target = self.path.join(JOB_FILE);
        let tmp = self.path.join(format!("{JOB_FILE}.tmp"));
        let text = serde_json::to_vec_pretty(&self.record)
            .map_err(|e| BulkError::Manifest(format!("cannot record the job: {e}")))?;
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)
        };
        write().map_err(|e| BulkError::io(&target, e).into())
    }

    fn set_state(&mut self, state: JobState) -> Result<(), Error> {
        if let Some(run) = &mut self.record.current {
            run.state = state;
        }
        self.save()
    }

    /// Cancels the current job on the server (`DELETE` on its status URL) and records that, so
    /// the next run kicks off anew and keeps what is on disk. Nothing to do when no job runs.
    ///
    /// # Errors
    /// The `DELETE`'s error (the job is recorded as cancelled anyway, so a resume starts a
    /// new one); [`BulkError::Io`].
    pub async fn cancel(&mut self, client: &Client) -> Result<(), Error> {
        let Some(run) = &self.record.current else {
            return Ok(());
        };
        if !matches!(run.state, JobState::Polling | JobState::Downloading) {
            return Ok(());
        }
        let sent = match self.job(client) {
            Ok(job) => job.cancel().await,
            Err(e) => Err(e),
        };
        self.set_state(JobState::Cancelled)?;
        sent
    }

    fn job(&self, client: &Client) -> Result<ExportJob, Error> {
        let run = self
            .record
            .current
            .as_ref()
            .ok_or_else(|| Error::from(BulkError::Manifest("no job was kicked off".into())))?;
        let url = Url::parse(&run.status_url)
            .map_err(|e| Error::from(BulkError::Manifest(format!("status URL: {e}"))))?;
        ExportJob::new(client.clone(), url)
    }

    /// Runs the export to the end from wherever it stands (see the module docs); on an error
    /// after the kick-off the job is cancelled on the server and the directory stays
    /// resumable.
    ///
    /// # Errors
    /// As [`ExportRequest::kick_off`](super::ExportRequest::kick_off),
    /// [`ExportJob::wait`] and [`download`](super::download).
    pub async fn run(
        mut self,
        client: &Client,
        options: &DownloadOptions,
        progress: &dyn Progress,
    ) -> Result<DownloadSummary, Error> {
        let mut kick_offs = 0;
        loop {
            let state = self.state();
            match state {
                None | Some(JobState::Cancelled) => {
                    if kick_offs > 0 {
                        return Err(BulkError::Manifest(
                            "the new job's files were gone too; giving up".into(),
                        )
                        .into());
                    }
                    kick_offs += 1;
                    self.keep_earlier_files()?;
                    let job = client
                        .bulk_export(self.record.level.clone())
                        .params(self.record.params.clone())
                        .kick_off()
                        .await?;
                    progress.kicked_off(job.status_url().as_str());
                    self.record.current = Some(Run {
                        status_url: job.status_url().to_string(),
                        state: JobState::Polling,
                        manifest: None,
                        files: Vec::new(),
                    });
                    self.save()?;
                }
                Some(JobState::Polling) => {
                    let job = self.job(client)?;
                    let waited = job.wait(&options.poll, progress).await;
                    let (manifest, raw) = match waited {
                        Ok(done) => done,
                        Err(e) => return Err(self.stop(client, e).await),
                    };
                    let path = self.path.join(MANIFEST_FILE);
                    std::fs::write(&path, &raw).map_err(|e| BulkError::io(path, e))?;
                    let files = plan(&manifest, &self.next_numbers())?;
                    if let Some(run) = &mut self.record.current {
                        run.manifest = Some(manifest);
                        run.files = files;
                        run.state = JobState::Downloading;
                    }
                    self.save()?;
                }
                Some(JobState::Downloading | JobState::Done) => {
                    let Some(run) = self.record.current.clone() else {
                        continue;
                    };
                    let Some(manifest) = run.manifest else {
                        self.set_state(JobState::Polling)?;
                        continue;
                    };
                    progress.manifest(&manifest);
                    let seen = if self.record.earlier_files.is_empty() {
                        None
                    } else {
                        Some(Arc::new(self.seen()?))
                    };
                    let mut tasks = self.record.earlier_files.clone();
                    tasks.extend(run.files.iter().cloned());
                    let fetched = fetch_all(
                        client, &manifest, &tasks, &self.path, options, progress, seen,
                    )
                    .await;
                    match fetched {
                        Ok(files) => {
                            if run.state != JobState::Done {
                                self.set_state(JobState::Done)?;
                                // The files are safe on disk: the server may delete its copy.
                                if let Err(e) = self.job(client)?.cancel().await {
                                    tracing::warn!(error = %e, "could not tell the server the export's files may be deleted");
                                }
                            }
                            return Ok(DownloadSummary { manifest, files });
                        }
                        Err(Error::Bulk(gone)) if matches!(*gone, BulkError::Gone { .. }) => {
                            tracing::warn!(error = %gone, "the job's files are gone; kicking off a new job");
                            self.set_state(JobState::Cancelled)?;
                        }
                        Err(e) => return Err(self.stop(client, e).await),
                    }
                }
            }
        }
    }

    /// An error ended the run: cancel the job on the server, record it, return the error.
    async fn stop(&mut self, client: &Client, error: Error) -> Error {
        if let Err(e) = self.cancel(client).await {
            tracing::warn!(error = %e, "could not cancel the export job on the server");
        }
        error
    }

    /// Moves the cancelled job's files (finished ones, and `.part` files cut at their last
    /// complete line) to the earlier files.
    fn keep_earlier_files(&mut self) -> Result<(), Error> {
        let Some(run) = self.record.current.take() else {
            return Ok(());
        };
        for task in run.files {
            let path = self.path.join(&task.file);
            let part = part_path(&path);
            if !path.exists() && part.exists() {
                cut_at_last_line(&part)?;
                std::fs::rename(&part, &path).map_err(|e| BulkError::io(&path, e))?;
            }
            if path.exists() {
                self.record.earlier_files.push(task);
            }
        }
        self.save()
    }

    /// The numbers the next job's files start at (after the earlier jobs').
    fn next_numbers(&self) -> BTreeMap<(super::FileKind, String), u32> {
        let mut next = BTreeMap::new();
        for task in &self.record.earlier_files {
            *next
                .entry((task.kind, task.resource_type.clone()))
                .or_insert(1) += 1;
        }
        next
    }

    /// The resources the earlier jobs wrote (8 bytes each: 1,000,000 resources cost about
    /// 16 MB). The files are read in chunks, never whole.
    fn seen(&self) -> Result<HashSet<u64>, Error> {
        let mut seen = HashSet::new();
        let mut buf = vec![0u8; 256 * 1024];
        for task in &self.record.earlier_files {
            let path = self.path.join(&task.file);
            let mut lines = Lines::new(task.file.clone(), task.resource_type.clone(), usize::MAX);
            let mut add = |_: &[u8], v: Verdict| {
                if let Verdict::Resource(id) = v {
                    seen.insert(id);
                }
                Ok::<_, ()>(())
            };
            let mut file = std::fs::File::open(&path).map_err(|e| BulkError::io(&path, e))?;
            loop {
                let n = file.read(&mut buf).map_err(|e| BulkError::io(&path, e))?;
                if n == 0 {
                    break;
                }
                lines.feed(&buf[..n], &mut add).ok();
            }
            lines.finish(add).ok();
        }
        Ok(seen)
    }
}

fn mismatch(path: &Path, reason: &str) -> Error {
    BulkError::DirMismatch {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
    .into()
}

/// Cuts a file after its last newline (a line cut by an interruption is dropped; the new job
/// brings that resource again). Reads backwards from the end in chunks, so a large file costs
/// no memory.
fn cut_at_last_line(path: &Path) -> Result<(), Error> {
    let io = |e| Error::from(BulkError::io(path, e));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let mut end = file.metadata().map_err(io)?.len();
    let mut buf = vec![0u8; 64 * 1024];
    let keep = loop {
        if end == 0 {
            break 0;
        }
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(chunk).map_err(io)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            break start + i as u64 + 1;
        }
        end = start;
    };
    file.set_len(keep).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_file_keeps_its_complete_lines() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("f");
        let long_tail = "x".repeat(200_000);
        for (content, kept) in [
            ("a\nb\nhalf".to_owned(), "a\nb\n".to_owned()),
            ("a\nb\n".to_owned(), "a\nb\n".to_owned()),
            ("no newline".to_owned(), String::new()),
            (String::new(), String::new()),
            (format!("a\n{long_tail}"), "a\n".to_owned()),
        ] {
            std::fs::write(&path, &content).expect("write");
            cut_at_last_line(&path).expect("cut");
            assert_eq!(std::fs::read_to_string(&path).expect("read"), kept);
        }
    }
}
