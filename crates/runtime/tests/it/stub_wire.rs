//! What the client puts on the wire, checked on the stub's recorded requests.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use fhirforge_runtime::auth::{AuthError, AuthProvider};
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::{Client, Return, Scope};
use fhirforge_testkit::stub::{Recorded, Reply, Stub};
use futures::future::BoxFuture;
use http::HeaderValue;
use serde_json::json;

fn empty_bundle() -> serde_json::Value {
    json!({"resourceType": "Bundle", "type": "searchset", "entry": []})
}

#[tokio::test]
async fn stub_every_request_carries_accept_user_agent_default_headers_and_auth() {
    let stub = Stub::start(|r: &Recorded| match r.method.as_str() {
        "GET" => Reply::json(200, &json!({"resourceType": "Patient", "id": "1"})),
        "PUT" | "PATCH" => Reply::json(200, &json!({"resourceType": "Patient", "id": "1"}))
            .header("ETag", "W/\"3\""),
        "DELETE" => Reply::status(204),
        _ => Reply::status(201).header("Location", "Patient/9/_history/1"),
    })
    .await;
    let client = Client::builder(stub.base_url())
        .bearer_token("hunter2")
        .user_agent("acme-sync/1.0")
        .default_header("Epic-Client-ID", "abc")
        .build()
        .expect("client");
    client.read("Patient", "1").await.expect("read");
    let created = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .prefer(Return::Minimal)
        .await
        .expect("create");
    assert_eq!((created.id(), created.version_id()), (Some("9"), Some("1")));
    assert!(created.resource().is_none());
    let updated = client
        .update(
            "Patient",
            "1",
            &json!({"resourceType": "Patient", "id": "1"}),
        )
        .if_match_version("2")
        .await
        .expect("update");
    assert_eq!(updated.version_id(), Some("3"));
    client
        .patch(
            "Patient",
            "1",
            &json!([{"op": "replace", "path": "/active", "value": false}]),
        )
        .await
        .expect("patch");
    let deleted = client.delete("Patient", "1").await.expect("delete");
    assert_eq!(deleted.status().as_u16(), 204);

    let requests = stub.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["GET", "POST", "PUT", "PATCH", "DELETE"]);
    for r in &requests {
        assert_eq!(
            r.header("accept"),
            Some("application/fhir+json"),
            "{}",
            r.method
        );
        assert_eq!(r.header("user-agent"), Some("acme-sync/1.0"));
        assert_eq!(r.header("epic-client-id"), Some("abc"));
        assert_eq!(r.header("authorization"), Some("Bearer hunter2"));
    }
    assert_eq!(requests[1].header("prefer"), Some("return=minimal"));
    assert_eq!(
        requests[1].header("content-type"),
        Some("application/fhir+json")
    );
    assert_eq!(requests[2].path(), "/Patient/1");
    assert_eq!(requests[2].header("if-match"), Some("W/\"2\""));
    assert_eq!(
        requests[3].header("content-type"),
        Some("application/json-patch+json")
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&requests[3].body).expect("json"),
        json!([{"op": "replace", "path": "/active", "value": false}])
    );
}

#[tokio::test]
async fn stub_search_by_post_sends_a_form_body_and_long_urls_switch_to_post() {
    let stub = Stub::start(|_| Reply::json(200, &empty_bundle())).await;
    let client = Client::builder(stub.base_url())
        .max_get_url_len(200)
        .build()
        .expect("client");
    let mut params = SearchParams::new();
    params.raw("name", "O'Brien & Sons");
    params.raw("birthdate", "ge1970-01-01");
    params.count(10);
    client
        .search("Patient", params.clone())
        .send()
        .await
        .expect("GET");
    client
        .search("Patient", params.clone())
        .post(true)
        .send()
        .await
        .expect("POST");
    let mut long = SearchParams::new();
    long.raw("identifier", "x".repeat(300));
    client
        .search("Patient", long)
        .send()
        .await
        .expect("auto POST");

    let requests = stub.requests();
    let expected_query = params.to_query_string().expect("query");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].target, format!("/Patient?{expected_query}"));
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].target, "/Patient/_search");
    assert_eq!(
        requests[1].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&requests[1].body)
        .into_owned()
        .collect();
    assert_eq!(form, params.pairs().expect("pairs"));
    assert_eq!(
        requests[2].method, "POST",
        "URL over 200 bytes goes by POST"
    );
    assert_eq!(requests[2].target, "/Patient/_search");
}

#[tokio::test]
async fn stub_invalid_search_values_fail_before_sending() {
    use fhirforge_runtime::search::Date;
    let stub = Stub::start(|_| Reply::json(200, &empty_bundle())).await;
    let client = Client::builder(stub.base_url()).build().expect("client");
    let mut params = SearchParams::new();
    params.push("birthdate", Date::ge("1970-13-45"));
    let err = client
        .search("Patient", params)
        .send()
        .await
        .expect_err("bad date");
    assert!(
        matches!(err, fhirforge_runtime::Error::Search(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("birthdate"), "{err}");
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn stub_operations_history_batch_and_transaction_urls() {
    let stub = Stub::start(|r: &Recorded| {
        if r.path().contains("_history") || r.method == "POST" && r.path() == "/fhir/r4" {
            Reply::json(200, &json!({"resourceType": "Bundle", "type": "history"}))
        } else {
            Reply::json(200, &json!({"resourceType": "Parameters"}))
        }
    })
    .await;
    let client = Client::builder(format!("{}/fhir/r4", stub.base_url()))
        .build()
        .expect("client");
    let mut params = SearchParams::new();
    params.raw("start", "2020-01-01");
    client
        .operation(Scope::Instance("Patient", "1"), "$everything")
        .query(params)
        .await
        .expect("GET op");
    client
        .operation(Scope::Type("Patient"), "match")
        .parameters(&json!({"resourceType": "Parameters", "parameter": []}))
        .await
        .expect("POST op");
    client
        .operation(Scope::System, "$meta")
        .await
        .expect("system op");
    client
        .history_instance("Patient", "1")
        .await
        .expect("history");
    client.history_type("Patient").await.expect("history");
    client.history_system().await.expect("history");
    let batch = json!({"resourceType": "Bundle", "type": "batch", "entry": []});
    client.batch(&batch).await.expect("batch");
    let err = client.transaction(&batch).await.expect_err("wrong type");
    assert!(matches!(err, fhirforge_runtime::Error::InvalidInput { .. }));
    let targets: Vec<(String, String)> = stub
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    let expect = |m: &str, t: &str| (m.to_owned(), t.to_owned());
    assert_eq!(
        targets,
        [
            expect("GET", "/fhir/r4/Patient/1/$everything?start=2020-01-01"),
            expect("POST", "/fhir/r4/Patient/$match"),
            expect("GET", "/fhir/r4/$meta"),
            expect("GET", "/fhir/r4/Patient/1/_history"),
            expect("GET", "/fhir/r4/Patient/_history"),
            expect("GET", "/fhir/r4/_history"),
            expect("POST", "/fhir/r4"),
        ]
    );
}

/// Hands out `token-1`, `token-2`, ...; a 401 drops the cached one.
#[derive(Debug, Default)]
struct Rotating {
    issued: AtomicUsize,
}

impl AuthProvider for Rotating {
    fn authorization<'a>(
        &'a self,
        _http: &'a fhirforge_runtime::auth::HttpContext,
    ) -> BoxFuture<'a, Result<Option<HeaderValue>, AuthError>> {
        let n = self.issued.load(Ordering::SeqCst).max(1);
        self.issued.store(n, Ordering::SeqCst);
        Box::pin(async move {
            Ok(Some(
                HeaderValue::from_str(&format!("Bearer token-{n}")).expect("ascii"),
            ))
        })
    }

    fn rejected(&self, used: &HeaderValue) -> bool {
        let current = format!("Bearer token-{}", self.issued.load(Ordering::SeqCst));
        if used.as_bytes() == current.as_bytes() {
            self.issued.fetch_add(1, Ordering::SeqCst);
            true
        } else {
            false
        }
    }
}

#[tokio::test]
async fn stub_401_refreshes_credentials_once() {
    let stub = Stub::start(|r: &Recorded| {
        if r.header("authorization") == Some("Bearer token-1") {
            Reply::status(401).header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
        } else {
            Reply::json(200, &json!({"resourceType": "Patient", "id": "1"}))
        }
    })
    .await;
    let client = Client::builder(stub.base_url())
        .auth(Rotating::default())
        .build()
        .expect("client");
    client
        .read("Patient", "1")
        .await
        .expect("read after refresh");
    let auths: Vec<Option<String>> = stub
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        auths,
        [
            Some("Bearer token-1".to_owned()),
            Some("Bearer token-2".to_owned())
        ]
    );

    // A server that rejects every token gets one retry, not a loop.
    let always = Stub::start(|_| Reply::status(401)).await;
    let client = Client::builder(always.base_url())
        .auth(Rotating::default())
        .build()
        .expect("client");
    let err = client.read("Patient", "1").await.expect_err("401");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(always.requests().len(), 2);
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn stub_logs_show_method_path_status_but_no_query_values_bodies_or_tokens() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let stub = Stub::script(vec![
        Reply::status(503),
        Reply::json(200, &json!({"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": {"resourceType": "Patient", "id": "1", "name": [{"family": "Zebediah"}]}}]})),
    ])
    .await;
    let (builder, _sleep) = crate::common::builder_without_waiting(&stub.base_url());
    let client = builder.bearer_token("hunter2").build().expect("client");
    let mut params = SearchParams::new();
    params.raw("family", "Smithereens");
    params.raw("birthdate", "1970-01-01");
    client
        .search("Patient", params)
        .send()
        .await
        .expect("search");

    let logs = String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf8");
    assert!(logs.contains("GET"), "{logs}");
    assert!(logs.contains("/Patient?family=…&birthdate=…"), "{logs}");
    assert!(
        logs.contains("status=503") && logs.contains("status=200"),
        "{logs}"
    );
    assert!(logs.contains("latency_ms="), "{logs}");
    assert!(logs.contains("retrying FHIR request"), "{logs}");
    for secret in ["Smithereens", "1970-01-01", "hunter2", "Zebediah", "Bearer"] {
        assert!(!logs.contains(secret), "{secret} leaked into logs:\n{logs}");
    }
}

#[tokio::test]
async fn stub_an_injected_reqwest_client_is_used() {
    let stub =
        Stub::start(|_| Reply::json(200, &json!({"resourceType": "Patient", "id": "1"}))).await;
    let mut headers = http::HeaderMap::new();
    headers.insert("x-from-injected-pool", HeaderValue::from_static("yes"));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("reqwest client");
    let client = Client::builder(stub.base_url())
        .http_client(http)
        .build()
        .expect("client");
    client.read("Patient", "1").await.expect("read");
    let clone = client.clone();
    clone
        .read("Patient", "1")
        .await
        .expect("read through a clone");
    for r in stub.requests() {
        assert_eq!(r.header("x-from-injected-pool"), Some("yes"));
        assert_eq!(r.header("accept"), Some("application/fhir+json"));
    }
}
