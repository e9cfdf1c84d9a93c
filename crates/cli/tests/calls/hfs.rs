//! Every call kind against a fresh hfs.

use super::{hfs, keys, root, run, run_stdin, seed, set};
use serde_json::Value;
use std::collections::BTreeSet;

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
    // The status line, then one indented line per issue: `  <severity> (<code>): <text>`.
    let mut lines = out.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("error: FHIR server returned 404 Not Found"),
        "{}",
        out.stderr
    );
    let issue = lines
        .next()
        .unwrap_or_else(|| panic!("no issue line in: {}", out.stderr));
    assert!(
        issue.starts_with("  error (") || issue.starts_with("  fatal ("),
        "{issue}"
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
