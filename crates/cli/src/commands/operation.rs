//! `fhirforge operation`: invoke a FHIR operation (`$name`).

use crate::connect::output::OutputArgs;
use crate::connect::run::{self, Check, Reply};
use crate::connect::{read_body, split_pair, ConnectArgs};
use crate::exit::InvalidInput;
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::Scope;
use std::path::PathBuf;

/// Invoke an operation at system, type (--type) or instance (--type and --id) level.
///
/// With --input the `Parameters` resource is POSTed; otherwise the operation is called by GET
/// with the NAME=VALUE parameters in the query. Unless --no-check, the operation must be
/// declared by the capability statement (on the type or the system).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The operation name, with or without `$` (`$everything`, `meta`)
    #[arg(value_name = "NAME")]
    name: String,

    /// Simple operation parameters for a GET call, as NAME=VALUE
    #[arg(value_name = "NAME=VALUE", conflicts_with = "input")]
    params: Vec<String>,

    /// The resource type to invoke the operation on
    #[arg(long = "type", value_name = "TYPE")]
    resource_type: Option<String>,

    /// The resource id (instance-level operation; needs --type)
    #[arg(long, requires = "resource_type", value_parser = crate::connect::id_arg)]
    id: Option<String>,

    /// A `Parameters` resource to POST: a file, or `-` for stdin
    #[arg(long, value_name = "FILE|-")]
    input: Option<PathBuf>,

    #[command(flatten)]
    output: OutputArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge operation`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let input = args.input.as_deref().map(read_body).transpose()?;
    let mut params = SearchParams::new();
    for pair in &args.params {
        let (name, value) = split_pair(pair, "operation parameter")?;
        params.raw(name, value);
    }
    if let Some(e) = params.error() {
        return Err(InvalidInput(e.to_string()).into());
    }
    let check = Check::Operation(args.resource_type.as_deref(), &args.name);
    run::call(&args.connect, &args.output, check, async |conn, _| {
        let scope = match (&args.resource_type, &args.id) {
            (Some(ty), Some(id)) => Scope::Instance(ty, id),
            (Some(ty), None) => Scope::Type(ty),
            _ => Scope::System,
        };
        let call = conn.client.operation(scope, &args.name);
        let result = match &input {
            Some(parameters) => call.parameters(parameters).await,
            None if !params.is_empty() => call.query(params.clone()).await,
            None => call.await,
        }?;
        Ok(Reply::Value(result))
    })
}
