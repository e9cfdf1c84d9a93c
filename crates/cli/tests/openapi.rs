//! `fhirforge inspect` and `generate` on OpenAPI documents: detection by content, `--format`,
//! `--capability`, generic operations in the table and the JSON.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fhirforge() -> Command {
    let mut cmd = Command::cargo_bin("fhirforge").unwrap();
    cmd.current_dir(root());
    cmd
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = fhirforge().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_openapi_document_inspects_by_content() {
    for dir in ["specs/openapi", "specs/openapi-synthetic"] {
        for file in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = file.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                continue;
            }
            let (code, stdout, stderr) = run(&["inspect", path.to_str().unwrap()]);
            // The synthetic refusals end in a clear error (exit 2), never a panic.
            let refused = ["billion-laughs", "external-ref", "ref-cycle"]
                .iter()
                .any(|r| name.starts_with(r));
            if refused {
                assert_eq!(code, 2, "{name}: {stderr}");
                assert!(stderr.starts_with("error: reading"), "{name}: {stderr}");
                assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            } else {
                assert_eq!(code, 0, "{name}: {stderr}");
                assert!(stdout.contains("\nWarnings ("), "{name}: {stdout}");
            }
        }
    }
}

#[test]
fn generic_operations_are_in_the_table_and_the_json() {
    let (code, stdout, stderr) = run(&["inspect", "specs/openapi-synthetic/swagger-mixed.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\nGeneric operations (2)\n"), "{stdout}");
    assert!(
        stdout.contains("  PUT     /reports/{year}  put_reports_by_year  (1 params, body in)\n"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run(&[
        "inspect",
        "--json",
        "specs/openapi-synthetic/swagger-mixed.yaml",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let ops = v["generic_operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1]["method"], "PUT");
    assert_eq!(ops[1]["path"], "/reports/{year}");
    assert_eq!(ops[1]["params"][0]["location"], "path");

    // A capability statement has none, and the table says nothing about them.
    let (code, stdout, _) = run(&["inspect", "specs/vendors/epic-r4-capability.json"]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("Generic operations"));
}

#[test]
fn a_capability_statement_types_the_search_parameters() {
    let dir = tempfile::tempdir().unwrap();
    // `family` is a string in FHIR core; this server says token, and the statement wins.
    let cap = dir.path().join("cap.json");
    std::fs::write(
        &cap,
        r#"{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1",
            "format":["json"],"rest":[{"mode":"server","resource":[{"type":"Patient",
            "searchParam":[{"name":"family","type":"token"}]}]}]}"#,
    )
    .unwrap();
    let param_type = |args: &[&str]| {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 0, "{stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap();
        let patient = v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "Patient")
            .unwrap()
            .clone();
        patient["search_params"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "family")
            .unwrap()["type"]
            .clone()
    };
    let spec = "specs/openapi-synthetic/hfs-patient.json";
    assert_eq!(param_type(&["inspect", "--json", spec]), "string");
    assert_eq!(
        param_type(&[
            "inspect",
            "--json",
            "--capability",
            cap.to_str().unwrap(),
            spec
        ]),
        "token"
    );
}

#[test]
fn format_overrides_detection_and_capability_needs_openapi() {
    let (code, _, stderr) = run(&[
        "inspect",
        "--format",
        "capability",
        "specs/openapi-synthetic/hfs-patient.json",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("CapabilityStatement"), "{stderr}");

    let (code, _, stderr) = run(&[
        "inspect",
        "--format",
        "openapi",
        "specs/vendors/epic-r4-capability.json",
    ]);
    assert_eq!(code, 2, "{stderr}");

    let (code, _, stderr) = run(&[
        "inspect",
        "--capability",
        "specs/vendors/epic-r4-capability.json",
        "specs/vendors/epic-r4-capability.json",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--capability applies only to OpenAPI documents"),
        "{stderr}"
    );

    // With a URL, `--format openapi` fetches the document itself (not `/metadata`); nothing
    // listens on port 1 of the loopback interface, and credentials never reach the message.
    let (code, stdout, stderr) = run(&[
        "inspect",
        "--format",
        "openapi",
        "http://user:pw@127.0.0.1:1/openapi.json?key=s3cret",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("fetching the OpenAPI document"), "{stderr}");
    assert!(stderr.contains("127.0.0.1:1/openapi.json"), "{stderr}");
    assert!(
        !stderr.contains("s3cret") && !stderr.contains("pw@"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("krate");
    let (code, stdout, stderr) = run(&[
        "generate",
        "--format",
        "openapi",
        "--capability",
        "specs/vendors/epic-r4-capability.json",
        "specs/openapi-synthetic/hfs-patient.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("wrote "), "{stdout}");
    assert!(out.join("src/lib.rs").is_file());

    // Detected by content; the generic operations are counted and get methods.
    let out = dir.path().join("mixed");
    let (code, stdout, stderr) = run(&[
        "generate",
        "specs/openapi-synthetic/swagger-mixed.yaml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(", 2 generic operations) to "), "{stdout}");
    let lib = std::fs::read_to_string(out.join("src/lib.rs")).unwrap();
    assert!(lib.contains("pub fn api(&self) -> Api<'_>"), "{lib}");
    assert!(lib.contains("pub async fn put_reports_by_year("), "{lib}");
}
