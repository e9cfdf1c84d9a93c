//! `fhirforge export`: a FHIR Bulk Data export into a directory, with progress, Ctrl-C that
//! cancels the job on the server, and resume.

use crate::connect::{connect, name_the_insecure_http_flag, runtime, ConnectArgs, Connection};
use crate::connect::output::{report_outcome_lines, Out, OutputArgs};
use crate::exit::{ExportProblems, Interrupted, InvalidInput};
use crate::term::clean;
use anyhow::Context;
use fhirforge_runtime::bulk::{
    DownloadOptions, DownloadSummary, FileKind, FileReport, JobDir, Level, Manifest, PollPolicy,
    Progress,
};
use fhirforge_runtime::bulk::ExportParams;
use indicatif::{HumanBytes, HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use url::Url;

/// Export data in bulk (FHIR Bulk Data `$export`) into a directory of NDJSON files.
///
/// Kicks off the export at system level (--system, the default), for all patients (--patient)
/// or for one group's members (--group ID), waits for the server (honouring Retry-After and
/// showing X-Progress), then downloads every file, checking each line is one resource of the
/// declared type. The directory keeps `job.json` and `manifest.json`: an interrupted export
/// continues with `--resume DIR`. Ctrl-C cancels the job on the server (DELETE) and leaves the
/// directory resumable; resuming kicks off a new job and skips what is already on disk.
///
/// Unless --no-check, the capability statement must declare an export at that level.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Export every patient's data (`Patient/$export`)
    #[arg(long, conflicts_with_all = ["group", "system", "resume"])]
    patient: bool,

    /// Export the data of this group's members (`Group/[id]/$export`)
    #[arg(long, value_name = "ID", value_parser = crate::connect::id_arg, conflicts_with_all = ["system", "resume"])]
    group: Option<String>,

    /// Export everything the client may see (`$export`; the default level)
    #[arg(long, conflicts_with = "resume")]
    system: bool,

    /// Only these resource types (`_type`), comma-separated or repeated
    #[arg(long = "type", value_name = "TYPE,..", value_delimiter = ',', conflicts_with = "resume")]
    types: Vec<String>,

    /// Only resources changed after this FHIR instant (`_since`, 2026-01-01T00:00:00Z)
    #[arg(long, value_name = "INSTANT", conflicts_with = "resume")]
    since: Option<String>,

    /// Only resources changed before this FHIR instant (`_until`)
    #[arg(long, value_name = "INSTANT", conflicts_with = "resume")]
    until: Option<String>,

    /// A search that narrows one type (`_typeFilter`, `Observation?category=laboratory`);
    /// repeatable
    #[arg(long, value_name = "QUERY", conflicts_with = "resume")]
    type_filter: Vec<String>,

    /// Only these elements (`_elements`), comma-separated or repeated
    #[arg(long, value_name = "ELEMENT,..", value_delimiter = ',', conflicts_with = "resume")]
    elements: Vec<String>,

    /// Only this patient's data (the `patient` parameter; the kick-off becomes a POST);
    /// repeatable
    #[arg(long, value_name = "ID", conflicts_with_all = ["system", "resume"])]
    for_patient: Vec<String>,

    /// Kick off with POST and a `Parameters` resource instead of GET
    #[arg(long, conflicts_with = "resume")]
    post: bool,

    /// The output directory (created; an earlier run of the same export there is resumed)
    #[arg(long, value_name = "DIR", required_unless_present = "resume", conflicts_with = "resume")]
    out: Option<PathBuf>,

    /// Continue the export in this directory, with the level and parameters it was started with
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,

    /// Files downloaded at the same time
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,

    /// Also send the access token to file URLs on this origin, when the manifest asks for it
    /// (storage you trust with the token); repeatable
    #[arg(long, value_name = "URL")]
    allow_origin: Vec<String>,

    /// Give up waiting for the server after this many seconds
    #[arg(long, value_name = "SECS", default_value_t = 24 * 3600)]
    max_wait: u64,

    /// The longest wait between two status checks, even when the server's Retry-After asks
    /// for more (some servers say 120 s for jobs that take one)
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    max_poll_interval: u64,

    /// No progress view and no informational messages on stderr (the summary and problems are
    /// still printed)
    #[arg(long, short)]
    quiet: bool,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge export`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let out = Out::new(&OutputArgs {
        ndjson: false,
        quiet: args.quiet,
    });
    let mut options = DownloadOptions::default()
        .concurrency(usize::from(args.concurrency))
        .poll(
            PollPolicy::default()
                .max_wait(Duration::from_secs(args.max_wait))
                .max_interval(Duration::from_secs(args.max_poll_interval)),
        );
    for origin in &args.allow_origin {
        let url = Url::parse(origin)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| InvalidInput(format!("--allow-origin {origin:?} is not an http(s) URL")))?;
        options = options.allow_origin(&url);
    }
    let (dir_path, level, params) = match &args.resume {
        Some(dir) => {
            let job = JobDir::open(dir).with_context(|| format!("resuming {}", dir.display()))?;
            (dir.clone(), job.level().clone(), job.params().clone())
        }
        None => (
            args.out.clone().unwrap_or_default(),
            level(&args),
            params(&args),
        ),
    };
    runtime()?
        .block_on(async {
            let conn = connect(&args.connect, &out, !args.connect.no_check).await?;
            check_declared(&conn, &level)?;
            let dir = JobDir::open_or_create(&dir_path, &level, &params)
                .with_context(|| format!("opening {}", dir_path.display()))?;
            let view = View::new(out.quiet());
            let run = dir.run(&conn.client, &options, &view);
            let result = tokio::select! {
                result = run => result,
                _ = tokio::signal::ctrl_c() => {
                    view.finish();
                    return interrupted(&conn, &dir_path).await;
                }
            };
            view.finish();
            let summary = result.with_context(|| {
                format!(
                    "exporting {} (the directory {} is resumable with --resume)",
                    level.path(),
                    dir_path.display()
                )
            })?;
            report(&summary, &dir_path, &out)
        })
        .map_err(name_the_insecure_http_flag)
        .map_err(|e| crate::signin::name_the_login_command(e, args.connect.profile.as_deref()))
}

fn level(args: &Args) -> Level {
    match (&args.group, args.patient) {
        (Some(id), _) => Level::Group(id.clone()),
        (None, true) => Level::Patient,
        _ => Level::System,
    }
}

fn params(args: &Args) -> ExportParams {
    let mut p = ExportParams::default();
    p.types = args.types.iter().filter(|t| !t.is_empty()).cloned().collect();
    p.since = args.since.clone();
    p.until = args.until.clone();
    p.type_filters = args.type_filter.clone();
    p.elements = args.elements.iter().filter(|e| !e.is_empty()).cloned().collect();
    p.patients = args.for_patient.clone();
    p.post = args.post;
    p
}

/// Unless `--no-check`, the statement must declare an export at `level`.
fn check_declared(conn: &Connection, level: &Level) -> anyhow::Result<()> {
    let Some(checker) = &conn.checker else {
        return Ok(());
    };
    checker.export(level)?;
    Ok(())
}

/// Ctrl-C: cancel the job on the server, keep the directory.
async fn interrupted(conn: &Connection, dir: &Path) -> anyhow::Result<()> {
    let mut job = JobDir::open(dir).with_context(|| format!("reading {}", dir.display()))?;
    let cancelled = job.cancel(&conn.client).await;
    let what = match cancelled {
        Ok(()) => "the export job was cancelled on the server".to_owned(),
        Err(e) => format!("cancelling the job on the server failed ({e})"),
    };
    Err(Interrupted(format!(
        "interrupted: {what}; continue with `fhirforge export --resume {}` (and the same \
         connection options)",
        dir.display()
    ))
    .into())
}

/// The summary: files, resources per type, the server's error files, bad lines.
fn report(summary: &DownloadSummary, dir: &Path, out: &Out) -> anyhow::Result<()> {
    let mut text = format!(
        "exported {} resources in {} files ({}) into {}\n",
        HumanCount(summary.resources()),
        summary.files.len(),
        HumanBytes(summary.bytes()),
        dir.display()
    );
    for (ty, n) in summary.per_type() {
        text.push_str(&format!("  {:<28} {:>12}\n", clean(ty), HumanCount(n)));
    }
    let deleted: u64 = summary
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Deleted)
        .map(|f| f.resources)
        .sum();
    if deleted > 0 {
        text.push_str(&format!(
            "  deleted: {} Bundles naming deleted resources (in deleted/)\n",
            HumanCount(deleted)
        ));
    }
    print!("{text}");
    let mut problems = Vec::new();
    let outcomes = summary.error_outcomes();
    if outcomes > 0 {
        problems.push(format!(
            "the server reported {outcomes} OperationOutcome(s) in its error files (in error/)"
        ));
        for f in summary.files.iter().filter(|f| f.kind == FileKind::Error) {
            report_outcome_lines(&dir.join(&f.file), 5);
        }
    }
    let invalid = summary.invalid_lines();
    if invalid > 0 {
        problems.push(format!(
            "{invalid} line(s) are not one resource of the declared type (kept in the files)"
        ));
        for line in summary.files.iter().flat_map(|f| &f.invalid_lines).take(10) {
            eprintln!("  {}:{}: {}", line.file, line.line, clean(&line.reason));
        }
    }
    for f in summary.count_mismatches() {
        problems.push(format!(
            "{} holds {} resources, the manifest said {}",
            f.file,
            f.resources + f.duplicates_skipped,
            f.expected.unwrap_or_default()
        ));
    }
    if !out.quiet() {
        let resumed: u64 = summary.files.iter().map(|f| f.resumed_at).sum();
        if resumed > 0 {
            eprintln!("({} were already on disk from an earlier run)", HumanBytes(resumed));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExportProblems(problems.join("; ")).into())
    }
}

/// The progress view on stderr: a spinner while the server works, then bytes, files and
/// resources while downloading. Hidden with `--quiet` or when stderr is not a terminal.
struct View {
    bar: ProgressBar,
    files_total: AtomicU64,
    files_done: AtomicU64,
    resources: AtomicU64,
}

impl View {
    fn new(quiet: bool) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar.set_message("kicking off the export");
        Self {
            bar,
            files_total: AtomicU64::new(0),
            files_done: AtomicU64::new(0),
            resources: AtomicU64::new(0),
        }
    }

    fn downloading_message(&self) {
        self.bar.set_message(format!(
            "files {}/{}, {} resources",
            self.files_done.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            HumanCount(self.resources.load(Ordering::Relaxed)),
        ));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for View {
    fn kicked_off(&self, _status_url: &str) {
        self.bar.set_message("export started; waiting for the server");
    }

    fn polled(&self, _elapsed: Duration, server: Option<&str>, next: Duration) {
        let said = server.map(|p| format!(": {}", clean(p))).unwrap_or_default();
        self.bar.set_message(format!(
            "the server is exporting{said} (next check in {}s)",
            next.as_secs()
        ));
    }

    fn manifest(&self, manifest: &Manifest) {
        let n = manifest.output.len() + manifest.error.len() + manifest.deleted.len();
        self.files_total.store(n as u64, Ordering::Relaxed);
        self.bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg}, {binary_bytes} [{elapsed}, {binary_bytes_per_sec}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        self.downloading_message();
    }

    fn downloaded(&self, bytes: u64, resources: u64) {
        self.bar.inc(bytes);
        if resources > 0 {
            self.resources.fetch_add(resources, Ordering::Relaxed);
        }
    }

    fn file_done(&self, _report: &FileReport) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
        self.downloading_message();
    }
}
