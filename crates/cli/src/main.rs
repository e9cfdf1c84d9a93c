//! `fhirforge`: inspect EHR capability statements and OpenAPI documents, generate typed
//! connectors from them, compare statements and call FHIR servers.
//!
//! Each subcommand lives in its own module under `commands/` and is registered with one line in
//! `commands/mod.rs`. Errors are `anyhow` chains; [`exit::code`] maps them to the documented exit
//! codes (0 ok, 1 request failed or I/O, 2 invalid input, 3 drift, 4 export with problems,
//! 130 interrupted).

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: reading pages builds and drops a JSON tree per resource,
/// and glibc's `malloc`/`free`/`malloc_consolidate` were about a quarter of the CPU of
/// `search --all --ndjson` (perf, 100,000 Patients; see the README's benchmarks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod browser;
mod commands;
mod connect;
mod exit;
mod profile;
mod signin;
mod term;

/// The exit codes, shown at the end of every command's `--help`.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  request failed: server error, network or I/O (a file or server could not be read)
  2  invalid input (malformed, dangerous, or neither a capability statement nor an OpenAPI
     document) or invalid arguments
  3  drift found (fhirforge diff: the capability statements differ)
  4  export finished with problems (server error files, lines that are not resources)
  130  interrupted (Ctrl-C; an export is cancelled on the server and stays resumable)";

/// Turn an EHR's FHIR CapabilityStatement or OpenAPI document into a typed Rust connector.
#[derive(Debug, Parser)]
#[command(name = "fhirforge", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            connect::output::report_error(&err);
            ExitCode::from(exit::code(&err))
        }
    }
}
