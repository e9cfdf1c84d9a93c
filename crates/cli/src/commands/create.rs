//! `fhirforge create`: create a resource from a JSON file or stdin.

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::{read_body, ConnectArgs};
use crate::exit::InvalidInput;
use fhirforge_model::ResourceInteraction;
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::WriteOptions;
use std::path::PathBuf;

/// Create a resource (`POST [base]/[type]`) from a JSON file, or stdin with `-`.
///
/// Prints the created resource as the server returns it; `Location` and `ETag` go to stderr.
/// --if-none-exist makes it a conditional create (nothing is created when a resource matches).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type (Patient, Observation, ...)
    #[arg(value_name = "TYPE")]
    resource_type: String,

    /// The resource as JSON: a file, or `-` for stdin
    #[arg(value_name = "FILE|-")]
    body: PathBuf,

    /// Conditional create: search criteria as a query string (`identifier=sys|123`)
    #[arg(long, value_name = "QUERY")]
    if_none_exist: Option<String>,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge create`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let body = read_body(&args.body)?;
    let mut options = WriteOptions::new();
    if let Some(query) = &args.if_none_exist {
        if query.trim().is_empty() {
            return Err(InvalidInput("--if-none-exist needs at least one criterion".into()).into());
        }
        options = options.if_none_exist(SearchParams::from_query(query));
    }
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::Create);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let response = conn
            .client
            .create(&args.resource_type, &body)
            .options(options.clone())
            .await?;
        Ok(Reply::Write(response))
    })
}
