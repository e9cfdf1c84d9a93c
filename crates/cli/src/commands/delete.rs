//! `fhirforge delete`: delete a resource.

use crate::connect::output::{Out, OutputArgs};
use crate::connect::{self, request_failed, write_result, ConnectArgs};
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
    id: String,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge delete`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut out = Out::new(&args.output);
    connect::runtime()?.block_on(async {
        let conn = connect::connect(&args.connect, &out, true).await?;
        if let Some(c) = &conn.checker {
            c.interaction(&args.resource_type, ResourceInteraction::Delete)?;
        }
        let response = conn
            .client
            .delete(&args.resource_type, &args.id)
            .await
            .map_err(request_failed)?;
        write_result(&response, &mut out)
    })
}
