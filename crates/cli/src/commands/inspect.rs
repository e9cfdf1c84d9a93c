//! `fhirforge inspect`: what a capability statement or OpenAPI document declares, as a table or
//! as the model's JSON.

use crate::exit::InvalidInput;
use crate::term::clean;
use anyhow::Context;
use fhirforge_model::{Connector, ResourceInteraction};
use crate::connect::runtime;
use fhirforge_parse::{fetch, is_url, Limits, LoadOptions, Loaded, Parsed, SpecKind};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Show what a capability statement or OpenAPI document declares: resources, interactions,
/// search parameters, generic (non-FHIR) operations, security and the warnings reading it
/// produced.
///
/// Reads a CapabilityStatement (FHIR STU3, R4, R4B, R5) or a DSTU2 Conformance, as JSON or XML,
/// or a Swagger 2.0 / OpenAPI 3.0 / 3.1 document (JSON or YAML), from a file or live from a
/// server's `<BASE-URL>/metadata`. The kind is detected from the content unless `--format`
/// says. Documents over 16 MiB or nested deeper than 64 levels, XML with a DOCTYPE, and
/// anything that is neither kind are refused.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: SpecArgs,

    /// Print the connector model as JSON (top-level `fhir_version`, `resources`, ..., and a
    /// `warnings` array) instead of a table
    #[arg(long)]
    json: bool,

    /// Merge a SMART configuration into the security summary: a file, a base URL
    /// (/.well-known/smart-configuration is appended) or the configuration's own URL
    #[arg(long, value_name = "FILE|URL")]
    smart_config: Option<String>,
}

/// The kind of spec document, when detection by content is not wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SpecFormat {
    /// A Swagger 2.0 or OpenAPI 3.x document (JSON or YAML); with a URL, the document's own URL
    Openapi,
    /// A CapabilityStatement or Conformance (JSON or XML); with a URL, the server's base URL
    Capability,
}

/// The spec arguments `inspect` and `generate` share.
#[derive(Debug, clap::Args)]
pub(crate) struct SpecArgs {
    /// A capability statement file (JSON or XML) or OpenAPI document (JSON or YAML), or the base
    /// URL (http:// or https://) of a FHIR server whose /metadata is read
    #[arg(value_name = "SPEC-FILE|BASE-URL")]
    pub(crate) spec: String,

    /// The kind of SPEC-FILE (default: detected from its content; a URL is a FHIR base URL
    /// unless this says openapi)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) format: Option<SpecFormat>,

    /// A CapabilityStatement of the same server (a file) whose search parameter types win when
    /// reading an OpenAPI document
    #[arg(long, value_name = "FILE")]
    pub(crate) capability: Option<String>,
}

/// Reads the spec `args` names with the parse crate's one loader ([`fhirforge_parse::load`]): a
/// capability statement or an OpenAPI document, from a file or a URL, detected by content
/// unless `--format` says.
pub(crate) fn load(args: &SpecArgs, limits: &Limits) -> anyhow::Result<Loaded> {
    let capability = match &args.capability {
        Some(path) => Some(
            fhirforge_parse::read_capability_statement_file(Path::new(path), limits)
                .with_context(|| format!("reading the capability statement {path}"))?
                .connector,
        ),
        None => None,
    };
    let kind = args.format.map(|f| match f {
        SpecFormat::Openapi => SpecKind::OpenApi,
        SpecFormat::Capability => SpecKind::CapabilityStatement,
    });
    let options = LoadOptions {
        kind,
        capability: capability.as_ref(),
        limits: *limits,
    };
    let url = is_url(&args.spec);
    let loaded = runtime()?
        .block_on(fhirforge_parse::load(&args.spec, &options))
        .map_err(|e| match e {
            // The loader's words name its option; the user typed `--capability`.
            fhirforge_parse::Error::InvalidOptions { .. } if args.capability.is_some() => {
                anyhow::Error::new(InvalidInput(
                    "--capability applies only to OpenAPI documents".to_owned(),
                ))
            }
            e => anyhow::Error::new(e),
        });
    if !url {
        return loaded.with_context(|| format!("reading {}", args.spec));
    }
    // The URL itself is not put in the context: it may carry credentials. The reader's errors
    // name it without user info or query.
    loaded.context(if kind == Some(SpecKind::OpenApi) {
        "fetching the OpenAPI document"
    } else {
        "fetching the capability statement"
    })
}

/// Runs `fhirforge inspect`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let limits = Limits::default();
    let mut parsed = load(&args.input, &limits)?.parsed;
    if let Some(smart) = &args.smart_config {
        let config = if is_url(smart) {
            runtime()?
                .block_on(fetch::fetch_smart_configuration(smart, &limits))
                .context("fetching the SMART configuration")?
        } else {
            fhirforge_parse::read_smart_configuration_file(Path::new(smart), &limits)
                .with_context(|| format!("reading the SMART configuration {smart}"))?
        };
        parsed.merge_smart_configuration(config);
    }

    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&parsed).context("serializing the model")?;
        json.push('\n');
        json
    } else {
        table(&parsed)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("writing to standard output")?;
    out.flush().context("writing to standard output")?;
    Ok(())
}

/// Column heads of the interaction matrix, in the model's canonical order.
const HEADS: [(&str, ResourceInteraction); 9] = [
    ("read", ResourceInteraction::Read),
    ("vread", ResourceInteraction::Vread),
    ("update", ResourceInteraction::Update),
    ("patch", ResourceInteraction::Patch),
    ("delete", ResourceInteraction::Delete),
    ("hist-i", ResourceInteraction::HistoryInstance),
    ("hist-t", ResourceInteraction::HistoryType),
    ("create", ResourceInteraction::Create),
    ("search", ResourceInteraction::SearchType),
];

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        clean(&items.join(", "))
    }
}

/// The readable report. Every `writeln!` targets a `String`, which cannot fail.
fn table(parsed: &Parsed) -> String {
    let c: &Connector = &parsed.connector;
    let mut s = String::new();
    let release = c
        .fhir_release
        .map(|r| format!(", {}", r.name()))
        .unwrap_or_default();
    let version = if c.fhir_version.is_empty() {
        "unknown"
    } else {
        &c.fhir_version
    };
    let _ = writeln!(s, "{} (FHIR {}{release})", clean(&c.name), clean(version));
    if let Some(sw) = &c.software {
        let parts: Vec<&str> = [sw.name.as_deref(), sw.version.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(s, "  software:       {}", clean(&parts.join(" ")));
        }
    }
    if let Some(p) = &c.publisher {
        let _ = writeln!(s, "  publisher:      {}", clean(p));
    }
    let _ = writeln!(
        s,
        "  base URL:       {}",
        c.base_url.as_deref().map_or("(none)".into(), clean)
    );
    let _ = writeln!(s, "  formats:        {}", list(&c.formats));
    if !c.patch_formats.is_empty() {
        let _ = writeln!(s, "  patch formats:  {}", list(&c.patch_formats));
    }

    let sec = &c.security;
    let _ = writeln!(s, "\nSecurity");
    let _ = writeln!(s, "  services:       {}", list(&sec.services));
    if let Some(cors) = sec.cors {
        let _ = writeln!(s, "  CORS:           {}", if cors { "yes" } else { "no" });
    }
    if sec.oauth.is_empty() {
        let _ = writeln!(s, "  OAuth:          (no endpoints declared)");
    }
    for (name, url) in sec.oauth.iter() {
        if let Some(url) = url {
            let _ = writeln!(s, "  {:<15} {}", format!("{name}:"), clean(url));
        }
    }
    if let Some(issuer) = &sec.issuer {
        let _ = writeln!(s, "  issuer:         {}", clean(issuer));
    }
    if let Some(jwks) = &sec.jwks_uri {
        let _ = writeln!(s, "  jwks_uri:       {}", clean(jwks));
    }
    for (label, items) in [
        ("auth methods:", &sec.token_endpoint_auth_methods),
        ("signing algs:", &sec.token_endpoint_auth_signing_algs),
        ("grant types:", &sec.grant_types),
    ] {
        if !items.is_empty() {
            let _ = writeln!(s, "  {label:<15} {}", list(items));
        }
    }
    if !sec.scopes.is_empty() {
        let _ = writeln!(s, "  scopes:         {} declared", sec.scopes.len());
    }
    if !sec.smart_capabilities.is_empty() {
        let _ = writeln!(s, "  capabilities:   {}", list(&sec.smart_capabilities));
    }

    let sys = &c.system;
    if !sys.interactions.is_empty() || !sys.operations.is_empty() || !sys.search_params.is_empty() {
        let _ = writeln!(s, "\nSystem");
        let codes: Vec<String> = sys
            .interactions
            .iter()
            .map(|i| i.code().to_owned())
            .collect();
        let _ = writeln!(s, "  interactions:   {}", list(&codes));
        let ops: Vec<String> = sys
            .operations
            .iter()
            .map(|o| format!("${}", o.name))
            .collect();
        let _ = writeln!(s, "  operations:     {}", list(&ops));
        let params: Vec<String> = sys
            .search_params
            .iter()
            .map(|p| match p.modifiers.as_slice() {
                [] => p.name.clone(),
                m => format!("{} (:{})", p.name, m.join(", :")),
            })
            .collect();
        let _ = writeln!(s, "  search params:  {}", list(&params));
    }

    let width = c
        .resources
        .iter()
        .map(|r| r.resource_type.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(s, "\nResources ({})", c.resources.len());
    let _ = write!(s, "  {:<width$}", "TYPE");
    for (head, _) in HEADS {
        let _ = write!(s, " {head:>6}");
    }
    let _ = writeln!(s, " {:>6} {:>4}", "params", "ops");
    let (mut params, mut ops) = (0, 0);
    for r in &c.resources {
        let _ = write!(s, "  {:<width$}", r.resource_type);
        for (_, interaction) in HEADS {
            let _ = write!(s, " {:>6}", if r.supports(interaction) { "x" } else { "." });
        }
        let _ = writeln!(s, " {:>6} {:>4}", r.search_params.len(), r.operations.len());
        params += r.search_params.len();
        ops += r.operations.len();
    }
    let _ = writeln!(
        s,
        "  {} resources, {params} search parameters, {ops} operations",
        c.resources.len()
    );
    let with_ops: Vec<String> = c
        .resources
        .iter()
        .flat_map(|r| {
            r.operations
                .iter()
                .map(move |o| format!("{} ${}", r.resource_type, o.name))
        })
        .collect();
    if !with_ops.is_empty() {
        let _ = writeln!(s, "  operations: {}", list(&with_ops));
    }
    // Modifiers the statement declares as entries of their own (`subject:missing`).
    let modifiers: Vec<String> = c
        .resources
        .iter()
        .flat_map(|r| {
            r.search_params.iter().flat_map(move |p| {
                p.modifiers
                    .iter()
                    .map(move |m| format!("{} {}:{m}", r.resource_type, p.name))
            })
        })
        .collect();
    if !modifiers.is_empty() {
        let _ = writeln!(s, "  search modifiers: {}", list(&modifiers));
    }

    if !c.generic_operations.is_empty() {
        let _ = writeln!(s, "\nGeneric operations ({})", c.generic_operations.len());
        let path_width = c
            .generic_operations
            .iter()
            .map(|o| o.path.len())
            .max()
            .unwrap_or(0)
            .min(60);
        for op in &c.generic_operations {
            let params = op.params.len();
            let body = match (&op.request_body, &op.response_body) {
                (Some(_), Some(_)) => "body in/out",
                (Some(_), None) => "body in",
                (None, Some(_)) => "body out",
                (None, None) => "",
            };
            let _ = writeln!(
                s,
                "  {:<7} {:<path_width$}  {}  ({params} params{}{body})",
                op.method.as_str(),
                clean(&op.path),
                clean(&op.rust_name),
                if body.is_empty() { "" } else { ", " },
            );
        }
    }

    let _ = writeln!(s, "\nWarnings ({})", parsed.warnings.len());
    for w in &parsed.warnings {
        let _ = writeln!(s, "  {}", clean(&w.to_string()));
    }
    s
}
