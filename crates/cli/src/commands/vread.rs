//! `fhirforge vread`: one version of a resource.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::ConnectArgs;
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
    #[arg(value_parser = crate::connect::id_arg)]
    id: String,

    /// The version id (meta.versionId)
    #[arg(value_name = "VERSION", value_parser = crate::connect::version_id_arg)]
    version: String,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge vread`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::Vread);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let resource = conn
            .client
            .vread(&args.resource_type, &args.id, &args.version)
            .await?;
        Ok(Reply::Value(resource))
    })
}
