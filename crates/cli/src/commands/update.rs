//! `fhirforge update`: replace a resource from a JSON file or stdin.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::{read_body, ConnectArgs, IfMatchArgs};
use crate::exit::InvalidInput;
use fhirforge_model::ResourceInteraction;
use serde_json::Value;
use std::path::PathBuf;

/// Update a resource (`PUT [base]/[type]/[id]`) from a JSON file, or stdin with `-`.
///
/// A body without `id` gets the id from the command line; a different `id` is refused.
/// --version sends `If-Match` for that version, --if-match-current reads the resource first and
/// sends its current version: either way a concurrent change fails the update with 412.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type (Patient, Observation, ...)
    #[arg(value_name = "TYPE")]
    resource_type: String,

    /// The resource id
    #[arg(value_parser = crate::connect::id_arg)]
    id: String,

    /// The new resource as JSON: a file, or `-` for stdin
    #[arg(value_name = "FILE|-")]
    body: PathBuf,

    #[command(flatten)]
    if_match: IfMatchArgs,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge update`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut body = read_body(&args.body)?;
    match body.as_object_mut() {
        Some(object) => {
            object
                .entry("id")
                .or_insert_with(|| Value::String(args.id.clone()));
        }
        None => return Err(InvalidInput("the body must be a JSON object (a resource)".into()).into()),
    }
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::Update);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let options = args
            .if_match
            .options(&conn.client, &args.resource_type, &args.id)
            .await?;
        let response = conn
            .client
            .update(&args.resource_type, &args.id, &body)
            .options(options)
            .await?;
        Ok(Reply::Write(response))
    })
}
