//! `Client::request` (non-FHIR routes of OpenAPI-described APIs): what reaches the wire and what
//! is retried, on the stub (`stub_` tests); and a round trip against the real hfs.

use fhirforge_runtime::generic::Method;
use fhirforge_testkit::stub::{Reply, Stub};
use serde_json::json;

use crate::common::{builder_without_waiting, hfs_client};

#[tokio::test]
async fn stub_generic_request_puts_path_query_headers_and_body_on_the_wire() {
    let stub = Stub::script(vec![Reply::json(200, &json!({"ok": true}))]).await;
    // A base URL with a path: generic templates are absolute on its origin.
    let (builder, _sleep) = builder_without_waiting(&format!("{}/fhir/r4", stub.base_url()));
    let client = builder.build().expect("client");
    let out = client
        .request(Method::POST, "/api/patient/{puuid}/note")
        .path_param("puuid", "a/../b")
        .query("tag", "x")
        .query("tag", "y&z")
        .header("X-Request-Id", "42")
        .json_body(&json!({"text": "hello"}))
        .send_json()
        .await
        .expect("sent");
    assert_eq!(out, json!({"ok": true}));
    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/api/patient/a%2F..%2Fb/note?tag=x&tag=y%26z");
    assert_eq!(r.header("x-request-id"), Some("42"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.body_text(), r#"{"text":"hello"}"#);
}

#[tokio::test]
async fn stub_generic_get_503_is_retried_and_post_503_is_not() {
    let stub = Stub::script(vec![Reply::status(503), Reply::json(200, &json!([1]))]).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let out = client
        .request(Method::GET, "/api/items")
        .send_json()
        .await
        .expect("second attempt");
    assert_eq!(out, json!([1]));
    assert_eq!(stub.requests().len(), 2);
    assert_eq!(sleep.slept().len(), 1);

    let stub = Stub::script(vec![Reply::status(503), Reply::status(204)]).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let err = client
        .request(Method::POST, "/api/items")
        .json_body(&json!({}))
        .send()
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(stub.requests().len(), 1, "a POST must not be repeated");
    assert!(sleep.slept().is_empty());
}

#[tokio::test]
async fn stub_generic_bad_input_is_refused_before_sending() {
    let stub = Stub::script(vec![Reply::status(200)]).await;
    let (builder, _sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let err = client
        .request(Method::GET, "/api/{id}")
        .path_param("id", "..")
        .send()
        .await
        .expect_err("refused");
    assert!(matches!(err, fhirforge_runtime::Error::InvalidInput { .. }));
    let err = client
        .request(Method::GET, "/api/x")
        .header("X-A", "secret\r\nX-B: injected")
        .send()
        .await
        .expect_err("refused");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn hfs_generic_requests_create_and_read_a_patient() {
    let (_hfs, client) = hfs_client().await;
    let created = client
        .request(Method::POST, "/Patient")
        .json_body(&json!({"resourceType": "Patient", "name": [{"family": "Generic"}]}))
        .send_json()
        .await
        .expect("created");
    let id = created["id"].as_str().expect("an id").to_owned();
    let read = client
        .request(Method::GET, "/Patient/{id}")
        .path_param("id", &id)
        .send_json()
        .await
        .expect("read");
    assert_eq!(read["name"][0]["family"], "Generic");
    let found = client
        .request(Method::GET, "/Patient")
        .query("family", "Generic")
        .send_json()
        .await
        .expect("search");
    assert_eq!(found["entry"][0]["resource"]["id"], id.as_str());
}
