//! `fhirforge generate`: write a typed Rust connector crate for one EHR.

use crate::exit::InvalidInput;
use crate::term::clean;
use anyhow::Context;
use fhirforge_codegen::{generate_crate, GenerateOptions, Source};
use fhirforge_parse::Limits;
use std::path::{Path, PathBuf};

/// Generate a typed Rust connector crate from a capability statement or OpenAPI document.
///
/// Reads the statement (a CapabilityStatement or OpenAPI file, detected by content unless
/// `--format` says, or live from a server's `<BASE-URL>/metadata`) and writes a crate with `Cargo.toml`, `README.md`, `src/lib.rs` and
/// `examples/basic.rs` into `--out`. Only the resources, interactions, search parameters and
/// operations the statement declares get methods. `--out` may be missing, empty or the same crate
/// as fhirforge generated it before; any other non-empty directory is refused unless `--force`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    input: super::inspect::SpecArgs,

    /// The directory to write the crate into
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// The crate's package name (default: from the config, else `fhirforge-<statement name>`)
    #[arg(long)]
    name: Option<String>,

    /// Generation options (TOML): name, base-url, auth, range, params, include-resources,
    /// exclude-resources, default-params, quirks
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Depend on the fhirforge-runtime crate at this path (relative to the generated crate)
    /// instead of by version
    #[arg(long, value_name = "PATH")]
    runtime_path: Option<String>,

    /// Write into a non-empty directory that fhirforge did not create
    #[arg(long)]
    force: bool,
}

/// `scheme://host[:port]/path/metadata` without user info, query or fragment: the name in the
/// `@generated` header must not carry credentials.
fn display_url(base: &str) -> String {
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        format!("{scheme}://{host}/metadata")
    } else {
        format!("{scheme}://{host}/{path}/metadata")
    }
}

/// The name and bytes the generated `@generated` header names and hashes, as `generate` and
/// `studio` both need them (the studio's download must equal this command's output).
pub(crate) fn source_of(
    input: &super::inspect::SpecArgs,
    loaded: &fhirforge_parse::Loaded,
) -> anyhow::Result<(String, Vec<u8>)> {
    let spec = &input.spec;
    Ok(match &loaded.bytes {
        Some(bytes) => {
            // The file name only: output must not depend on where the checkout lives.
            let name = Path::new(spec)
                .file_name()
                .map_or_else(|| spec.clone(), |n| n.to_string_lossy().into_owned());
            (name, bytes.clone())
        }
        None => {
            // No file bytes to hash: hash the model read from the server, which is deterministic.
            let model =
                serde_json::to_vec(&loaded.parsed.connector).context("serializing the model")?;
            let name = if input.format == Some(super::inspect::SpecFormat::Openapi) {
                display_url(spec).trim_end_matches("/metadata").to_owned()
            } else {
                display_url(spec)
            };
            (name, model)
        }
    })
}

/// Reads generation options from a `--config` TOML file.
pub(crate) fn read_config(path: &Path) -> anyhow::Result<GenerateOptions> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    GenerateOptions::from_toml(&text)
        .map_err(|e| InvalidInput(e.to_string()))
        .with_context(|| format!("reading {}", path.display()))
}

/// Runs `fhirforge generate`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let limits = Limits::default();
    let loaded = super::inspect::load(&args.input, &limits)?;
    let (name, bytes) = source_of(&args.input, &loaded)?;
    let source = Source::new(&name, &bytes);
    let parsed = loaded.parsed;
    for warning in &parsed.warnings {
        eprintln!("warning: {}", clean(&warning.to_string()));
    }

    let mut options = match &args.config {
        Some(path) => read_config(path)?,
        None => GenerateOptions::default(),
    };
    if let Some(name) = args.name {
        options.name = Some(name);
    }
    if let Some(path) = args.runtime_path {
        options.runtime_path = Some(path);
    }
    for key in options.unused_keys(&parsed.connector) {
        eprintln!(
            "warning: config key {} matches nothing in the statement",
            clean(&key)
        );
    }

    let krate = generate_crate(&parsed.connector, &options, &source).map_err(|e| match e {
        fhirforge_codegen::Error::Options(_) => anyhow::Error::new(InvalidInput(e.to_string())),
        other => anyhow::Error::new(other),
    })?;
    krate.write(&args.out, args.force).map_err(|e| match e {
        fhirforge_codegen::Error::OutDirNotEmpty(_) => {
            anyhow::Error::new(InvalidInput(e.to_string()))
        }
        other => anyhow::Error::new(other),
    })?;
    let generic = match parsed.connector.generic_operations.len() {
        0 => String::new(),
        n => format!(", {n} generic operations"),
    };
    println!(
        "wrote {} ({} resources{generic}) to {}",
        krate.package_name,
        parsed.connector.resources.len(),
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_and_queries_in_the_header() {
        assert_eq!(
            display_url("https://u:p@ehr.example/fhir/r4/?k=secret"),
            "https://ehr.example/fhir/r4/metadata"
        );
        assert_eq!(
            display_url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/metadata"
        );
    }
}
