//! Every vendor spec generates a crate, and the generated crates compile with no warnings (and
//! no clippy or rustdoc warnings). The committed connectors (Epic R4, Cerner R4, athenahealth R4)
//! are workspace members and compiled there; this test builds the others (Epic STU3 and DSTU2,
//! Cerner DSTU2, the Cerner open R4 statement, every OpenAPI document in `specs/openapi` and the
//! synthetic OpenAPI documents that read without error) in ONE cargo invocation on a temporary
//! workspace that shares the repository's target directory and profile settings, so
//! dependencies are not rebuilt.

use crate::support::{load, root};
use fhirforge_codegen::{generate_crate, GenerateOptions};
use std::process::Command;

const SPECS: &[(&str, &str)] = &[
    (
        "fhirforge-epic-stu3",
        "specs/vendors/epic-stu3-capability.json",
    ),
    (
        "fhirforge-epic-dstu2",
        "specs/vendors/epic-dstu2-capability.json",
    ),
    (
        "fhirforge-cerner-dstu2",
        "specs/vendors/cerner-dstu2-capability.json",
    ),
    (
        "fhirforge-cerner-open",
        "specs/vendors/cerner-r4-open-capability.json",
    ),
];

/// OpenAPI documents compiled beside the vendor statements: every one in `specs/openapi`, and
/// the synthetic ones that are read (not refused) by the reader.
fn openapi_specs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["specs/openapi", "specs/openapi-synthetic"] {
        let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json") || n.ends_with(".yaml"))
            .collect();
        names.sort();
        for name in names {
            let rel = format!("{dir}/{name}");
            let bytes = std::fs::read(root().join(&rel)).unwrap();
            let options = fhirforge_parse::openapi::Options::default();
            if dir.ends_with("synthetic")
                && fhirforge_parse::openapi::read(&bytes, &options).is_err()
            {
                // The refusal cases (billion laughs, external refs, cycles): tested elsewhere.
                continue;
            }
            let stem = name.split('.').next().unwrap_or_default().to_owned();
            out.push((format!("fhirforge-openapi-{stem}"), rel));
        }
    }
    out
}

/// A CapabilityStatement, or an OpenAPI document read by the OpenAPI reader.
fn load_any(rel: &str) -> (fhirforge_model::Connector, fhirforge_codegen::Source) {
    if !rel.starts_with("specs/openapi") {
        return load(rel);
    }
    let path = root().join(rel);
    let bytes = std::fs::read(&path).unwrap();
    let options = fhirforge_parse::openapi::Options::default();
    let parsed = fhirforge_parse::openapi::read(&bytes, &options).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    (
        parsed.parsed.connector,
        fhirforge_codegen::Source::new(&name, &bytes),
    )
}

#[test]
fn every_vendor_spec_generates() {
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("specs/vendors")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with("-capability.json") {
            continue;
        }
        let (connector, source) = load(&format!("specs/vendors/{name}"));
        let krate = generate_crate(&connector, &GenerateOptions::default(), &source).unwrap();
        let lib = &krate.file("src/lib.rs").unwrap().contents;
        // Every declared, searchable resource has an accessor.
        for r in &connector.resources {
            assert!(
                lib.contains(&format!("pub fn {}(&self)", r.rust_name)),
                "{name}: {}",
                r.resource_type
            );
        }
        count += 1;
    }
    assert!(
        count >= 7,
        "expected the seven vendor statements, found {count}"
    );
}

#[test]
fn uncommitted_vendor_crates_compile_without_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let runtime = root().join("crates/runtime").canonicalize().unwrap();
    let mut members = Vec::new();
    let mut packages: Vec<(String, String)> = SPECS
        .iter()
        .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
        .collect();
    let openapi = openapi_specs();
    assert!(openapi.len() >= 8, "{openapi:?}");
    packages.extend(openapi);
    for (package, spec) in &packages {
        let (connector, source) = load_any(spec);
        let options = GenerateOptions {
            name: Some(package.clone()),
            runtime_path: Some(runtime.to_string_lossy().into_owned()),
            ..Default::default()
        };
        let krate = generate_crate(&connector, &options, &source).unwrap();
        krate.write(&tmp.path().join(package), false).unwrap();
        members.push(format!("{package:?}"));
    }
    // Same profiles as the repository, so the shared target directory's artifacts are reused.
    let root_manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let profiles = root_manifest
        .find("[profile.")
        .map(|i| &root_manifest[i..])
        .unwrap_or("");
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n{profiles}",
            members.join(", ")
        ),
    )
    .unwrap();
    std::fs::copy(root().join("Cargo.lock"), tmp.path().join("Cargo.lock")).unwrap();

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(tmp.path())
        .env("CARGO_TARGET_DIR", &target)
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--offline",
            "--message-format=json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut problems = Vec::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" {
            continue;
        }
        let package = msg["package_id"].as_str().unwrap_or_default();
        let ours = packages.iter().any(|(p, _)| package.contains(p.as_str()));
        let level = msg["message"]["level"].as_str().unwrap_or_default();
        if ours && (level == "warning" || level == "error") {
            problems.push(
                msg["message"]["rendered"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    assert!(
        problems.is_empty(),
        "generated crates have warnings:\n{}",
        problems.join("\n")
    );
    assert!(
        output.status.success(),
        "cargo clippy failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Spec documentation becomes rustdoc: it must not trip rustdoc's lints either.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let doc = Command::new(cargo)
        .current_dir(tmp.path())
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--offline"])
        .output()
        .unwrap();
    assert!(
        doc.status.success(),
        "cargo doc failed:\n{}",
        String::from_utf8_lossy(&doc.stderr)
    );
}

/// OpenAPI documents read by `fhirforge-parse` generate too: an accessor per FHIR resource and a
/// method per generic operation (except those with a non-JSON request body, listed as skipped).
#[test]
fn every_openapi_spec_generates() {
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("specs/openapi")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let options = fhirforge_parse::openapi::Options::default();
        let parsed = fhirforge_parse::openapi::read(&bytes, &options)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = fhirforge_codegen::Source::new(&name, &bytes);
        let text = fhirforge_codegen::generate_module(
            &parsed.parsed.connector,
            &GenerateOptions::default(),
            &source,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        syn::parse_file(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for r in &parsed.parsed.connector.resources {
            assert!(
                text.contains(&format!("pub fn {}(&self)", r.rust_name)),
                "{name}: {}",
                r.resource_type
            );
        }
        for op in &parsed.parsed.connector.generic_operations {
            let json_or_none = op.request_body.as_ref().is_none_or(|b| b.is_json());
            let has_method = text.contains(&format!("pub async fn {}(", op.rust_name));
            assert_eq!(has_method, json_or_none, "{name}: {}", op.rust_name);
        }
        count += 1;
    }
    assert!(count >= 4, "{count}");
}

/// Epic declares `conditionalCreate: false` on every resource: every generated `create` must say
/// so to the runtime (`server_honours_if_none_exist(false)`), so that a client built with
/// `conditional_create_is_idempotent(true)` still never retries a create the server may have
/// carried out (a duplicate patient). The synthetic cases (`true`, absent) are in `goldens`.
#[test]
fn epic_creates_are_never_retried() {
    let (connector, source) = load("specs/vendors/epic-r4-capability.json");
    assert!(connector
        .resources
        .iter()
        .all(|r| r.conditional_create == Some(false)));
    let creatable = connector
        .resources
        .iter()
        .filter(|r| r.supports(fhirforge_model::ResourceInteraction::Create))
        .count();
    assert!(creatable >= 10, "{creatable}");
    let krate = generate_crate(&connector, &GenerateOptions::default(), &source).unwrap();
    let count = |needle: &str| {
        krate
            .files
            .iter()
            .map(|f| f.contents.matches(needle).count())
            .sum::<usize>()
    };
    assert_eq!(count("pub fn create("), creatable);
    assert_eq!(count(".server_honours_if_none_exist(false)"), creatable);
    assert_eq!(count(".server_honours_if_none_exist(true)"), 0);
}

/// SMART App Launch helpers appear exactly where the statement declares an authorize endpoint
/// and OAuth2 is exposed.
#[test]
fn app_launch_helpers_follow_the_declared_authorize_endpoint() {
    let lib = |connector: &fhirforge_model::Connector, options: &GenerateOptions, source| {
        generate_crate(connector, options, source)
            .unwrap()
            .files
            .into_iter()
            .find(|f| f.path == "src/lib.rs")
            .unwrap()
            .contents
    };
    let (mut epic, source) = load("specs/vendors/epic-r4-capability.json");
    let authorize = epic
        .security
        .oauth
        .authorize
        .clone()
        .expect("Epic declares authorize");
    let text = lib(&epic, &GenerateOptions::default(), &source);
    assert!(text.contains(&format!("pub const AUTHORIZE_URL: &str = \"{authorize}\";")));
    assert!(text.contains("pub async fn app_launch("));
    assert!(text.contains("pub fn app_launch(\n        self,"));

    let basic_only = GenerateOptions {
        auth: Some(vec![fhirforge_codegen::AuthKind::Basic]),
        ..GenerateOptions::default()
    };
    let text = lib(&epic, &basic_only, &source);
    assert!(!text.contains("app_launch") && !text.contains("AUTHORIZE_URL"));

    epic.security.oauth.authorize = None;
    let text = lib(&epic, &GenerateOptions::default(), &source);
    assert!(!text.contains("app_launch") && !text.contains("AUTHORIZE_URL"));
}
