//! `fhirforge diff`: capability drift between two statements, human-readable and JSON, with the
//! exit codes a CI job relies on (0 equal, 3 drift, 2 invalid input, 1 unreadable).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn epic_r4() -> PathBuf {
    root().join("specs/vendors/epic-r4-capability.json")
}

fn fhirforge() -> Command {
    Command::cargo_bin("fhirforge").unwrap()
}

/// The Epic R4 statement with Patient's `birthdate` search parameter removed and a
/// `Basic` resource (which Epic does not declare) added, written into `dir`.
fn drifted_copy(dir: &Path) -> PathBuf {
    let mut doc: Value = serde_json::from_slice(&std::fs::read(epic_r4()).unwrap()).unwrap();
    let resources = doc["rest"][0]["resource"].as_array_mut().unwrap();
    assert!(
        resources.iter().all(|r| r["type"] != "Basic"),
        "the fixture must not declare Basic already"
    );
    let patient = resources
        .iter_mut()
        .find(|r| r["type"] == "Patient")
        .unwrap();
    let params = patient["searchParam"].as_array_mut().unwrap();
    let before = params.len();
    params.retain(|p| p["name"] != "birthdate");
    assert_eq!(
        params.len(),
        before - 1,
        "Epic's Patient declares birthdate once"
    );
    resources.push(json!({
        "type": "Basic",
        "interaction": [{"code": "read"}],
        "searchParam": [{"name": "code", "type": "token"}]
    }));
    let path = dir.join("epic-r4-drifted.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

#[test]
fn equal_statements_exit_0_and_print_nothing() {
    let out = fhirforge()
        .arg("diff")
        .arg(epic_r4())
        .arg(epic_r4())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn one_removed_parameter_and_one_added_resource_are_exactly_the_changes() {
    let dir = tempfile::tempdir().unwrap();
    let drifted = drifted_copy(dir.path());

    let out = fhirforge()
        .arg("diff")
        .arg(epic_r4())
        .arg(&drifted)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "drift is exit code 3");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "+ Basic resource Basic\n- Patient search-param birthdate\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("capability drift: 2 changes"));

    let out = fhirforge()
        .args(["diff", "--json"])
        .arg(epic_r4())
        .arg(&drifted)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let changes: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        changes,
        json!([
            {"kind": "added", "element": "resource", "scope": "Basic", "name": "Basic"},
            {"kind": "removed", "element": "search-param", "scope": "Patient", "name": "birthdate"}
        ])
    );

    // Reversed, the same two changes flip.
    let out = fhirforge()
        .arg("diff")
        .arg(&drifted)
        .arg(epic_r4())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "- Basic resource Basic\n+ Patient search-param birthdate\n"
    );
}

#[test]
fn unreadable_and_invalid_inputs_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let out = fhirforge()
        .arg("diff")
        .arg(epic_r4())
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file that cannot be read is exit code 1"
    );

    let not_a_statement = dir.path().join("patient.json");
    std::fs::write(&not_a_statement, r#"{"resourceType": "Patient"}"#).unwrap();
    let out = fhirforge()
        .arg("diff")
        .arg(epic_r4())
        .arg(&not_a_statement)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "not a capability statement is exit code 2"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEW"));
}
