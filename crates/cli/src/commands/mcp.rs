//! `fhirforge mcp`: the EHR's declared capabilities as Model Context Protocol tools.

use crate::connect::output::{Out, OutputArgs};
use crate::connect::{self, name_the_insecure_http_flag, runtime, ConnectArgs};
use crate::exit::InvalidInput;
use anyhow::Context as _;
use fhirforge_mcp::http::{self, Token};
use fhirforge_mcp::log::CallLog;
use fhirforge_mcp::{Catalog, Config, FhirMcp, Options, Statement};
use fhirforge_parse::Limits;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The environment variable that may hold the HTTP transport's bearer token.
const TOKEN_ENV: &str = "FHIRFORGE_MCP_TOKEN";

/// Serve the EHR's declared capabilities as Model Context Protocol (MCP) tools, over stdio (the
/// default) or streamable HTTP on loopback.
///
/// The tools come from the capability statement (--spec, the profile's pinned spec, or the
/// server's /metadata): `search_<Type>` with one typed property per declared search parameter,
/// `read_<Type>`, `history_<Type>` and `op_<Type>_<name>` where declared. Read-only unless
/// --write, which adds the declared create, update, patch and delete. Every call goes through
/// the same client as the other commands (the profile's auth, retries) and is logged to stderr
/// (or --log FILE) with its method, path and parameter names, never values. In stdio mode
/// nothing but the protocol is written to stdout.
///
/// --http 127.0.0.1:PORT serves at http://127.0.0.1:PORT/mcp instead; only loopback addresses
/// are accepted, and every request needs `Authorization: Bearer <token>`, with the token from
/// FHIRFORGE_MCP_TOKEN or generated and printed to stderr.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Offer the declared create, update, patch and delete interactions (default: read-only)
    #[arg(long)]
    write: bool,

    /// Only these resource types (comma-separated, as declared: Patient,Observation)
    #[arg(long, value_name = "TYPE,..", value_delimiter = ',')]
    resources: Vec<String>,

    /// One tool per interaction kind (search, read, ...) with the resource type as an argument,
    /// instead of one per type: a much smaller tool list for vendors with many resources
    #[arg(long)]
    compact: bool,

    /// The most resources one search or history call returns (1 to 1000)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 50,
        value_parser = clap::value_parser!(u32).range(1..=1000)
    )]
    max_results: u32,

    /// Serve streamable HTTP on this loopback address (`127.0.0.1:PORT` or `[::1]:PORT`; port 0
    /// picks one) instead of stdio
    #[arg(long, value_name = "127.0.0.1:PORT")]
    http: Option<SocketAddr>,

    /// Append the call log to this file instead of stderr
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// The statement's text and model: from the pinned file, else the server's /metadata.
async fn statement(
    args: &ConnectArgs,
    client: &fhirforge_runtime::Client,
) -> anyhow::Result<(fhirforge_model::Connector, Statement)> {
    if let Some(path) = connect::pinned_spec(args)? {
        let parsed = connect::load_statement(&path.to_string_lossy(), None).await?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mime_type = if !text.trim_start().starts_with('{') {
            "application/yaml"
        } else if parsed.connector.source_kind.is_fhir_statement() {
            "application/fhir+json"
        } else {
            "application/json"
        };
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "the spec file".into());
        return Ok((
            parsed.connector,
            Statement {
                text,
                mime_type: mime_type.into(),
                source,
            },
        ));
    }
    let value = client
        .capabilities()
        .await
        .context("reading the server's /metadata (or pin a spec with --spec FILE)")?;
    let bytes = serde_json::to_vec(&value).context("re-encoding /metadata")?;
    let parsed = fhirforge_parse::read_capability_statement(&bytes, None, &Limits::default())
        .context("the server's /metadata")?;
    let text = serde_json::to_string_pretty(&value).context("re-encoding /metadata")?;
    Ok((
        parsed.connector,
        Statement {
            text,
            mime_type: "application/fhir+json".into(),
            source: "GET /metadata".into(),
        },
    ))
}

/// Runs `fhirforge mcp`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    if args.connect.no_check {
        return Err(InvalidInput(
            "fhirforge mcp derives its tools from the capability statement; --no-check does not apply"
                .into(),
        )
        .into());
    }
    if let Some(addr) = args.http {
        http::check_loopback(addr).map_err(|e| InvalidInput(e.to_string()))?;
    }
    let log = match &args.log {
        Some(path) => CallLog::file(path)?,
        None => CallLog::stderr(),
    };
    // Messages go to stderr only: in stdio mode stdout carries the protocol.
    let out = Out::new(&OutputArgs {
        ndjson: false,
        quiet: false,
    });
    runtime()?
        .block_on(async {
            let conn = connect::connect(&args.connect, &out, false).await?;
            let (connector, statement) = statement(&args.connect, &conn.client).await?;
            let options = Options {
                write: args.write,
                resources: (!args.resources.is_empty()).then(|| args.resources.clone()),
                compact: args.compact,
                max_results: args.max_results,
            };
            let catalog = Catalog::new(connector, options).map_err(|e| InvalidInput(e.to_string()))?;
            out.info(&format!(
                "fhirforge mcp: {} tools from {} ({}){}",
                catalog.tools().len(),
                statement.source,
                if args.write { "write tools enabled" } else { "read-only" },
                if args.compact { ", compact" } else { "" }
            ));
            let server = FhirMcp::new(Config {
                catalog,
                client: conn.client,
                statement,
                log,
                default_params: conn.default_params,
            });
            match args.http {
                None => server.serve_stdio().await?,
                Some(addr) => {
                    let token = match std::env::var(TOKEN_ENV) {
                        Ok(t) if !t.is_empty() => Token::new(&t).map_err(|e| InvalidInput(format!("{TOKEN_ENV}: {e}")))?,
                        _ => {
                            let t = Token::generate()?;
                            // Printed once, for the person registering the server with a client.
                            eprintln!("fhirforge mcp: bearer token: {}", t.expose());
                            t
                        }
                    };
                    http::serve_http(server, addr, token, |bound| {
                        eprintln!("fhirforge mcp: listening on http://{bound}/mcp");
                    })
                    .await?
                }
            }
            Ok(())
        })
        .map_err(name_the_insecure_http_flag)
}
