//! Bulk Data export faults on the in-process stub (every test name starts with `stub_`): what a
//! real server cannot be made to do on cue. Waits go through the injected clock, so the exact
//! sleeps are asserted and nothing waits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fhirforge_runtime::auth::{AuthError, AuthProvider, HttpContext};
use fhirforge_runtime::bulk::{
    self, BulkError, DownloadOptions, JobDir, JobState, Level, NoProgress, PollPolicy, Progress,
};
use fhirforge_runtime::futures::future::BoxFuture;
use fhirforge_runtime::Error;
use fhirforge_testkit::stub::{Recorded, Reply, Stub};
use serde_json::{json, Value};
use url::Url;

use crate::common::{builder_without_waiting, fixed_now};

/// `n` Patient lines `{"resourceType":"Patient","id":"p<i>"}` for `i` in `range`.
fn patients(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"p{i}\"}}\n"))
        .collect()
}

fn manifest(requires_token: bool, files: &[(&str, String)]) -> Value {
    json!({
        "transactionTime": "2026-12-01T00:00:00Z",
        "request": "http://x/$export",
        "requiresAccessToken": requires_token,
        "output": files.iter().map(|(t, url)| json!({"type": t, "url": url})).collect::<Vec<_>>(),
        "error": []
    })
}

fn ndjson(body: impl Into<Vec<u8>>) -> Reply {
    Reply::status(200)
        .header("Content-Type", "application/fhir+ndjson")
        .body(body)
}

fn kicked_off(r: &Recorded, job: &str) -> Reply {
    Reply::status(202).header("Content-Location", &format!("{}/status/{job}", r.base))
}

/// Records what the poller reported.
#[derive(Default)]
struct Seen {
    progress: Mutex<Vec<String>>,
}

impl Progress for Seen {
    fn polled(&self, _elapsed: Duration, server: Option<&str>, _next: Duration) {
        if let Some(p) = server {
            self.progress.lock().expect("lock").push(p.to_owned());
        }
    }
}

#[tokio::test]
async fn stub_bulk_polling_honours_retry_after_progress_429_and_503() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = polls.clone();
    let stub = Stub::start(move |r| match (r.method.as_str(), r.path()) {
        ("GET", "/Group/g1/$export") => kicked_off(r, "1"),
        ("GET", "/status/1") => match p.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::status(202)
                .header("X-Progress", "10% done")
                .header("Retry-After", "3"),
            // An HTTP date 7 s after the clock's time at this poll (fixed_now + 3 s).
            1 => Reply::status(202).header(
                "Retry-After",
                &httpdate::fmt_http_date(fixed_now() + Duration::from_secs(10)),
            ),
            2 => Reply::status(202).header("X-Progress", "90% done"),
            3 => Reply::status(429).header("Retry-After", "5"),
            4 => Reply::status(503),
            _ => Reply::json(200, &manifest(false, &[])),
        },
        _ => Reply::status(404),
    })
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let job = client
        .bulk_export(Level::Group("g1".into()))
        .kick_off()
        .await
        .expect("kick-off");
    let seen = Seen::default();
    let (manifest, _) = job
        .wait(&PollPolicy::default(), &seen)
        .await
        .expect("manifest");
    assert_eq!(manifest.transaction_time, "2026-12-01T00:00:00Z");
    // Retry-After seconds, Retry-After date, the first backoff step, 429's Retry-After, and
    // the 503 (the second transient failure in a row) waited out with the second backoff step.
    assert_eq!(
        sleep.slept(),
        [3, 7, 1, 5, 2].map(Duration::from_secs).to_vec()
    );
    assert_eq!(
        *seen.progress.lock().expect("lock"),
        ["10% done", "90% done"]
    );
    let kick = &stub.requests()[0];
    assert_eq!(kick.header("prefer"), Some("respond-async"));
    assert_eq!(kick.header("accept"), Some("application/fhir+json"));
}

#[tokio::test]
async fn stub_bulk_polling_stops_at_the_time_limit() {
    let stub = Stub::start(|r| match r.path() {
        "/$export" => kicked_off(r, "1"),
        _ => Reply::status(202).header("Retry-After", "60"),
    })
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let job = client
        .bulk_export(Level::System)
        .kick_off()
        .await
        .expect("kick-off");
    let policy = PollPolicy::default().max_wait(Duration::from_secs(200));
    let err = job.wait(&policy, &NoProgress).await.expect_err("times out");
    assert!(
        matches!(&err, Error::Bulk(b) if matches!(**b, BulkError::TimedOut { .. })),
        "{err}"
    );
    assert_eq!(
        sleep.slept(),
        [60, 60, 60].map(Duration::from_secs).to_vec()
    );
}

#[tokio::test]
async fn stub_bulk_a_500_with_an_outcome_ends_the_job_and_cancels_it() {
    let stub = Stub::start(|r| match (r.method.as_str(), r.path()) {
        ("GET", "/Patient/$export") => kicked_off(r, "1"),
        ("GET", "/status/1") => Reply::json(
            500,
            &json!({"resourceType": "OperationOutcome", "issue": [
                {"severity": "fatal", "code": "exception", "diagnostics": "export store is full"}
            ]}),
        ),
        ("DELETE", "/status/1") => Reply::status(202),
        _ => Reply::status(404),
    })
    .await;
    let (builder, _) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let dir = tempfile::tempdir().expect("dir");
    let err = client
        .bulk_export(Level::Patient)
        .run(dir.path(), &DownloadOptions::default(), &NoProgress)
        .await
        .expect_err("the job failed");
    assert!(err.to_string().contains("export store is full"), "{err}");
    assert!(
        matches!(&err, Error::Bulk(b) if matches!(**b, BulkError::JobFailed { status: 500, .. })),
        "{err:?}"
    );
    let methods: Vec<String> = stub
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        methods,
        ["GET /Patient/$export", "GET /status/1", "DELETE /status/1"]
    );
    let job = JobDir::open(dir.path()).expect("job dir");
    assert_eq!(job.state(), Some(JobState::Cancelled));
}

#[tokio::test]
async fn stub_bulk_the_token_never_goes_to_another_origin_unless_allowed() {
    let storage = Stub::start(|_| ndjson(patients(0..3))).await;
    let (builder, _) = builder_without_waiting("http://127.0.0.1:9");
    let client = builder
        .bearer_token("secret-token")
        .build()
        .expect("client");
    let file = format!("{}/blob/Patient-1.ndjson", storage.base_url());
    let m: bulk::Manifest =
        serde_json::from_value(manifest(true, &[("Patient", file.clone())])).expect("manifest");

    let dir = tempfile::tempdir().expect("dir");
    let err = bulk::download(
        &client,
        &m,
        dir.path(),
        &DownloadOptions::default(),
        &NoProgress,
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(&err, Error::Bulk(b) if matches!(**b, BulkError::TokenForOtherOrigin { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(&storage.base_url()), "{err}");
    assert!(storage.requests().is_empty(), "nothing was sent to storage");

    // Allowed explicitly: the token goes there.
    let allowed = DownloadOptions::default().allow_origin(&Url::parse(&file).expect("url"));
    let summary = bulk::download(&client, &m, dir.path(), &allowed, &NoProgress)
        .await
        .expect("downloaded");
    assert_eq!(summary.resources(), 3);
    assert_eq!(
        storage.requests()[0].header("authorization"),
        Some("Bearer secret-token")
    );

    // Not required by the manifest: no token, even to an allowed origin.
    let m: bulk::Manifest =
        serde_json::from_value(manifest(false, &[("Patient", file)])).expect("manifest");
    let dir = tempfile::tempdir().expect("dir");
    bulk::download(&client, &m, dir.path(), &allowed, &NoProgress)
        .await
        .expect("downloaded");
    assert_eq!(storage.requests()[1].header("authorization"), None);
}

/// A stub whose first answer for the file stops half way (mid-line) and whose second honours
/// (or, with `ranges: false`, ignores) the `Range` asked for.
async fn cut_half_way(full: String, ranges: bool) -> Stub {
    let cut = full.len() / 2 + 7;
    let calls = AtomicUsize::new(0);
    Stub::start(move |r| {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+ndjson\r\nContent-Length: {}\r\n\r\n",
                full.len()
            );
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&full.as_bytes()[..cut]);
            return Reply::Raw(bytes);
        }
        let from = r
            .header("range")
            .and_then(|v| v.strip_prefix("bytes="))
            .and_then(|v| v.strip_suffix('-'))
            .and_then(|v| v.parse::<usize>().ok());
        match from {
            Some(from) if ranges => Reply::status(206)
                .header("Content-Type", "application/fhir+ndjson")
                .header(
                    "Content-Range",
                    &format!("bytes {from}-{}/{}", full.len() - 1, full.len()),
                )
                .body(full[from..].to_owned()),
            _ => ndjson(full.clone()),
        }
    })
    .await
}

#[tokio::test]
async fn stub_bulk_a_download_cut_half_way_resumes_with_range_and_loses_nothing() {
    let full = patients(0..200);
    let stub = cut_half_way(full.clone(), true).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let m: bulk::Manifest = serde_json::from_value(manifest(
        false,
        &[("Patient", format!("{}/f/1", stub.base_url()))],
    ))
    .expect("manifest");
    let dir = tempfile::tempdir().expect("dir");
    let summary = bulk::download(
        &client,
        &m,
        dir.path(),
        &DownloadOptions::default(),
        &NoProgress,
    )
    .await
    .expect("downloaded");
    let written = std::fs::read_to_string(dir.path().join("Patient.001.ndjson")).expect("file");
    assert_eq!(written, full, "every line once, in order");
    assert_eq!(summary.resources(), 200);
    assert!(!dir.path().join("Patient.001.ndjson.part").exists());
    let cut = full.len() / 2 + 7;
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("range"), None);
    assert_eq!(
        requests[1].header("range"),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(requests[1].header("accept-encoding"), Some("identity"));
    assert!(!summary.files[0].restarted);
    assert_eq!(sleep.slept(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn stub_bulk_a_server_that_ignores_range_gets_the_file_downloaded_again() {
    let full = patients(0..200);
    let stub = cut_half_way(full.clone(), false).await;
    let (builder, _) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let m: bulk::Manifest = serde_json::from_value(manifest(
        false,
        &[("Patient", format!("{}/f/1", stub.base_url()))],
    ))
    .expect("manifest");
    let dir = tempfile::tempdir().expect("dir");
    let summary = bulk::download(
        &client,
        &m,
        dir.path(),
        &DownloadOptions::default(),
        &NoProgress,
    )
    .await
    .expect("downloaded");
    let written = std::fs::read_to_string(dir.path().join("Patient.001.ndjson")).expect("file");
    assert_eq!(written, full, "no line repeated");
    assert_eq!(summary.resources(), 200);
    assert!(summary.files[0].restarted);
}

#[tokio::test]
async fn stub_bulk_a_malformed_line_is_reported_with_file_and_line_number() {
    let body = format!(
        "{}{{\"resourceType\":\"Patient\",\"id\":\"broken\"\n{}{{\"resourceType\":\"Observation\",\"id\":\"o\"}}\n",
        patients(0..2),
        patients(2..4)
    );
    let stub = Stub::start(move |_| ndjson(body.clone())).await;
    let (builder, _) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let m: bulk::Manifest = serde_json::from_value(manifest(
        false,
        &[("Patient", format!("{}/f/1", stub.base_url()))],
    ))
    .expect("manifest");
    let dir = tempfile::tempdir().expect("dir");
    let summary = bulk::download(
        &client,
        &m,
        dir.path(),
        &DownloadOptions::default(),
        &NoProgress,
    )
    .await
    .expect("downloaded");
    let report = &summary.files[0];
    assert_eq!(report.resources, 4);
    assert_eq!(report.invalid_total, 2);
    let bad: Vec<(String, u64)> = report
        .invalid_lines
        .iter()
        .map(|l| (l.file.clone(), l.line))
        .collect();
    assert_eq!(
        bad,
        [
            ("Patient.001.ndjson".to_owned(), 3),
            ("Patient.001.ndjson".to_owned(), 6)
        ]
    );
    assert!(report.invalid_lines[1].reason.contains("Observation"));
    assert_eq!(summary.invalid_lines(), 2);
    // The bad lines stay in the file, byte for byte as sent: nothing is dropped.
    let written = std::fs::read_to_string(dir.path().join("Patient.001.ndjson")).expect("file");
    assert!(written.contains("\"id\":\"broken\""));
}

/// An auth provider whose token `t<n>` is replaced by `t<n+1>` when the server refuses it, as
/// a client-credentials provider does.
#[derive(Debug, Default)]
struct Rotating {
    n: AtomicUsize,
    refreshed: AtomicUsize,
}

impl AuthProvider for Rotating {
    fn authorization<'a>(
        &'a self,
        _http: &'a HttpContext,
    ) -> BoxFuture<'a, Result<Option<http::HeaderValue>, AuthError>> {
        let value = format!("Bearer t{}", self.n.load(Ordering::SeqCst));
        Box::pin(async move { Ok(Some(http::HeaderValue::from_str(&value).expect("header"))) })
    }

    fn rejected(&self, _used: &http::HeaderValue) -> bool {
        self.refreshed.fetch_add(1, Ordering::SeqCst);
        self.n.fetch_add(1, Ordering::SeqCst);
        true
    }
}

#[tokio::test]
async fn stub_bulk_an_expired_token_mid_download_is_refreshed_once() {
    // File 1 is served with t0; by file 2 the token has expired: t0 is refused, t1 works.
    let stub = Stub::start(|r| match (r.path(), r.header("authorization")) {
        ("/f/1", Some("Bearer t0")) => ndjson(patients(0..5)),
        ("/f/2", Some("Bearer t1")) => ndjson(patients(5..10)),
        _ => Reply::json(
            401,
            &json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}),
        ),
    })
    .await;
    let (builder, _) = builder_without_waiting(&stub.base_url());
    let provider = Arc::new(Rotating::default());
    let client = builder.auth(provider.clone()).build().expect("client");
    let m: bulk::Manifest = serde_json::from_value(manifest(
        true,
        &[
            ("Patient", format!("{}/f/1", stub.base_url())),
            ("Patient", format!("{}/f/2", stub.base_url())),
        ],
    ))
    .expect("manifest");
    let dir = tempfile::tempdir().expect("dir");
    let options = DownloadOptions::default().concurrency(1);
    let summary = bulk::download(&client, &m, dir.path(), &options, &NoProgress)
        .await
        .expect("downloaded");
    assert_eq!(summary.resources(), 10);
    assert_eq!(provider.refreshed.load(Ordering::SeqCst), 1);
    let seen: Vec<(String, Option<String>)> = stub
        .requests()
        .iter()
        .map(|r| {
            (
                r.path().to_owned(),
                r.header("authorization").map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/f/1".to_owned(), Some("Bearer t0".to_owned())),
            ("/f/2".to_owned(), Some("Bearer t0".to_owned())),
            ("/f/2".to_owned(), Some("Bearer t1".to_owned())),
        ]
    );
}

#[tokio::test]
async fn stub_bulk_interrupting_cancels_the_job_and_the_directory_resumes_without_duplicates() {
    // Job 1: file A (p0..p10) arrives, file B never answers; the user interrupts. The resumed
    // run kicks off job 2, whose files hold every patient again (split differently): the
    // directory must end with each patient exactly once.
    let stalled = Arc::new(tokio::sync::Notify::new());
    let notify = stalled.clone();
    let kick_offs = AtomicUsize::new(0);
    let stub = Stub::start(move |r| match (r.method.as_str(), r.path()) {
        ("GET", "/$export") => {
            let job = kick_offs.fetch_add(1, Ordering::SeqCst) + 1;
            kicked_off(r, &job.to_string())
        }
        ("GET", "/status/1") => Reply::json(
            200,
            &manifest(
                false,
                &[
                    ("Patient", format!("{}/job1/a", r.base)),
                    ("Patient", format!("{}/job1/b", r.base)),
                ],
            ),
        ),
        ("GET", "/status/2") => Reply::json(
            200,
            &manifest(
                false,
                &[
                    ("Patient", format!("{}/job2/x", r.base)),
                    ("Patient", format!("{}/job2/y", r.base)),
                ],
            ),
        ),
        ("GET", "/job1/a") => ndjson(patients(0..10)),
        ("GET", "/job1/b") => {
            notify.notify_one();
            Reply::Stall
        }
        ("GET", "/job2/x") => ndjson(patients(5..15)),
        ("GET", "/job2/y") => ndjson(patients(15..20)),
        ("DELETE", _) => Reply::status(202),
        _ => Reply::status(404),
    })
    .await;
    let (builder, _) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let dir = tempfile::tempdir().expect("dir");
    let options = DownloadOptions::default().concurrency(1);

    let run = client
        .bulk_export(Level::System)
        .run(dir.path(), &options, &NoProgress);
    tokio::select! {
        result = run => panic!("the run should hang on file B, got {result:?}"),
        () = stalled.notified() => {}
    }
    // What the CLI does on Ctrl-C.
    JobDir::open(dir.path())
        .expect("job dir")
        .cancel(&client)
        .await
        .expect("cancelled");
    assert!(stub
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path() == "/status/1"));
    assert_eq!(
        JobDir::open(dir.path()).expect("dir").state(),
        Some(JobState::Cancelled)
    );

    let summary = JobDir::open(dir.path())
        .expect("job dir")
        .run(&client, &options, &NoProgress)
        .await
        .expect("resumed");
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            for line in std::fs::read_to_string(&path).expect("file").lines() {
                let v: Value = serde_json::from_str(line).expect("json");
                *ids.entry(v["id"].as_str().expect("id").to_owned())
                    .or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<String, usize> = (0..20).map(|i| (format!("p{i}"), 1)).collect();
    assert_eq!(ids, expected);
    assert_eq!(summary.resources(), 20);
    assert_eq!(
        summary
            .files
            .iter()
            .map(|f| f.duplicates_skipped)
            .sum::<u64>(),
        5
    );
    assert_eq!(
        JobDir::open(dir.path()).expect("dir").state(),
        Some(JobState::Done)
    );
    // The finished job is released on the server.
    assert!(stub
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path() == "/status/2"));
}

#[tokio::test]
async fn stub_bulk_downloads_ask_for_gzip_and_store_the_decoded_lines() {
    use std::io::Write as _;
    let body = patients(0..500);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).expect("gzip");
    let gzipped = gz.finish().expect("gzip");
    assert!(gzipped.len() < body.len() / 4);
    let stub =
        Stub::start(move |_| ndjson(gzipped.clone()).header("Content-Encoding", "gzip")).await;
    let (builder, _) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let m: bulk::Manifest = serde_json::from_value(manifest(
        false,
        &[("Patient", format!("{}/f/1", stub.base_url()))],
    ))
    .expect("manifest");
    let dir = tempfile::tempdir().expect("dir");
    let summary = bulk::download(
        &client,
        &m,
        dir.path(),
        &DownloadOptions::default(),
        &NoProgress,
    )
    .await
    .expect("downloaded");
    assert_eq!(summary.resources(), 500);
    let written = std::fs::read_to_string(dir.path().join("Patient.001.ndjson")).expect("file");
    assert_eq!(written, body);
    let asked = stub.requests()[0]
        .header("accept-encoding")
        .map(str::to_owned);
    assert!(
        asked.as_deref().is_some_and(|a| a.contains("gzip")),
        "{asked:?}"
    );
    assert_eq!(
        stub.requests()[0].header("accept"),
        Some("application/fhir+ndjson")
    );
}
