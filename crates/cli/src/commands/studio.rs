//! `fhirforge studio`: the spec, its search forms, Send, Generate and Diff in a local browser.

use crate::connect::output::{Out, OutputArgs};
use crate::connect::{self, ConnectArgs};
use crate::exit::InvalidInput;
use anyhow::Context;
use fhirforge_parse::{is_url, Limits};
use fhirforge_studio::{SourceId, Studio, StudioOptions};
use std::io::Write as _;
use std::path::PathBuf;

/// Open the studio: a local web app to browse a spec, build searches by value or by range, send
/// them, and generate a connector.
///
/// Reads SPEC-FILE (a capability statement or OpenAPI document), or a server's BASE-URL
/// (its /metadata), or with --profile the profile's pinned spec, else its server's /metadata.
/// With a BASE-URL or a profile, Send runs searches through the profile's auth on this side;
/// credentials never reach the browser.
///
/// Listens on 127.0.0.1 only and prints a URL with a random token, valid until the studio stops;
/// requests without it, or from another origin, are refused.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A capability statement or OpenAPI file, or a FHIR server's base URL (optional with
    /// --profile)
    #[arg(value_name = "SPEC-FILE|BASE-URL")]
    spec: Option<String>,

    /// A saved connection profile: Send uses it, and its pinned spec (or its server's
    /// /metadata) is read when no SPEC-FILE is given
    #[arg(long, short = 'p', value_name = "NAME")]
    profile: Option<String>,

    /// The kind of SPEC-FILE (default: detected from its content)
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<super::inspect::SpecFormat>,

    /// Generation options to start from (TOML, as `fhirforge generate --config`)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The port on 127.0.0.1 (default: a free one)
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,

    /// Open the URL in the default browser
    #[arg(long)]
    open: bool,
}

fn connect_args(base: Option<String>, profile: Option<String>) -> ConnectArgs {
    ConnectArgs {
        base,
        profile,
        spec: None,
        no_check: true,
        bearer_env: None,
        basic_user: None,
        password_env: None,
        insecure_http: false,
    }
}

/// Runs `fhirforge studio`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let limits = Limits::default();
    let rt = connect::runtime()?;
    let out = Out::new(&OutputArgs {
        ndjson: false,
        quiet: false,
    });
    // The client: a profile's (with its auth), or a bare base URL's; none for a file alone.
    let conn = match (&args.profile, &args.spec) {
        (Some(p), _) => Some(rt.block_on(connect::connect(
            &connect_args(None, Some(p.clone())),
            &out,
            false,
        ))?),
        (None, Some(s)) if is_url(s) => Some(rt.block_on(connect::connect(
            &connect_args(Some(s.clone()), None),
            &out,
            false,
        ))?),
        _ => None,
    };
    // The spec: as typed, else the profile's pinned spec, else the profile server's /metadata.
    let spec = match (&args.spec, &args.profile) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(p)) => connect::pinned_spec(&connect_args(None, Some(p.clone())))?
            .map(|path| path.to_string_lossy().into_owned()),
        (None, None) => {
            return Err(
                InvalidInput("give a SPEC-FILE, a BASE-URL or --profile NAME".to_owned()).into(),
            )
        }
    };
    let spec = match (spec, &conn) {
        (Some(s), _) => s,
        (None, Some(c)) => c
            .client
            .base_url()
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
        (None, None) => unreachable_spec()?,
    };
    let input = super::inspect::SpecArgs {
        spec: spec.clone(),
        format: args.format,
        capability: None,
    };
    let loaded = super::inspect::load(&input, &limits)?;
    let (name, bytes) = super::generate::source_of(&input, &loaded)?;
    let generate = match &args.config {
        Some(path) => super::generate::read_config(path)?,
        None => Default::default(),
    };
    let options = StudioOptions {
        generate,
        profile: args.profile.clone(),
        spec_path: (!is_url(&spec)).then(|| spec.clone()),
        default_params: conn
            .as_ref()
            .map(|c| c.default_params.clone())
            .unwrap_or_default(),
    };
    let studio = Studio::new(loaded.parsed, SourceId { name, bytes })
        .with_options(options)
        .with_client(conn.map(|c| c.client));
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
        let launched = studio.launch(listener)?;
        // A closed stdout (the URL read by a script that then went away) must not stop the
        // studio, so write errors are ignored rather than panicking as `println!` would.
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "fhirforge studio: open {}\n(stop with Ctrl-C; the token is valid until then)",
            launched.url()
        );
        let _ = stdout.flush();
        drop(stdout);
        if args.open {
            crate::browser::open(launched.url());
        }
        tokio::select! {
            served = launched.serve() => served.map_err(anyhow::Error::new),
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}

/// A profile always yields a client, so a spec is always found; kept as an error, not a panic.
fn unreachable_spec() -> anyhow::Result<String> {
    Err(InvalidInput("no spec to read: give a SPEC-FILE or BASE-URL".to_owned()).into())
}
