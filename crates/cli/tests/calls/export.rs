//! `fhirforge export`: against hfs (a real Bulk Data export, and the capability check) and
//! against the in-process stub for what a real server will not do on cue (a line that is not a
//! resource, a file that stalls so the user interrupts).

use super::{hfs, run, seed};
use fhirforge_testkit::stub::{Recorded, Reply, Stub};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// `id → how many times` over every `*.ndjson` file directly in `dir`.
fn ids_in(dir: &Path) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                let key = format!(
                    "{}/{}",
                    v["resourceType"].as_str().unwrap(),
                    v["id"].as_str().unwrap()
                );
                *ids.entry(key).or_default() += 1;
            }
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_downloads_a_patient_export_from_hfs() {
    let server = hfs().await;
    let base = server.base_url().to_owned();
    let ids = seed(&base).await;
    let cfg = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    let dir_arg = dir.to_string_lossy().into_owned();
    let done = run(
        cfg.path(),
        &[
            "export",
            "--patient",
            "--type",
            "Patient",
            "--out",
            &dir_arg,
            "--base",
            &base,
            // hfs answers every poll with Retry-After: 120 for jobs that take a second.
            "--max-poll-interval",
            "1",
        ],
    )
    .ok();
    assert!(
        done.stdout.starts_with("exported 5 resources in 1 files"),
        "{}",
        done.stdout
    );
    let expected: BTreeMap<String, usize> = ids
        .values()
        .map(|id| (format!("Patient/{id}"), 1))
        .collect();
    assert_eq!(ids_in(&dir), expected);
    assert!(dir.join("job.json").is_file() && dir.join("manifest.json").is_file());
    // The same export again in the same directory: already complete, nothing downloaded twice.
    let again = run(
        cfg.path(),
        &[
            "export",
            "--patient",
            "--type",
            "Patient",
            "--out",
            &dir_arg,
            "--base",
            &base,
            // hfs answers every poll with Retry-After: 120 for jobs that take a second.
            "--max-poll-interval",
            "1",
        ],
    )
    .ok();
    assert!(
        again.stdout.starts_with("exported 5 resources"),
        "{}",
        again.stdout
    );
    assert_eq!(ids_in(&dir), expected);
    // Another export into that directory is refused as invalid input.
    let other = run(
        cfg.path(),
        &["export", "--system", "--out", &dir_arg, "--base", &base],
    );
    assert_eq!(other.code, Some(2), "{}", other.stderr);
    assert!(
        other.stderr.contains("holds another export"),
        "{}",
        other.stderr
    );
}

#[test]
fn export_is_checked_against_the_statement() {
    // Epic declares only a Group export (as `group-export`).
    let cfg = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("x").to_string_lossy().into_owned();
    let refused = run(
        cfg.path(),
        &[
            "export",
            "--patient",
            "--out",
            &dir,
            "--spec",
            "specs/vendors/epic-r4-capability.json",
            "--base",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "declares no Bulk Data export at Patient/$export; it declares an export for --group ID"
        ),
        "{}",
        refused.stderr
    );
}

fn kicked_off(r: &Recorded, job: usize) -> Reply {
    Reply::status(202).header("Content-Location", &format!("{}/status/{job}", r.base))
}

fn manifest(files: &[String]) -> Value {
    json!({
        "transactionTime": "2026-12-01T00:00:00Z",
        "request": "x",
        "requiresAccessToken": false,
        "output": files.iter().map(|u| json!({"type": "Patient", "url": u})).collect::<Vec<_>>(),
        "error": []
    })
}

fn patients(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\"}}\n"))
        .collect()
}

fn ndjson(body: String) -> Reply {
    Reply::status(200)
        .header("Content-Type", "application/fhir+ndjson")
        .body(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_export_reports_bad_lines_and_server_errors_with_exit_code_4() {
    let stub = Stub::start(|r| match r.path() {
        "/$export" => kicked_off(r, 1),
        "/status/1" => Reply::json(
            200,
            &json!({
                "transactionTime": "2026-12-01T00:00:00Z",
                "request": "x",
                "requiresAccessToken": false,
                "output": [{"type": "Patient", "url": format!("{}/f/1", r.base)}],
                "error": [{"type": "OperationOutcome", "url": format!("{}/f/err", r.base)}]
            }),
        ),
        "/f/1" => ndjson(format!("{}not json\n{}", patients(0..2), patients(2..3))),
        "/f/err" => ndjson(
            "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\",\"diagnostics\":\"Patient/p9 could not be exported\"}]}\n"
                .to_owned(),
        ),
        _ => Reply::status(202),
    })
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("e").to_string_lossy().into_owned();
    let base = stub.base_url();
    let done = run(
        cfg.path(),
        &["export", "--no-check", "--out", &dir, "--base", &base],
    );
    assert_eq!(done.code, Some(4), "{}", done.stderr);
    assert!(
        done.stdout.starts_with("exported 3 resources"),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr
            .contains("Patient.001.ndjson:3: not one JSON resource"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("Patient/p9 could not be exported"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr
            .contains("1 OperationOutcome(s) in its error files"),
        "{}",
        done.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stub_export_ctrl_c_cancels_the_job_and_resume_finishes_without_duplicates() {
    let kick_offs = Arc::new(AtomicUsize::new(0));
    let stalled = Arc::new(AtomicUsize::new(0));
    let (k, s) = (kick_offs.clone(), stalled.clone());
    let stub = Stub::start(move |r| match (r.method.as_str(), r.path()) {
        ("GET", "/$export") => kicked_off(r, k.fetch_add(1, Ordering::SeqCst) + 1),
        ("GET", "/status/1") => Reply::json(
            200,
            &manifest(&[format!("{}/job1/a", r.base), format!("{}/job1/b", r.base)]),
        ),
        ("GET", "/status/2") => Reply::json(
            200,
            &manifest(&[format!("{}/job2/x", r.base), format!("{}/job2/y", r.base)]),
        ),
        ("GET", "/job1/a") => ndjson(patients(0..10)),
        ("GET", "/job1/b") => {
            s.fetch_add(1, Ordering::SeqCst);
            Reply::Stall
        }
        ("GET", "/job2/x") => ndjson(patients(5..15)),
        ("GET", "/job2/y") => ndjson(patients(15..20)),
        ("DELETE", _) => Reply::status(202),
        _ => Reply::status(404),
    })
    .await;
    let cfg = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("e");
    let dir_arg = dir.to_string_lossy().into_owned();
    let base = stub.base_url();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fhirforge"))
        .env("FHIRFORGE_CONFIG_DIR", cfg.path())
        .args([
            "export",
            "--no-check",
            "--concurrency",
            "1",
            "--out",
            &dir_arg,
            "--base",
            &base,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until file B stalls, then press Ctrl-C.
    for _ in 0..200 {
        if stalled.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stalled.load(Ordering::SeqCst), 1, "file B was requested");
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let interrupted = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&interrupted.stderr);
    assert_eq!(interrupted.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelled on the server"), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    assert!(stub
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path() == "/status/1"));

    let resumed = run(
        cfg.path(),
        &[
            "export",
            "--resume",
            &dir_arg,
            "--base",
            &base,
            "--no-check",
        ],
    )
    .ok();
    assert!(
        resumed.stdout.starts_with("exported 20 resources"),
        "{}",
        resumed.stdout
    );
    let expected: BTreeMap<String, usize> = (0..20).map(|i| (format!("Patient/p{i}"), 1)).collect();
    assert_eq!(ids_in(&dir), expected);
    assert_eq!(kick_offs.load(Ordering::SeqCst), 2);
}
