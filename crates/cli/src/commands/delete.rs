//! `fhirforge delete`: delete a resource.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::ConnectArgs;
use fhirforge_model::ResourceInteraction;

/// Delete a resource (`DELETE [base]/[type]/[id]`).
///
/// The status goes to stderr; an OperationOutcome the server returns is printed on stdout.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type (Patient, Observation, ...)
    #[arg(value_name = "TYPE")]
    resource_type: String,

    /// The resource id
    #[arg(value_parser = crate::connect::id_arg)]
    id: String,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge delete`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::Delete);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let response = conn.client.delete(&args.resource_type, &args.id).await?;
        Ok(Reply::Write(response))
    })
}
