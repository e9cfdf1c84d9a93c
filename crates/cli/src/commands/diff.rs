//! `fhirforge diff`: capability drift between two capability statements.

use crate::connect::{self, load_statement};
use fhirforge_parse::SpecKind;
use crate::exit::Drift;
use crate::term::clean;
use anyhow::Context;
use std::io::Write as _;

/// Compare two capability statements: resources, interactions, search parameters, operations
/// and security endpoints added, removed or changed from OLD to NEW.
///
/// Each of OLD and NEW is a file (JSON or XML) or a server's base URL, whose /metadata is read.
/// Prints one change per line (`+` added, `-` removed, `~` changed), or a JSON array with
/// --json. The exit code is 0 when the statements are equal and 3 when they differ, so a CI
/// job can re-check a live EHR against the statement a connector was generated from:
///
///     fhirforge diff specs/vendors/epic-r4-capability.json https://ehr.example/fhir/R4
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The old capability statement: a file or a base URL
    #[arg(value_name = "OLD")]
    old: String,

    /// The new capability statement: a file or a base URL
    #[arg(value_name = "NEW")]
    new: String,

    /// Print the changes as a JSON array of {kind, element, scope, name, old?, new?}
    #[arg(long)]
    json: bool,
}

/// Runs `fhirforge diff`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let (old, new) = connect::runtime()?.block_on(async {
        let old = load_statement(&args.old, Some(SpecKind::CapabilityStatement)).await.context("the OLD statement")?;
        let new = load_statement(&args.new, Some(SpecKind::CapabilityStatement)).await.context("the NEW statement")?;
        anyhow::Ok((old, new))
    })?;
    let changes = fhirforge_model::diff::diff(&old.connector, &new.connector);
    let mut text = if args.json {
        serde_json::to_string_pretty(&changes).context("serializing the changes")?
    } else {
        changes
            .iter()
            .map(|c| clean(&c.to_string()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !text.is_empty() {
        text.push('\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        // A closed pipe (`| head`) is not a failure: the exit code still reports drift.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(anyhow::Error::new(e).context("writing to stdout"))
        }
        _ => {}
    }
    if changes.is_empty() {
        Ok(())
    } else {
        Err(Drift(changes.len()).into())
    }
}
