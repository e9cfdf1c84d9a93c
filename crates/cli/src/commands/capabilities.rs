//! `fhirforge capabilities`: the server's CapabilityStatement.

use crate::connect::output::{Out, OutputArgs};
use crate::connect::{self, request_failed, ConnectArgs};

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
    let mut out = Out::new(&args.output);
    connect::runtime()?.block_on(async {
        let conn = connect::connect(&args.connect, &out, false).await?;
        let statement = conn.client.capabilities().await.map_err(request_failed)?;
        out.value(&statement)
    })
}
