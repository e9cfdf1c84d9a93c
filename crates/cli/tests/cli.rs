//! The `fhirforge` binary: goldens for `--help` and `inspect` on Epic R4, JSON output, exit codes.
//!
//! Bless changed goldens with `EXPECTORATE=overwrite cargo test -p fhirforge-cli` and review the
//! diff.

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

fn stdout_of(args: &[&str]) -> String {
    let out = fhirforge().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_golden() {
    expectorate::assert_contents("tests/data/help.stdout", &stdout_of(&["--help"]));
    expectorate::assert_contents(
        "tests/data/inspect-help.stdout",
        &stdout_of(&["inspect", "--help"]),
    );
}

#[test]
fn inspect_epic_r4_golden() {
    let out = stdout_of(&["inspect", "specs/vendors/epic-r4-capability.json"]);
    expectorate::assert_contents("tests/data/inspect-epic-r4.stdout", &out);
}

#[test]
fn inspect_json_has_the_model_and_warnings() {
    let out = stdout_of(&[
        "inspect",
        "--json",
        "specs/vendors/athenahealth-r4-capability.json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["fhir_version"], "4.0.1");
    let resources = v["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 32);
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    let interactions: Vec<&str> = patient["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert_eq!(interactions, ["read", "search-type"]);
    let birthdate = patient["search_params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "birthdate")
        .unwrap();
    assert_eq!(birthdate["type"], "date");
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 3);
    assert_eq!(warnings[0]["pointer"], "/rest/0/security/extension/0/url");
}

#[test]
fn inspect_merges_a_smart_configuration() {
    let out = stdout_of(&[
        "inspect",
        "specs/vendors/athenahealth-r4-capability.json",
        "--smart-config",
        "specs/vendors/athenahealth-r4-smart-configuration.json",
    ]);
    assert!(
        out.contains("  issuer:         https://athena.okta.com/oauth2/aus2hff5eqFb7Wqfh297\n"),
        "{out}"
    );
    assert!(out.contains("  auth methods:   client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none\n"), "{out}");
    assert!(
        out.contains("smart-configuration#/token_endpoint_auth_methods: non-standard key"),
        "{out}"
    );
}

#[test]
fn inspect_reads_xml_and_every_vendor_file() {
    let out = stdout_of(&["inspect", "specs/synthetic/r4b-capability.xml"]);
    assert!(
        out.starts_with("Synthetic R4B (FHIR 4.3.0, R4B)\n"),
        "{out}"
    );
    for file in std::fs::read_dir(root().join("specs/vendors")).unwrap() {
        let path = file.unwrap().path();
        if path.to_string_lossy().ends_with("-capability.json") {
            stdout_of(&["inspect", path.to_str().unwrap()]);
        }
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["inspect".into(), "no/such/file.json".into()], 1, "error: reading no/such/file.json\n  caused by: could not read no/such/file.json\n"),
        (vec!["inspect".into(), write("patient.json", r#"{"resourceType":"Patient"}"#)], 2, "not a CapabilityStatement or Conformance: resourceType \"Patient\""),
        (vec!["inspect".into(), write("bad.json", "{\n  \"resourceType\": \"CapabilityStatement\",\n  oops\n}")], 2, "malformed JSON at line 3, column 3"),
        (vec!["inspect".into(), write("bomb.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"a\">]>\n<CapabilityStatement/>")], 2, "XML document type declarations (<!DOCTYPE>) are refused at line 2, column 1"),
        (vec!["inspect".into(), "https://".into()], 2, "invalid URL"),
        // Nothing listens on port 1 of the loopback interface.
        (vec!["inspect".into(), "http://127.0.0.1:1/fhir".into()], 1, "request to http://127.0.0.1:1/fhir/metadata failed"),
        (vec!["inspect".into()], 2, "<SPEC-FILE|BASE-URL>"),
        (vec!["frobnicate".into()], 2, "unrecognized subcommand"),
    ];
    for (args, code, message) in cases {
        let out = fhirforge().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn credentials_in_a_url_never_reach_the_output() {
    let out = fhirforge()
        .args([
            "inspect",
            "http://alice:hunter2@127.0.0.1:1/fhir?token=s3cret",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains("hunter2") && !stderr.contains("s3cret") && !stderr.contains("alice"),
        "{stderr}"
    );
}

#[test]
fn inspect_survives_a_hostile_statement() {
    let out = fhirforge()
        .args(["inspect", "specs/synthetic/hostile-capability.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Spec text cannot inject terminal escapes or extra lines.
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout}"
    );
    assert!(
        stdout.starts_with("Hostile\u{FFFD}\u{FFFD}[2J\"# */ fn main() {} (FHIR 4.0.1, R4)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n  Patient "), "{stdout}");
    assert!(stdout.contains("\n  Self "), "{stdout}");
    assert!(stdout.contains("Warnings (1"), "{stdout}");
    let json = fhirforge()
        .args([
            "inspect",
            "--json",
            "specs/synthetic/hostile-capability.json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let types: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Patient", "Self"]);
    let patient = &v["resources"][0];
    let ops: Vec<(&str, &str)> = patient["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap(),
                o["rust_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [("everything", "everything"), ("create", "create_operation")]
    );
    assert_eq!(v["resources"][1]["rust_name"], "self_");
    // Endpoint URLs with whitespace or a non-http scheme are skipped, not silently repaired.
    assert_eq!(v["security"]["oauth"]["token"], Value::Null);
    assert_eq!(v["security"]["oauth"]["authorize"], Value::Null);
    assert!(
        stdout.contains("  publisher:      \u{FFFD}evil\u{FFFD}\n"),
        "{stdout}"
    );
}

/// `inspect <BASE-URL>` against the real hfs FHIR server.
#[tokio::test]
async fn inspect_a_live_hfs_server() {
    let hfs = fhirforge_testkit::hfs::Hfs::start().await.unwrap();
    let base = hfs.base_url().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        fhirforge()
            .args(["inspect", "--json", &base])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fhir_version"], "4.0.1");
    let resources = v["resources"].as_array().unwrap();
    assert!(resources.len() > 100, "{}", resources.len());
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    assert!(patient["interactions"]
        .as_array()
        .unwrap()
        .contains(&Value::from("search-type")));
}
