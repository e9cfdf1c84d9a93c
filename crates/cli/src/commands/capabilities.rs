//! `fhirforge capabilities`: the server's CapabilityStatement.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::ConnectArgs;

/// Print the server's CapabilityStatement (`GET [base]/metadata`).
///
/// `fhirforge inspect BASE-URL` summarises the same statement as a table; `fhirforge diff`
/// compares two.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge capabilities`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    run::call(&args.connect, &args.output, Check::Nothing, async |conn, _| {
        Ok(Reply::Value(conn.client.capabilities().await?))
    })
}
