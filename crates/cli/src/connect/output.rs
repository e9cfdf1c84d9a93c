//! Output of the call commands: data on stdout (pretty JSON, NDJSON or raw Bundles), people's
//! messages on stderr (server warnings, a progress bar for multi-page reads).

use crate::term::clean;
use fhirforge_runtime::{Bundle, Issue, OperationOutcome};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde_json::Value;
use std::io::{IsTerminal as _, Write};

/// Output options shared by every call.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct OutputArgs {
    /// Print one resource per line (compact JSON) instead of pretty JSON; with --all the lines
    /// are written as each page arrives
    #[arg(long)]
    pub(crate) ndjson: bool,

    /// No progress bar and no informational messages on stderr (server warnings are still
    /// printed)
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Writes data to stdout through one buffer per command: values are serialized straight into
/// it (no `String` per resource) and it is flushed once per value or page, so `| head` and the
/// progress bar still see output as it arrives. A closed pipe (`| head`) ends output quietly
/// instead of failing.
#[derive(Debug)]
pub(crate) struct Out {
    ndjson: bool,
    quiet: bool,
    closed: bool,
    stdout: std::io::BufWriter<std::io::Stdout>,
}

/// The stdout buffer: large enough that a page of resources is a few `write` calls.
const STDOUT_BUFFER: usize = 256 * 1024;

impl Out {
    /// Output configured by `args`.
    pub(crate) fn new(args: &OutputArgs) -> Self {
        Self {
            ndjson: args.ndjson,
            quiet: args.quiet,
            closed: false,
            stdout: std::io::BufWriter::with_capacity(STDOUT_BUFFER, std::io::stdout()),
        }
    }

    /// Whether informational messages are suppressed.
    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    /// Whether NDJSON was asked for.
    pub(crate) fn ndjson(&self) -> bool {
        self.ndjson
    }

    /// Runs `write` on the buffer; a broken pipe closes the output instead of failing.
    fn write_with(
        &mut self,
        write: impl FnOnce(&mut std::io::BufWriter<std::io::Stdout>) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        if self.closed {
            return Ok(());
        }
        match write(&mut self.stdout) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
        }
    }

    /// Sends what is buffered to stdout.
    pub(crate) fn flush(&mut self) -> anyhow::Result<()> {
        self.write_with(|w| w.flush())
    }

    /// One JSON value: pretty, or one line with `--ndjson`; flushed.
    pub(crate) fn value(&mut self, value: &Value) -> anyhow::Result<()> {
        let ndjson = self.ndjson;
        self.write_with(|w| {
            if ndjson {
                serde_json::to_writer(&mut *w, value)
            } else {
                serde_json::to_writer_pretty(&mut *w, value)
            }
            .map_err(std::io::Error::from)?;
            w.write_all(b"\n")?;
            w.flush()
        })
    }

    /// One resource as an NDJSON line, buffered (call [`flush`](Self::flush) after a page).
    pub(crate) fn line(&mut self, resource: &Value) -> anyhow::Result<()> {
        self.write_with(|w| {
            serde_json::to_writer(&mut *w, resource).map_err(std::io::Error::from)?;
            w.write_all(b"\n")
        })
    }

    /// Several resources as one pretty JSON array; flushed.
    pub(crate) fn array(&mut self, resources: &[Value]) -> anyhow::Result<()> {
        self.write_with(|w| {
            serde_json::to_writer_pretty(&mut *w, resources).map_err(std::io::Error::from)?;
            w.write_all(b"\n")?;
            w.flush()
        })
    }

    /// An informational line on stderr, unless `--quiet`.
    pub(crate) fn info(&self, line: &str) {
        if !self.quiet {
            eprintln!("{}", clean(line));
        }
    }
}

/// Prints the issues of the OperationOutcomes inside a Bundle to stderr.
pub(crate) fn warn_outcomes(page: &Bundle) {
    for outcome in page.outcomes() {
        print_issues("server", &outcome);
    }
}

/// Prints every issue of `outcome` on its own stderr line: `server: error (not-found): text [expr]`.
pub(crate) fn print_issues(who: &str, outcome: &OperationOutcome) {
    for issue in &outcome.issue {
        eprintln!("{who}: {}", issue_line(issue));
    }
}

/// One issue, cleaned for the terminal: `error (not-found): text [expr]`.
fn issue_line(issue: &Issue) -> String {
    let mut line = format!("{} ({})", issue.severity, issue.code);
    if let Some(text) = issue.diagnostics.as_deref().or(issue.details_text()) {
        line.push_str(": ");
        line.push_str(text);
    }
    if !issue.expression.is_empty() {
        line.push_str(&format!(" [{}]", issue.expression.join(", ")));
    }
    clean(&line)
}

/// How much of a non-FHIR error body is shown.
const BODY_EXCERPT_CHARS: usize = 300;

/// Prints a command's error on stderr: the error and each cause on its own line. A server's
/// answer is shown once: its status, then one indented line per OperationOutcome issue (or the
/// start of a body that is not an OperationOutcome).
pub(crate) fn report_error(err: &anyhow::Error) {
    for (i, cause) in err.chain().enumerate() {
        let prefix = if i == 0 { "error" } else { "  caused by" };
        let server = cause
            .downcast_ref::<fhirforge_runtime::Error>()
            .and_then(|e| Some((e.status()?, e)));
        let Some((status, e)) = server else {
            eprintln!("{prefix}: {}", clean(&cause.to_string()));
            continue;
        };
        if let Some(outcome) = e.operation_outcome() {
            // The runtime error's own text repeats the issues on one line; list them instead.
            eprintln!("{prefix}: FHIR server returned {status}");
            for issue in &outcome.issue {
                eprintln!("  {}", issue_line(issue));
            }
            continue;
        }
        eprintln!("{prefix}: {}", clean(&cause.to_string()));
        if let Some(body) = e.body() {
            let text: String = body.text.trim().chars().take(BODY_EXCERPT_CHARS).collect();
            if !text.is_empty() {
                eprintln!("  server said: {}", clean(&text));
            }
        }
    }
}

/// Prints the issues of the first `max` `OperationOutcome`s of an export's error file (one
/// NDJSON line each), indented, on stderr. Reads at most `max` lines of at most 1 MiB each, so
/// a huge or hostile file costs nothing.
pub(crate) fn report_outcome_lines(path: &std::path::Path, max: usize) {
    use std::io::{BufRead as _, Read as _};
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    let mut reader = std::io::BufReader::new(file);
    let mut shown = 0;
    let mut line = Vec::new();
    while shown < max {
        line.clear();
        match (&mut reader).take(1 << 20).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Ok(value) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        if let Some(outcome) = OperationOutcome::from_json(&value) {
            for issue in &outcome.issue {
                eprintln!("  {}", issue_line(issue));
            }
            shown += 1;
        }
    }
}

/// A rate for people: whole resources per second with thousands separators (`23,246/s`), one
/// decimal below 10 (`2.5/s`); indicatif's own `{per_sec}` prints four decimals
/// (`23,246.4415/s`).
fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        return "0/s".to_owned();
    }
    if per_sec < 9.95 {
        return format!("{per_sec:.1}/s");
    }
    // Rounded and clamped first, so the cast cannot truncate or wrap.
    let whole = per_sec.round().min(u64::MAX as f64) as u64;
    format!("{}/s", HumanCount(whole))
}

/// A progress bar on stderr for multi-page reads: resources, pages, rate. Hidden when stderr is
/// not a terminal or with `--quiet`.
pub(crate) fn progress(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{spinner} {pos} resources, {msg} [{elapsed}, {rate}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&rate(state.per_sec()));
                },
            );
    bar.set_style(style);
    bar.set_message("0 pages");
    bar
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_are_rounded_for_people() {
        assert_eq!(rate(23246.4415), "23,246/s");
        assert_eq!(rate(999.5), "1,000/s");
        assert_eq!(rate(12.3), "12/s");
        assert_eq!(rate(2.46), "2.5/s");
        assert_eq!(rate(0.0), "0/s");
        assert_eq!(rate(f64::NAN), "0/s");
        assert_eq!(rate(f64::INFINITY), "0/s");
    }
}
