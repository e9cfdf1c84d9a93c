//! Against the in-process stub: what a real server will not do, and the exact requests sent.

use super::{run, run_stdin};
use fhirforge_testkit::stub::{Reply, Stub};
use serde_json::{json, Value};

/// A server warning inside a search Bundle (an `OperationOutcome` entry with `search.mode =
/// outcome`) goes to stderr, never into the data on stdout. hfs sends no such warnings, so this
/// one uses the in-process stub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_bundle_warnings_go_to_stderr() {
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

/// A 403 with an OperationOutcome: the status once, then each issue once on its own line (it
/// used to print the issue as `server: ...` and again inside the error line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_a_403_prints_the_operation_outcome_once() {
    let outcome = json!({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "forbidden", "diagnostics": "no access to Patient/p (7741)"},
        {"severity": "information", "code": "informational", "diagnostics": "ask your admin"}
    ]});
    let stub = Stub::script(vec![Reply::json(403, &outcome)]).await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let out = run(
        cfg.path(),
        &["read", "Patient", "p", "--no-check", "--base", &base],
    );
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    assert_eq!(
        out.stderr,
        "error: FHIR server returned 403 Forbidden\n  \
         error (forbidden): no access to Patient/p (7741)\n  \
         information (informational): ask your admin\n"
    );
}

/// A non-FHIR error body: the status line, then the start of the body once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_an_html_error_body_is_shown_once_after_the_status() {
    // 400 is not retried, so the stub answers once.
    let stub = Stub::script(vec![Reply::status(400)
        .header("Content-Type", "text/html")
        .body("<h1>Bad request (proxy 12)</h1>")])
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let out = run(
        cfg.path(),
        &["delete", "Patient", "p", "--no-check", "--base", &base],
    );
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert_eq!(
        out.stderr,
        "error: FHIR server returned 400 Bad Request without an OperationOutcome \
         (text/html, 31 bytes)\n  server said: <h1>Bad request (proxy 12)</h1>\n"
    );
}
