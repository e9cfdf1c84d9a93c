//! Unit tests of the client builder and the request loop.

use super::*;

#[test]
fn base_url_is_validated_and_normalised() {
    let c = Client::builder("http://127.0.0.1:8080/fhir/r4")
        .build()
        .expect("valid");
    assert_eq!(c.base_url().as_str(), "http://127.0.0.1:8080/fhir/r4/");
    for bad in [
        "not a url",
        "ftp://h/fhir",
        "http://h/fhir?x=1",
        "http://user:pw@h/fhir",
        "mailto:a@b",
    ] {
        let err = Client::builder(bad).build().expect_err(bad);
        assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err}");
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}

#[test]
fn credentials_over_plain_http_to_another_host_need_an_opt_in() {
    for base in ["http://ehr.example/fhir", "http://10.1.2.3:8080/r4"] {
        let err = Client::builder(base)
            .bearer_token("t0ken")
            .build()
            .expect_err(base);
        let plain = err.insecure_http().expect("a plain-http refusal");
        assert_eq!(plain.what, "the base URL");
        assert!(base.starts_with(&plain.origin), "{plain:?}");
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");
        assert!(!err.to_string().contains("t0ken"), "{err}");
        assert!(Client::builder(base)
            .bearer_token("t0ken")
            .allow_insecure_http(true)
            .build()
            .is_ok());
        // Without credentials there is nothing to protect.
        assert!(Client::builder(base).build().is_ok());
    }
    for base in [
        "https://ehr.example/fhir",
        "http://127.0.0.1:8080/fhir",
        "http://127.1.2.3/fhir",
        "http://[::1]:8080/fhir",
        "http://localhost:8080/fhir",
    ] {
        assert!(
            Client::builder(base).bearer_token("t").build().is_ok(),
            "{base}"
        );
    }
}

/// A create with `If-None-Exist` that got a 503 is repeated only on a client that knows the
/// server honours the header; elsewhere the retry could create a duplicate.
#[tokio::test]
async fn stub_conditional_create_is_retried_only_where_the_server_honours_it() {
    use fhirforge_testkit::stub::{Reply, Stub};
    for honoured in [false, true] {
        let stub = Stub::script(vec![
            Reply::status(503),
            Reply::json(
                201,
                &serde_json::json!({"resourceType": "Patient", "id": "1"}),
            ),
        ])
        .await;
        let client = Client::builder(stub.base_url())
            .retry(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
            .conditional_create_is_idempotent(honoured)
            .build()
            .expect("client");
        let url = client.base_url().join("Patient").expect("url");
        let mut req = Req::new(Method::POST, url);
        req.conditional_create = true;
        let result = client.execute(req).await;
        assert_eq!(result.is_ok(), honoured, "{result:?}");
        assert_eq!(stub.requests().len(), if honoured { 2 } else { 1 });
    }
}

#[test]
fn bad_headers_and_tokens_fail_at_build() {
    let err = Client::builder("http://h/")
        .default_header("bad name", "x")
        .build()
        .expect_err("bad name");
    assert!(matches!(err, Error::InvalidInput { .. }));
    let err = Client::builder("http://127.0.0.1/")
        .bearer_token("se\ncret")
        .build()
        .expect_err("bad token");
    assert!(matches!(err, Error::Auth(_)));
    assert!(!err.to_string().contains("se\ncret"));
    let err = Client::builder("http://h/")
        .default_header("Authorization", "Bearer x")
        .build()
        .expect_err("auth header");
    assert!(matches!(err, Error::InvalidInput { .. }));
}

#[test]
fn client_is_send_sync_and_debug_hides_auth() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Client>();
    let c = Client::builder("http://127.0.0.1/")
        .bearer_token("hunter2")
        .build()
        .expect("valid");
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn logged_paths_hide_query_values() {
    let url = Url::parse("http://h/Patient?name=Smith&birthdate=ge1970").expect("url");
    assert_eq!(loggable(&url, false), "/Patient?name=…&birthdate=…");
    assert_eq!(loggable(&url, true), "/Patient?name=Smith&birthdate=ge1970");
}

#[test]
fn decode_errors_carry_the_json_path() {
    let err = decode_json(br#"{"entry":[{"a":1},{"resource":{"id":tru}}]}"#, "Bundle")
        .expect_err("malformed");
    let Error::Decode(d) = err else {
        panic!("expected a decode error, got {err}")
    };
    assert_eq!(d.what, "Bundle");
    assert_eq!(d.path, "entry[1].resource.id");
}

#[test]
fn error_statuses_keep_the_outcome_or_the_body() {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    let err = status_error(
        StatusCode::BAD_GATEWAY,
        &headers,
        b"<html>bad gateway</html>",
    );
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(
        err.body().map(|b| b.text.as_str()),
        Some("<html>bad gateway</html>")
    );
    let oo = br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no Patient/x"}]}"#;
    let err = status_error(StatusCode::NOT_FOUND, &HeaderMap::new(), oo);
    assert_eq!(
        err.to_string(),
        "FHIR server returned 404 Not Found: error (not-found): no Patient/x"
    );
    assert_eq!(err.operation_outcome().map(|o| o.issue.len()), Some(1));
}
