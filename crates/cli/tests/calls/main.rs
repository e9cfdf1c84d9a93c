//! The call commands end to end: the `fhirforge` binary against a real FHIR server (hfs, one
//! fresh in-memory instance per test), behind the testkit's auth gate for the auth tests, with a
//! real OAuth2 server (oidc-provider) for SMART Backend Services. Nothing is mocked.
//!
//! Seed for the search tests (every expected set follows from the FHIR search rules and this
//! table, not from the server's output):
//!
//! | key | family    | given | birthDate  | gender |
//! |-----|-----------|-------|------------|--------|
//! | p1  | Smith     | John  | 1965-03-15 | male   |
//! | p2  | Smith     | Jane  | 1970-06-01 | female |
//! | p3  | Smithson  | Sam   | 1975-12-31 | male   |
//! | p4  | Jones     | Ann   | 1980-01-01 | female |
//! | p5  | Goldsmith | Gail  | 1985-07-20 | other  |

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]
#![allow(
    clippy::expect_used,
    reason = "test code: a failed expect is a failed test"
)]

// One test binary, a module per kind of server.
/// `fhirforge export`: Bulk Data against hfs, and faults and Ctrl-C against the stub.
mod export;
/// Through the testkit's auth gate (basic auth, SMART Backend Services with oidc-provider).
mod gate;
/// Against a fresh hfs: every call kind, searches, errors, checks.
mod hfs;
/// `fhirforge login` and `logout`: SMART App Launch with oidc-provider, through the gate.
mod login;
/// Against the in-process stub, for what a real server will not do (warnings in Bundles, page
/// cycles, 403s) and for the exact requests sent.
mod stub;

use assert_cmd::Command;
use fhirforge_runtime::Client;
use fhirforge_testkit::hfs::Hfs;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

/// Names of environment variables holding test secrets (only the tests set them).
const PASSWORD_VAR: &str = "FHIRFORGE_TEST_GATE_PASSWORD";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `fhirforge` with a private config directory, run from the repository root.
fn fhirforge(config: &Path) -> Command {
    let mut cmd = Command::cargo_bin("fhirforge").unwrap();
    cmd.current_dir(root())
        .env("FHIRFORGE_CONFIG_DIR", config)
        .env_remove(PASSWORD_VAR);
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn run(config: &Path, args: &[&str]) -> Run {
    finish(fhirforge(config).args(args).output().unwrap())
}

fn run_stdin(config: &Path, args: &[&str], stdin: &str) -> Run {
    finish(
        fhirforge(config)
            .args(args)
            .write_stdin(stdin.to_owned())
            .output()
            .unwrap(),
    )
}

async fn hfs() -> Hfs {
    Hfs::start().await.unwrap_or_else(|e| panic!("{e}"))
}

/// Seeds the five patients; returns key → id.
async fn seed(base: &str) -> BTreeMap<String, String> {
    let client = Client::builder(base).build().unwrap();
    let rows = [
        ("p1", "Smith", "John", "1965-03-15", "male"),
        ("p2", "Smith", "Jane", "1970-06-01", "female"),
        ("p3", "Smithson", "Sam", "1975-12-31", "male"),
        ("p4", "Jones", "Ann", "1980-01-01", "female"),
        ("p5", "Goldsmith", "Gail", "1985-07-20", "other"),
    ];
    let mut ids = BTreeMap::new();
    for (key, family, given, birth, gender) in rows {
        let patient = json!({
            "resourceType": "Patient",
            "name": [{"family": family, "given": [given]}],
            "birthDate": birth,
            "gender": gender,
        });
        let created = client.create("Patient", &patient).await.unwrap();
        ids.insert(key.to_owned(), created.id().unwrap().to_owned());
    }
    ids
}

/// The seed keys of the resources in a JSON array.
fn keys(ids: &BTreeMap<String, String>, resources: &Value) -> BTreeSet<String> {
    resources
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {resources}"))
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap();
            ids.iter()
                .find(|(_, v)| *v == id)
                .map_or_else(|| format!("unknown:{id}"), |(k, _)| k.clone())
        })
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}
