//! `fhirforge vread`: one version of a resource.

use crate::connect::output::{Out, OutputArgs};
use crate::connect::{self, request_failed, ConnectArgs};
use fhirforge_model::ResourceInteraction;

/// Read one version of a resource (`GET [base]/[type]/[id]/_history/[vid]`).
///
/// Unless --no-check, the type and the `vread` interaction are checked against the capability
/// statement first.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type (Patient, Observation, ...)
    #[arg(value_name = "TYPE")]
    resource_type: String,

    /// The resource id
    id: String,

    /// The version id (meta.versionId)
    #[arg(value_name = "VERSION")]
    version: String,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge vread`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut out = Out::new(&args.output);
    connect::runtime()?.block_on(async {
        let conn = connect::connect(&args.connect, &out, true).await?;
        if let Some(c) = &conn.checker {
            c.interaction(&args.resource_type, ResourceInteraction::Vread)?;
        }
        let resource = conn
            .client
            .vread(&args.resource_type, &args.id, &args.version)
            .await
            .map_err(request_failed)?;
        out.value(&resource)
    })
}
