//! Loading specs and options from the repository.

use fhirforge_codegen::{GenerateOptions, Source};
use fhirforge_model::Connector;
use std::path::{Path, PathBuf};

/// The repository root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads a CapabilityStatement (path relative to the repository root) with `fhirforge-parse`.
pub(crate) fn load(rel: &str) -> (Connector, Source) {
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let parsed = fhirforge_parse::read_capability_statement(
        &bytes,
        None,
        &fhirforge_parse::Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{rel}: {e}"));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("spec");
    (parsed.connector, Source::new(name, &bytes))
}

/// Options from a TOML file relative to the repository root, or the defaults when it is absent.
pub(crate) fn options(rel: &str) -> GenerateOptions {
    match std::fs::read_to_string(root().join(rel)) {
        Ok(text) => GenerateOptions::from_toml(&text).unwrap_or_else(|e| panic!("{rel}: {e}")),
        Err(_) => GenerateOptions::default(),
    }
}

/// Reads a connector model serialized as JSON, bypassing the parser's own name checks.
pub(crate) fn load_model(rel: &str) -> (Connector, Source) {
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let connector: Connector =
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    (connector, Source::new(name, &bytes))
}

/// Reads an OpenAPI document (path relative to the repository root) with `fhirforge-parse`.
pub(crate) fn load_openapi(rel: &str) -> (Connector, Source) {
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let read =
        fhirforge_parse::openapi::read(&bytes, &fhirforge_parse::openapi::Options::default())
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("spec");
    (read.parsed.connector, Source::new(name, &bytes))
}
