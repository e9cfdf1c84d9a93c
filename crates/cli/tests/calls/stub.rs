//! Against the in-process stub: what a real server will not do, and the exact requests sent.

use super::{fhirforge, finish, run, run_stdin};
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

/// A searchset page with one patient `id` and, when given, a `next` link.
fn page(id: &str, next: Option<String>) -> Value {
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": {"resourceType": "Patient", "id": id}, "search": {"mode": "match"}}]
    });
    if let Some(url) = next {
        bundle["link"] = json!([{"relation": "next", "url": url}]);
    }
    bundle
}

/// `search --all` against pages that link A -> B -> A ended never (commit fc74f8f). Now it ends
/// with exit code 1 after at most --max-pages requests (or sooner, when the runtime recognises
/// the cycle), and what arrived is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_search_all_ends_on_pages_linking_in_a_cycle() {
    let stub = Stub::start(|req| {
        if req.target.contains("page=b") {
            Reply::json(
                200,
                &page("b", Some(format!("{}/Patient?page=a", req.base))),
            )
        } else {
            Reply::json(
                200,
                &page("a", Some(format!("{}/Patient?page=b", req.base))),
            )
        }
    })
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let out = finish(
        fhirforge(cfg.path())
            .args([
                "search",
                "Patient",
                "--all",
                "--max-pages",
                "5",
                "--ndjson",
                "--no-check",
                "--base",
                &base,
            ])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    let requests = stub.requests().len();
    assert!((2..=5).contains(&requests), "{requests} requests");
    assert!(
        out.stdout.starts_with(
            "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\"b\"}\n"
        ),
        "{}",
        out.stdout
    );
}

/// Pages that never end (each links to a new one): --max-pages 3 reads exactly three, prints
/// their resources, and says how much was read and that more was offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_max_pages_caps_endless_pages_and_says_so() {
    let stub = Stub::start(|req| {
        let n: u64 = req
            .target
            .split_once("page=")
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(1);
        let next = format!("{}/Patient?page={}", req.base, n + 1);
        Reply::json(200, &page(&format!("p{n}"), Some(next)))
    })
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let out = run(
        cfg.path(),
        &[
            "search",
            "Patient",
            "--all",
            "--max-pages",
            "3",
            "--no-check",
            "--base",
            &base,
        ],
    );
    assert_eq!(out.code, Some(1), "stderr: {}", out.stderr);
    assert_eq!(stub.requests().len(), 3);
    let printed = out.json();
    let ids: Vec<&str> = printed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p1", "p2", "p3"]);
    assert_eq!(
        out.stderr,
        "error: stopped after 3 pages (--max-pages) with 3 matching resources printed, but the \
         server links to more: the output is incomplete (raise --max-pages to read further)\n"
    );
    // --max-pages 0 is a usage error.
    let zero = run(
        cfg.path(),
        &[
            "search",
            "Patient",
            "--all",
            "--max-pages",
            "0",
            "--base",
            &base,
        ],
    );
    assert_eq!(zero.code, Some(2), "{}", zero.stderr);
}

/// Ids and version ids on the command line follow the FHIR id grammar, checked before anything
/// is sent (not even `/metadata`), as a usage error. At commit fc74f8f `delete Patient ..` sent
/// `DELETE [base]/Patient` (a conditional delete without criteria) and `read Patient .` ran a
/// search.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_bad_ids_are_usage_errors_and_nothing_is_sent() {
    let stub =
        Stub::start(|_| Reply::json(200, &json!({"resourceType": "Patient", "id": "x"}))).await;
    let cfg = tempfile::tempdir().unwrap();
    let base = stub.base_url();
    let long = "a".repeat(65);
    let cases: Vec<Vec<&str>> = vec![
        vec!["delete", "Patient", ".."],
        vec!["read", "Patient", "."],
        vec!["read", "Patient", "a/b"],
        vec!["read", "Patient", &long],
        vec!["vread", "Patient", "..", "1"],
        vec!["vread", "Patient", "p", ".."],
        vec!["vread", "Patient", "p", "1 2"],
        vec!["update", "Patient", "..", "-"],
        vec!["update", "Patient", "p", "-", "--version", ".."],
        vec!["patch", "Patient", ".", "-"],
        vec!["history", "Patient", ".."],
        vec![
            "operation",
            "$everything",
            "--type",
            "Patient",
            "--id",
            "..",
        ],
    ];
    for case in cases {
        let mut args = case.clone();
        args.extend(["--no-check", "--base", &base]);
        let out = run_stdin(cfg.path(), &args, "{}");
        assert_eq!(out.code, Some(2), "{case:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("invalid value"),
            "{case:?}: {}",
            out.stderr
        );
    }
    // Without --no-check too: the refusal comes before /metadata is read.
    let out = run(cfg.path(), &["delete", "Patient", "..", "--base", &base]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("only dots"),
        "the message says why: {}",
        out.stderr
    );
    assert_eq!(stub.requests(), [], "nothing may be sent");
}

/// Modifiers the statement declares (`subject:missing`, folded into `subject`) are the ones a
/// search may use on that parameter: a declared one is sent, an undeclared one is refused before
/// anything is sent, naming the declared ones, and a typo in the name suggests `name:modifier`.
/// Before the check knew modifiers, `subject:mising=true` was sent as typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_declared_search_modifiers_are_checked() {
    let stub = Stub::start(|_| Reply::json(200, &page("o1", None))).await;
    let cfg = tempfile::tempdir().unwrap();
    let spec = cfg.path().join("capability.json");
    let statement = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{"mode": "server", "resource": [{
            "type": "Observation",
            "interaction": [{"code": "search-type"}],
            "searchParam": [
                {"name": "subject", "type": "reference"},
                {"name": "subject:missing", "type": "reference"},
                {"name": "code", "type": "token"}
            ]
        }]}]
    });
    std::fs::write(&spec, statement.to_string()).unwrap();
    let base = stub.base_url();
    let spec = spec.to_str().unwrap();
    let search = |param: &str| {
        run(
            cfg.path(),
            &[
                "search",
                "Observation",
                param,
                "--spec",
                spec,
                "--base",
                &base,
            ],
        )
    };

    let bad = search("subject:mising=true");
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("unknown modifier `:mising`")
            && bad.stderr.contains("declares `subject:missing`")
            && bad.stderr.contains("did you mean `subject:missing`?"),
        "{}",
        bad.stderr
    );
    let typo = search("subjct:missing=true");
    assert_eq!(typo.code, Some(2), "{}", typo.stderr);
    assert!(
        typo.stderr.contains("did you mean `subject:missing`?"),
        "{}",
        typo.stderr
    );
    assert_eq!(stub.requests(), [], "refused before anything is sent");

    search("subject:missing=true").ok();
    // A target type on a reference is not a modifier statements list.
    search("subject:Patient=p1").ok();
    // `code` declares no modifiers, so any goes.
    search("code:text=x").ok();
    let targets: Vec<String> = stub.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets.len(), 3, "{targets:?}");
    assert!(
        targets[0].contains("subject%3Amissing=true")
            || targets[0].contains("subject:missing=true"),
        "{targets:?}"
    );
}

/// Credentials over plain http to another host are refused before any request, and the message
/// names what a CLI user can do (`--insecure-http`), not the runtime's builder option. The host
/// is a TEST-NET address (192.0.2.1): the refusal comes before a connection is attempted, so
/// nothing is ever sent there; for the same reason the opted-in side is not run (it would send).
#[test]
fn insecure_http_refusal_names_the_flag_and_the_profile_saves_it() {
    let cfg = tempfile::tempdir().unwrap();
    let base = "http://192.0.2.1/fhir";
    let refused = |args: &[&str]| {
        let run = finish(
            fhirforge(cfg.path())
                .env("FHIRFORGE_TEST_TOKEN", "t0ken")
                .args(args)
                .output()
                .unwrap(),
        );
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("plain http")
                && run.stderr.contains("--insecure-http")
                && !run.stderr.contains("allow_insecure_http"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("t0ken"), "{}", run.stderr);
    };
    refused(&[
        "read",
        "Patient",
        "p1",
        "--no-check",
        "--base",
        base,
        "--bearer-env",
        "FHIRFORGE_TEST_TOKEN",
    ]);

    let add = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "profile",
            "add",
            name,
            "--base",
            base,
            "--auth",
            "bearer",
            "--token-env",
            "FHIRFORGE_TEST_TOKEN",
        ];
        args.extend(extra);
        run(cfg.path(), &args).ok();
    };
    add("lab", &[]);
    refused(&["read", "Patient", "p1", "--no-check", "--profile", "lab"]);
    let shown = run(cfg.path(), &["profile", "show", "lab"]).ok();
    assert!(!shown.stdout.contains("insecure_http"), "{}", shown.stdout);

    add("trusted", &["--insecure-http"]);
    let shown = run(cfg.path(), &["profile", "show", "trusted"]).ok();
    assert!(
        shown.stdout.contains("insecure_http = true"),
        "{}",
        shown.stdout
    );
}
