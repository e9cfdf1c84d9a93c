//! `fhirforge read`: one resource by type and id.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::ConnectArgs;
use fhirforge_model::ResourceInteraction;

/// Read a resource (`GET [base]/[type]/[id]`).
///
/// Unless --no-check, the type and the `read` interaction are checked against the capability
/// statement first. A missing resource is the server's error (exit code 1), its
/// OperationOutcome printed on stderr.
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

/// Runs `fhirforge read`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::Read);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let resource = conn.client.read(&args.resource_type, &args.id).await?;
        Ok(Reply::Value(resource))
    })
}
