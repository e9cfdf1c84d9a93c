//! `fhirforge read`: one resource by type and id.

use crate::connect::output::{Out, OutputArgs};
use crate::connect::{self, request_failed, ConnectArgs};
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
    id: String,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge read`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut out = Out::new(&args.output);
    connect::runtime()?.block_on(async {
        let conn = connect::connect(&args.connect, &out, true).await?;
        if let Some(c) = &conn.checker {
            c.interaction(&args.resource_type, ResourceInteraction::Read)?;
        }
        let resource = conn
            .client
            .read(&args.resource_type, &args.id)
            .await
            .map_err(request_failed)?;
        out.value(&resource)
    })
}
