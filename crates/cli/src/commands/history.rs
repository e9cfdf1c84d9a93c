//! `fhirforge history`: the history of a resource, a type or the server.

use crate::connect::run::{self, Check, Reply};
use crate::connect::pages::{print_pages, PageArgs};
use crate::connect::{split_pair, ConnectArgs};
use crate::exit::InvalidInput;
use fhirforge_model::ResourceInteraction;
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::Scope;

/// Read history: of one resource (`TYPE ID`), of a type (`TYPE`) or of the whole server.
///
/// Prints the versions as a pretty JSON array (newest first, as the server orders them);
/// --ndjson, --bundle, --all and --max work as for search.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type; omit for the whole server's history
    #[arg(value_name = "TYPE")]
    resource_type: Option<String>,

    /// The resource id; omit for the type's history
    #[arg(value_parser = crate::connect::id_arg)]
    id: Option<String>,

    /// Only versions since this instant (`_since`, e.g. 2024-01-01T00:00:00Z)
    #[arg(long, value_name = "INSTANT")]
    since: Option<String>,

    /// Extra history parameters as NAME=VALUE (`_count=50`, `_at=2024`), sent as typed
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,

    #[command(flatten)]
    pages: PageArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// Runs `fhirforge history`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let mut params = SearchParams::new();
    if let Some(since) = &args.since {
        params.raw("_since", since.clone());
    }
    for pair in &args.params {
        let (name, value) = split_pair(pair, "--param")?;
        params.raw(name, value);
    }
    if let Some(e) = params.error() {
        return Err(InvalidInput(e.to_string()).into());
    }
    let (scope, check) = match (&args.resource_type, &args.id) {
        (Some(ty), Some(id)) => (
            Scope::Instance(ty, id),
            Check::Interaction(ty, ResourceInteraction::HistoryInstance),
        ),
        (Some(ty), None) => (
            Scope::Type(ty),
            Check::Interaction(ty, ResourceInteraction::HistoryType),
        ),
        // The statement has no system-history flag the checks read.
        _ => (Scope::System, Check::Nothing),
    };
    run::call(&args.connect, &args.pages.output, check, async |conn, out| {
        let request = conn.client.history(scope, params);
        print_pages(request, args.pages.pages(), args.pages.bundle, out).await?;
        Ok(Reply::Printed)
    })
}
