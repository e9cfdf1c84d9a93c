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

use assert_cmd::Command;
use fhirforge_runtime::auth::keys::{self, Algorithm};
use fhirforge_runtime::auth::{AuthProvider as _, ClientCredentials, ClientSecret};
use fhirforge_runtime::Client;
use fhirforge_testkit::gate::{Gate, GateAuth, GateConfig};
use fhirforge_testkit::hfs::Hfs;
use fhirforge_testkit::oauth::OAuthServer;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_kind_against_hfs() {
    let hfs = hfs().await;
    let base = hfs.base_url();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let work = tempfile::tempdir().unwrap();

    // capabilities
    let statement = run(cfg, &["capabilities", "--base", base]).ok().json();
    assert_eq!(statement["resourceType"], "CapabilityStatement");

    // create from a file
    let body = work.path().join("patient.json");
    std::fs::write(
        &body,
        r#"{"resourceType": "Patient", "name": [{"family": "Cli", "given": ["One"]}]}"#,
    )
    .unwrap();
    let created = run(
        cfg,
        &["create", "Patient", body.to_str().unwrap(), "--base", base],
    )
    .ok();
    assert!(created.stderr.contains("201"), "{}", created.stderr);
    let created = created.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["meta"]["versionId"], "1");

    // read
    let read = run(cfg, &["read", "Patient", &id, "--base", base])
        .ok()
        .json();
    assert_eq!(read["name"][0]["family"], "Cli");

    // update from stdin with If-Match of the current version
    let v2 = r#"{"resourceType": "Patient", "name": [{"family": "Cli", "given": ["Two"]}]}"#;
    let updated = run_stdin(
        cfg,
        &[
            "update",
            "Patient",
            &id,
            "-",
            "--version",
            "1",
            "--base",
            base,
        ],
        v2,
    )
    .ok()
    .json();
    assert_eq!(updated["meta"]["versionId"], "2");
    assert_eq!(
        updated["id"],
        id.as_str(),
        "the id came from the command line"
    );

    // a stale If-Match is the server's 412: exit 1, nothing changed
    let stale = run_stdin(
        cfg,
        &[
            "update",
            "Patient",
            &id,
            "-",
            "--version",
            "1",
            "--base",
            base,
        ],
        v2,
    );
    assert_eq!(stale.code, Some(1), "stderr: {}", stale.stderr);
    assert!(stale.stderr.contains("412"), "{}", stale.stderr);

    // patch with If-Match read first
    let patch = work.path().join("patch.json");
    std::fs::write(
        &patch,
        r#"[{"op": "replace", "path": "/name/0/given/0", "value": "Three"}]"#,
    )
    .unwrap();
    let patched = run(
        cfg,
        &[
            "patch",
            "Patient",
            &id,
            patch.to_str().unwrap(),
            "--if-match-current",
            "--base",
            base,
        ],
    )
    .ok()
    .json();
    assert_eq!(patched["meta"]["versionId"], "3");
    assert_eq!(patched["name"][0]["given"][0], "Three");

    // vread the first version
    let v1 = run(cfg, &["vread", "Patient", &id, "1", "--base", base])
        .ok()
        .json();
    assert_eq!(v1["name"][0]["given"][0], "One");

    // instance history: three versions; type history includes them
    let history = run(cfg, &["history", "Patient", &id, "--base", base])
        .ok()
        .json();
    let versions: BTreeSet<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["versionId"].as_str().unwrap())
        .collect();
    assert_eq!(versions, BTreeSet::from(["1", "2", "3"]));
    let type_history = run(
        cfg,
        &["history", "Patient", "--ndjson", "--all", "--base", base],
    )
    .ok();
    assert_eq!(type_history.stdout.lines().count(), 3);

    // search
    let found = run(cfg, &["search", "Patient", "family=Cli", "--base", base])
        .ok()
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], id.as_str());

    // operations, checked against /metadata: `$everything` on the instance (hfs declares it
    // for Patient) and `$versions` at system level, both by GET
    let everything = run(
        cfg,
        &[
            "operation",
            "everything",
            "--type",
            "Patient",
            "--id",
            &id,
            "--base",
            base,
        ],
    )
    .ok()
    .json();
    assert_eq!(everything["resourceType"], "Bundle");
    assert!(
        everything["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["resource"]["id"] == id.as_str()),
        "{everything}"
    );
    let versions = run(cfg, &["operation", "$versions", "--base", base])
        .ok()
        .json();
    assert_eq!(versions["resourceType"], "Parameters");

    // delete, then the read is the server's 410 (or 404) with its OperationOutcome: exit 1
    let deleted = run(cfg, &["delete", "Patient", &id, "--base", base]).ok();
    assert!(
        deleted.stderr.starts_with("200") || deleted.stderr.starts_with("204"),
        "{}",
        deleted.stderr
    );
    let gone = run(cfg, &["read", "Patient", &id, "--base", base]);
    assert_eq!(gone.code, Some(1), "stderr: {}", gone.stderr);
    assert!(gone.stdout.is_empty());
    assert!(
        gone.stderr.contains("410") || gone.stderr.contains("404"),
        "{}",
        gone.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_outcome_error_is_printed_readably_with_exit_code_1() {
    let hfs = hfs().await;
    let cfg = tempfile::tempdir().unwrap();
    let out = run(
        cfg.path(),
        &[
            "read",
            "Patient",
            "does-not-exist",
            "--base",
            hfs.base_url(),
        ],
    );
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    // One line per issue, `server: <severity> (<code>): <text>`, then the error line.
    let issue = out
        .stderr
        .lines()
        .find(|l| l.starts_with("server: "))
        .unwrap_or_else(|| panic!("no issue line in: {}", out.stderr));
    assert!(
        issue.starts_with("server: error (") || issue.starts_with("server: fatal ("),
        "{issue}"
    );
    assert!(
        out.stderr.contains("error: FHIR server returned 404"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_by_value_range_raw_parameter_and_pages() {
    let hfs = hfs().await;
    let base = hfs.base_url();
    let ids = seed(base).await;
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let search = |extra: &[&str]| -> BTreeSet<String> {
        let mut args = vec!["search", "Patient", "--base", base];
        args.extend_from_slice(extra);
        keys(&ids, &run(cfg, &args).ok().json())
    };

    // by value: string starts-with, :exact, prefixed date, token
    assert_eq!(search(&["family=Smith"]), set(&["p1", "p2", "p3"]));
    assert_eq!(search(&["family:exact=Smith"]), set(&["p1", "p2"]));
    assert_eq!(
        search(&["birthdate=ge1975-01-01"]),
        set(&["p3", "p4", "p5"])
    );
    assert_eq!(search(&["gender=male,other"]), set(&["p1", "p3", "p5"]));
    assert_eq!(
        search(&["family=Smith", "birthdate=lt1970"]),
        set(&["p1"]),
        "two parameters AND"
    );

    // by range: both ends (inclusive), open lower end, open upper end, exclusive upper end
    assert_eq!(
        search(&["--range", "birthdate=1970-01-01..1980-01-01"]),
        set(&["p2", "p3", "p4"])
    );
    assert_eq!(
        search(&["--range", "birthdate=..1970-12-31"]),
        set(&["p1", "p2"])
    );
    assert_eq!(
        search(&["--range", "birthdate=1980-01-01.."]),
        set(&["p4", "p5"])
    );
    assert_eq!(
        search(&["--range", "birthdate=1970-01-01..<1980-01-01"]),
        set(&["p2", "p3"])
    );

    // a raw parameter, sent as typed
    assert_eq!(search(&["--param", "gender=female"]), set(&["p2", "p4"]));
    assert_eq!(
        search(&["--param", &format!("_id={}", ids["p3"])]),
        set(&["p3"])
    );

    // POST _search finds the same
    assert_eq!(
        search(&["family=Smith", "--post"]),
        set(&["p1", "p2", "p3"])
    );

    // first page only by default
    let first = run(cfg, &["search", "Patient", "_count=2", "--base", base])
        .ok()
        .json();
    assert_eq!(first.as_array().unwrap().len(), 2);

    // --all over 3 pages (5 patients, 2 per page) equals the union of the pages
    let bundles = run(
        cfg,
        &[
            "search", "Patient", "_count=2", "--all", "--bundle", "--ndjson", "--base", base,
        ],
    )
    .ok();
    let pages: Vec<Value> = bundles
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages.len(), 3, "5 patients at 2 per page");
    let mut union = Vec::new();
    for page in &pages {
        assert_eq!(page["resourceType"], "Bundle");
        for entry in page["entry"].as_array().unwrap() {
            union.push(entry["resource"].clone());
        }
    }
    let union_keys = keys(&ids, &Value::Array(union.clone()));
    assert_eq!(union.len(), 5, "no resource repeated across pages");
    assert_eq!(union_keys, set(&["p1", "p2", "p3", "p4", "p5"]));
    let all = run(
        cfg,
        &["search", "Patient", "_count=2", "--all", "--base", base],
    )
    .ok();
    assert_eq!(all.json(), Value::Array(union), "--all is the pages joined");
    assert!(
        !all.stderr.contains("resources,"),
        "no progress bar when stderr is not a terminal: {}",
        all.stderr
    );
    let ndjson = run(
        cfg,
        &[
            "search", "Patient", "_count=2", "--all", "--ndjson", "--base", base,
        ],
    )
    .ok();
    assert_eq!(ndjson.stdout.lines().count(), 5);

    // --max stops after N resources
    let max = run(
        cfg,
        &[
            "search", "Patient", "_count=2", "--max", "3", "--base", base,
        ],
    )
    .ok()
    .json();
    assert_eq!(max.as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_are_refused_with_a_suggestion_before_sending() {
    let hfs = hfs().await;
    let base = hfs.base_url();
    seed(base).await;
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();

    let out = run(cfg, &["search", "Patient", "familly=Smith", "--base", base]);
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("unknown search parameter `familly`")
            && out.stderr.contains("did you mean `family`?"),
        "{}",
        out.stderr
    );

    let out = run(cfg, &["search", "Patinet", "--base", base]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("did you mean `Patient`?"),
        "{}",
        out.stderr
    );

    // an undeclared operation, with the closest declared one
    let out = run(
        cfg,
        &[
            "operation",
            "$everythin",
            "--type",
            "Patient",
            "--base",
            base,
        ],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("did you mean `$everything`?"),
        "{}",
        out.stderr
    );

    // an invalid value for the parameter's type is invalid input too
    let out = run(
        cfg,
        &["search", "Patient", "birthdate=ge19x", "--base", base],
    );
    assert_eq!(out.code, Some(2), "stderr: {}", out.stderr);
    assert!(out.stderr.contains("birthdate"), "{}", out.stderr);

    // --no-check sends it anyway (the server decides)
    let out = run(
        cfg,
        &[
            "search",
            "Patient",
            "familly=Smith",
            "--no-check",
            "--base",
            base,
        ],
    );
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);

    // a pinned statement decides instead of /metadata: Epic declares no Basic
    let epic = root().join("specs/vendors/epic-r4-capability.json");
    let out = run(
        cfg,
        &[
            "search",
            "Basic",
            "--spec",
            epic.to_str().unwrap(),
            "--base",
            base,
        ],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("declares no resource type `Basic`"),
        "{}",
        out.stderr
    );
    // and Epic declares no delete on Patient
    let out = run(
        cfg,
        &[
            "delete",
            "Patient",
            "x",
            "--spec",
            epic.to_str().unwrap(),
            "--base",
            base,
        ],
    );
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("does not declare `delete`"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_with_basic_auth_through_the_gate() {
    let hfs = hfs().await;
    let listener = Gate::bind().await.unwrap();
    let gate = listener
        .serve(GateConfig::new(
            hfs.base_url(),
            GateAuth::Basic {
                user: "clinician".into(),
                password: "pa55-word".into(),
            },
        ))
        .unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let ids = seed(hfs.base_url()).await;

    run(
        cfg,
        &[
            "profile",
            "add",
            "gated",
            "--base",
            gate.base_url(),
            "--auth",
            "basic",
            "--user",
            "clinician",
            "--password-env",
            PASSWORD_VAR,
            "--default-param",
            "gender=female",
        ],
    )
    .ok();
    let stored = std::fs::read_to_string(cfg.join("profiles/gated.toml")).unwrap();
    assert!(!stored.contains("pa55-word"));
    assert!(stored.contains(PASSWORD_VAR));

    // the profile's default parameter applies to every search
    let found = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "pa55-word")
            .args(["search", "Patient", "--profile", "gated"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(keys(&ids, &found), set(&["p2", "p4"]));
    let read = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "pa55-word")
            .args(["read", "Patient", &ids["p1"], "-p", "gated"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(read["name"][0]["family"], "Smith");

    // a wrong password is the server's 401: exit 1, the password never printed
    let denied = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "wrong-secret")
            .args(["read", "Patient", &ids["p1"], "-p", "gated", "--no-check"])
            .output()
            .unwrap(),
    );
    assert_eq!(denied.code, Some(1), "stderr: {}", denied.stderr);
    assert!(denied.stderr.contains("401"), "{}", denied.stderr);
    assert!(!denied.stderr.contains("wrong-secret"));

    // the variable unset: invalid input, named
    let unset = run(cfg, &["read", "Patient", &ids["p1"], "-p", "gated"]);
    assert_eq!(unset.code, Some(2), "stderr: {}", unset.stderr);
    assert!(unset.stderr.contains(PASSWORD_VAR), "{}", unset.stderr);

    // list, show (redacted: where the secret comes from, never its value), remove
    let list = run(cfg, &["profile", "list"]).ok();
    assert!(
        list.stdout
            .starts_with("gated  basic             http://127.0.0.1:"),
        "{}",
        list.stdout
    );
    let show = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "pa55-word")
            .args(["profile", "show", "gated"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(!show.stdout.contains("pa55-word"));
    assert!(
        show.stdout
            .contains(&format!("environment variable {PASSWORD_VAR} (set)")),
        "{}",
        show.stdout
    );
    let typo = run(cfg, &["profile", "show", "gatd"]);
    assert_eq!(typo.code, Some(2));
    assert!(
        typo.stderr.contains("did you mean `gated`?"),
        "{}",
        typo.stderr
    );
    run(cfg, &["profile", "remove", "gated"]).ok();
    assert!(run(cfg, &["profile", "list"]).ok().stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_with_backend_services_bearer_through_the_gate() {
    let hfs = hfs().await;
    let listener = Gate::bind().await.unwrap();
    let gate_base = listener.base_url();
    let pair = keys::generate(Algorithm::Es384).unwrap();
    let oauth = OAuthServer::builder(&gate_base)
        .scopes(["system/*.cruds"])
        .private_key_jwt_client(
            "cli-app",
            "ES384",
            pair.public_jwks.clone(),
            "system/*.read system/*.write",
        )
        .client_secret(
            "cli-secret-app",
            "s3cret-value",
            "client_secret_post",
            "system/*.read",
        )
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let gate = listener
        .serve(
            GateConfig::new(
                hfs.base_url(),
                GateAuth::Bearer {
                    issuer: oauth.issuer().to_owned(),
                    jwks_url: oauth.jwks_url().to_owned(),
                    audience: gate_base.clone(),
                    check_scope: true,
                },
            )
            .token_endpoint(oauth.token_url()),
        )
        .unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let key_file = cfg.join("cli-app.pem");
    keys::write_private_key(&key_file, &pair.private_key_pem).unwrap();

    // without credentials the gate refuses: the request failed, exit 1
    let anonymous = run(
        cfg,
        &["search", "Patient", "--base", gate.base_url(), "--no-check"],
    );
    assert_eq!(anonymous.code, Some(1), "stderr: {}", anonymous.stderr);
    assert!(anonymous.stderr.contains("401"), "{}", anonymous.stderr);

    // the token URL is discovered from the gate's .well-known/smart-configuration
    run(
        cfg,
        &[
            "profile",
            "add",
            "smart",
            "--base",
            gate.base_url(),
            "--auth",
            "backend-services",
            "--client-id",
            "cli-app",
            "--private-key-file",
            key_file.to_str().unwrap(),
            "--scope",
            "system/*.read system/*.write",
        ],
    )
    .ok();
    let stored = std::fs::read_to_string(cfg.join("profiles/smart.toml")).unwrap();
    assert!(!stored.contains("PRIVATE KEY"), "{stored}");

    let work = tempfile::tempdir().unwrap();
    let body = work.path().join("p.json");
    std::fs::write(
        &body,
        r#"{"resourceType": "Patient", "name": [{"family": "Bearer"}]}"#,
    )
    .unwrap();
    let created = run(
        cfg,
        &["create", "Patient", body.to_str().unwrap(), "-p", "smart"],
    )
    .ok()
    .json();
    let id = created["id"].as_str().unwrap();
    let found = run(cfg, &["search", "Patient", "family=Bearer", "-p", "smart"])
        .ok()
        .json();
    assert_eq!(found[0]["id"], id);
    assert!(
        oauth.token_requests().await.unwrap() >= 2,
        "one token per process"
    );
    assert!(gate.stats().accepted() >= 2);

    // client credentials with a client secret (client_secret_post) from a file
    let secret_file = cfg.join("client-secret.txt");
    std::fs::write(&secret_file, "s3cret-value\n").unwrap();
    run(
        cfg,
        &[
            "profile",
            "add",
            "secret",
            "--base",
            gate.base_url(),
            "--auth",
            "client-secret",
            "--client-id",
            "cli-secret-app",
            "--client-secret-file",
            secret_file.to_str().unwrap(),
            "--secret-method",
            "post",
            "--scope",
            "system/*.read",
        ],
    )
    .ok();
    let found = run(cfg, &["search", "Patient", "family=Bearer", "-p", "secret"])
        .ok()
        .json();
    assert_eq!(found[0]["id"], id);
    // a bearer token obtained elsewhere, from an environment variable, with --base
    let provider = ClientCredentials::builder("cli-secret-app")
        .client_secret_post(ClientSecret::new("s3cret-value"))
        .token_url(oauth.token_url())
        .scope("system/*.read")
        .build()
        .unwrap();
    let http = Client::builder(gate.base_url()).build().unwrap();
    let header = provider
        .authorization(http.http())
        .await
        .unwrap()
        .expect("a bearer header");
    let token = header.to_str().unwrap().strip_prefix("Bearer ").unwrap();
    let found = finish(
        fhirforge(cfg)
            .env("FHIRFORGE_TEST_TOKEN", token)
            .args([
                "search",
                "Patient",
                "family=Bearer",
                "--base",
                gate.base_url(),
            ])
            .args(["--bearer-env", "FHIRFORGE_TEST_TOKEN"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(found[0]["id"], id);

    let show = run(cfg, &["profile", "show", "secret"]).ok();
    assert!(!show.stdout.contains("s3cret-value"), "{}", show.stdout);

    let show = run(cfg, &["profile", "show", "smart"]).ok();
    assert!(
        show.stdout.contains("kind = \"backend-services\""),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("(exists)"), "{}", show.stdout);
}

/// A server warning inside a search Bundle (an `OperationOutcome` entry with `search.mode =
/// outcome`) goes to stderr, never into the data on stdout. hfs sends no such warnings, so this
/// one uses the in-process stub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_bundle_warnings_go_to_stderr() {
    use fhirforge_testkit::stub::{Reply, Stub};
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "a"}, "search": {"mode": "match"}},
            {"resource": {"resourceType": "OperationOutcome", "issue": [{
                "severity": "warning", "code": "processing",
                "diagnostics": "Some results were withheld (4119)"}]},
             "search": {"mode": "outcome"}}
        ]
    });
    let stub = Stub::script(vec![Reply::json(200, &bundle)]).await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let out = run(
        cfg.path(),
        &[
            "search",
            "Patient",
            "--no-check",
            "--ndjson",
            "--base",
            &base,
        ],
    )
    .ok();
    assert_eq!(out.stdout, "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n");
    assert!(
        out.stderr
            .contains("server: warning (processing): Some results were withheld (4119)"),
        "{}",
        out.stderr
    );
}

/// The exact `If-Match` header of `--version` and of `--if-match-current` (which reads first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_update_sends_if_match_from_version_or_current_read() {
    use fhirforge_testkit::stub::{Reply, Stub};
    let current = json!({"resourceType": "Patient", "id": "p", "meta": {"versionId": "7"}});
    let stub = Stub::script(vec![
        Reply::json(200, &current),
        Reply::json(200, &current),
        Reply::json(200, &current),
    ])
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let body = r#"{"resourceType": "Patient"}"#;
    run_stdin(
        cfg.path(),
        &[
            "update",
            "Patient",
            "p",
            "-",
            "--version",
            "3",
            "--no-check",
            "--base",
            &base,
        ],
        body,
    )
    .ok();
    run_stdin(
        cfg.path(),
        &[
            "update",
            "Patient",
            "p",
            "-",
            "--if-match-current",
            "--no-check",
            "--base",
            &base,
        ],
        body,
    )
    .ok();
    let requests = stub.requests();
    let seen: Vec<(String, String, Option<String>)> = requests
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.path().to_owned(),
                r.header("if-match").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("PUT".into(), "/Patient/p".into(), Some("W/\"3\"".into())),
            ("GET".into(), "/Patient/p".into(), None),
            ("PUT".into(), "/Patient/p".into(), Some("W/\"7\"".into())),
        ]
    );
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(sent["id"], "p", "the id is added to a body without one");
}
