//! `fhirforge patch`: apply a JSON Patch to a resource.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::{read_body, ConnectArgs, IfMatchArgs};
use fhirforge_model::ResourceInteraction;
use std::path::PathBuf;

/// Apply a JSON Patch (RFC 6902) to a resource (`PATCH [base]/[type]/[id]`).
///
/// The patch is a JSON array of operations from a file, or stdin with `-`. --version or
/// --if-match-current send `If-Match` as for update.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type (Patient, Observation, ...)
    #[arg(value_name = "TYPE")]
    resource_type: String,

    /// The resource id
    #[arg(value_parser = crate::connect::id_arg)]
    id: String,

    /// The JSON Patch (an array of operations): a file, or `-` for stdin
    #[arg(value_name = "FILE|-")]
    patch: PathBuf,

    #[command(flatten)]
    if_match: IfMatchArgs,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge patch`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let patch = read_body(&args.patch)?;
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::Patch);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let options = args
            .if_match
            .options(&conn.client, &args.resource_type, &args.id)
            .await?;
        let response = conn
            .client
            .patch(&args.resource_type, &args.id, &patch)
            .options(options)
            .await?;
        Ok(Reply::Write(response))
    })
}
