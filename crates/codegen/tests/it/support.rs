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

/// Writes `krate` and a binary crate `e2e-app` (with `main.rs` = `app`, depending on the
/// connector as `connector_package`) into a temporary workspace that shares the repository's
/// target directory and profiles, then `cargo run`s it with `base` as its argument. Returns
/// (success, stdout, stderr).
pub(crate) async fn run_app(
    krate: &fhirforge_codegen::GeneratedCrate,
    connector_package: &str,
    app: &str,
    base: &str,
) -> (bool, String, String) {
    let runtime = root().join("crates/runtime").canonicalize().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    krate.write(&tmp.path().join("connector"), false).unwrap();
    let app_dir = tmp.path().join("app");
    std::fs::create_dir_all(app_dir.join("src")).unwrap();
    std::fs::write(app_dir.join("src/main.rs"), app).unwrap();
    std::fs::write(
        app_dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"e2e-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n{connector_package} = {{ path = \"../connector\" }}\n\
             fhirforge-runtime = {{ path = {:?} }}\nfutures = \"0.3\"\nserde_json = \"1\"\n\
             tokio = {{ version = \"1\", features = [\"macros\", \"rt\"] }}\n",
            runtime.to_string_lossy()
        ),
    )
    .unwrap();
    let root_manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let profiles = root_manifest
        .find("[profile.")
        .map(|i| &root_manifest[i..])
        .unwrap_or("");
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        format!("[workspace]\nresolver = \"2\"\nmembers = [\"connector\", \"app\"]\n\n{profiles}"),
    )
    .unwrap();
    std::fs::copy(root().join("Cargo.lock"), tmp.path().join("Cargo.lock")).unwrap();

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let base = base.to_owned();
    let (output, _tmp) = tokio::task::spawn_blocking(move || {
        std::process::Command::new(cargo)
            .current_dir(tmp.path())
            .env("CARGO_TARGET_DIR", &target)
            .args(["run", "--offline", "-q", "-p", "e2e-app", "--", &base])
            .output()
            .map(|o| (o, tmp))
    })
    .await
    .unwrap()
    .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
