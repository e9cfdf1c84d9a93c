//! Faults a real server cannot be made to produce, on the testkit stub. Retry tests use a manual
//! clock and a recording sleep, so they never wait.

use std::time::Duration;

use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::{Error, PageCursor, RetryPolicy};
use fhirforge_testkit::stub::{Recorded, Reply, Stub};
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};

use crate::common::builder_without_waiting;

fn patient(id: &str) -> Value {
    json!({"resourceType": "Patient", "id": id})
}

fn page(base: &str, ids: &[&str], next: Option<&str>) -> Value {
    let mut links = vec![json!({"relation": "self", "url": format!("{base}/Patient")})];
    if let Some(next) = next {
        links.push(json!({"relation": "next", "url": next}));
    }
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": ids.iter().map(|id| json!({"resource": patient(id), "search": {"mode": "match"}})).collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn stub_429_retry_after_seconds_is_honoured() {
    let stub = Stub::script(vec![
        Reply::status(429).header("Retry-After", "7"),
        Reply::json(200, &patient("1")),
    ])
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let read = client
        .read("Patient", "1")
        .await
        .expect("read after one retry");
    assert_eq!(read["id"], "1");
    assert_eq!(sleep.slept(), [Duration::from_secs(7)]);
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn stub_429_retry_after_http_date_is_honoured() {
    // The client's clock says 2015-10-21T07:28:00Z; the server asks for 07:28:30.
    let stub = Stub::script(vec![
        Reply::status(429).header("Retry-After", "Wed, 21 Oct 2015 07:28:30 GMT"),
        Reply::json(200, &patient("1")),
    ])
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    client
        .read("Patient", "1")
        .await
        .expect("read after one retry");
    assert_eq!(sleep.slept(), [Duration::from_secs(30)]);
}

#[tokio::test]
async fn stub_retry_after_beyond_the_time_budget_gives_up() {
    let stub = Stub::script(vec![Reply::status(429).header("Retry-After", "3600")]).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder
        .retry(RetryPolicy::default().max_elapsed(Duration::from_secs(60)))
        .build()
        .expect("client");
    let err = client.read("Patient", "1").await.expect_err("429");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert!(err.is_retryable());
    assert!(sleep.slept().is_empty());
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn stub_503_is_retried_with_jittered_backoff_then_gives_up() {
    let stub = Stub::script(vec![
        Reply::status(503),
        Reply::status(503),
        Reply::status(503),
        Reply::json(200, &patient("never reached")),
    ])
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(100)),
        )
        .build()
        .expect("client");
    let err = client
        .read("Patient", "1")
        .await
        .expect_err("503 three times");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(matches!(err, Error::Status { .. }), "{err:?}");
    assert_eq!(stub.requests().len(), 3, "attempts are bounded");
    let slept = sleep.slept();
    assert_eq!(slept.len(), 2);
    assert!(
        (Duration::from_millis(50)..Duration::from_millis(100)).contains(&slept[0]),
        "{slept:?}"
    );
    assert!(
        (Duration::from_millis(100)..Duration::from_millis(200)).contains(&slept[1]),
        "{slept:?}"
    );
}

#[tokio::test]
async fn stub_503_on_a_post_create_is_not_retried() {
    let stub = Stub::script(vec![Reply::status(503), Reply::json(201, &patient("dup"))]).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let err = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .await
        .expect_err("503");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        stub.requests().len(),
        1,
        "a POST create must not be repeated"
    );
    assert!(sleep.slept().is_empty());
}

#[tokio::test]
async fn stub_503_on_a_conditional_create_is_retried_where_the_server_honours_it() {
    let stub = Stub::script(vec![
        Reply::status(503),
        Reply::json(201, &patient("new")).header("Location", "http://x/Patient/new/_history/1"),
    ])
    .await;
    let (builder, _sleep) = builder_without_waiting(&stub.base_url());
    // A connector whose CapabilityStatement declares conditionalCreate sets this; without it
    // the same 503 is final (see stub_503_on_a_conditional_create_is_not_retried_by_default).
    let client = builder
        .conditional_create_is_idempotent(true)
        .build()
        .expect("client");
    let mut criteria = SearchParams::new();
    criteria.raw("identifier", "urn:sys|123");
    let created = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .if_none_exist(criteria)
        .await
        .expect("created on the second attempt");
    assert!(created.created());
    assert_eq!(created.id(), Some("new"));
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.header("if-none-exist"),
            Some("identifier=urn%3Asys%7C123")
        );
    }
}

#[tokio::test]
async fn stub_503_on_a_conditional_create_is_not_retried_by_default() {
    // The server may ignore If-None-Exist (conditionalCreate false): a retry could duplicate.
    let stub = Stub::script(vec![Reply::status(503), Reply::json(201, &patient("dup"))]).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let mut criteria = SearchParams::new();
    criteria.raw("identifier", "urn:sys|123");
    let err = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .if_none_exist(criteria)
        .await
        .expect_err("503 is final");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(stub.requests().len(), 1);
    assert!(sleep.slept().is_empty());
}

#[tokio::test]
async fn stub_503_on_a_conditional_create_follows_what_the_resource_declares() {
    // Generated connectors say per resource whether the server honours If-None-Exist: that
    // overrides the client-wide setting in both directions, and survives `.options(..)`.
    for (client_wide, per_request, retried) in [(false, true, true), (true, false, false)] {
        let stub = Stub::script(vec![Reply::status(503), Reply::json(201, &patient("new"))]).await;
        let (builder, _sleep) = builder_without_waiting(&stub.base_url());
        let client = builder
            .conditional_create_is_idempotent(client_wide)
            .build()
            .expect("client");
        let mut criteria = SearchParams::new();
        criteria.raw("identifier", "urn:sys|123");
        let result = client
            .create("Patient", &json!({"resourceType": "Patient"}))
            .server_honours_if_none_exist(per_request)
            .options(fhirforge_runtime::WriteOptions::new().if_none_exist(criteria))
            .await;
        assert_eq!(
            result.is_ok(),
            retried,
            "{client_wide} {per_request}: {result:?}"
        );
        assert_eq!(stub.requests().len(), if retried { 2 } else { 1 });
    }
}

#[tokio::test]
async fn stub_dropped_after_the_request_was_sent_post_create_is_not_retried() {
    let stub = Stub::script(vec![
        Reply::DropAfterReading,
        Reply::json(201, &patient("dup")),
    ])
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let err = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .await
        .expect_err("connection dropped");
    assert!(matches!(err, Error::MaybeSent { .. }), "{err:?}");
    assert!(err.is_retryable() && !err.is_not_sent());
    assert_eq!(
        stub.requests().len(),
        1,
        "a POST create must not be repeated"
    );
    assert!(sleep.slept().is_empty());
}

#[tokio::test]
async fn stub_dropped_after_the_request_was_sent_get_is_retried() {
    let stub = Stub::script(vec![
        Reply::DropAfterReading,
        Reply::json(200, &patient("1")),
    ])
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    client
        .read("Patient", "1")
        .await
        .expect("read on the second attempt");
    assert_eq!(stub.requests().len(), 2);
    assert_eq!(sleep.slept().len(), 1);
}

#[tokio::test]
async fn stub_dropped_before_the_request_was_read_get_is_retried() {
    let stub = Stub::start_dropping(1, |_| Reply::json(200, &patient("1"))).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    client
        .read("Patient", "1")
        .await
        .expect("read on the second attempt");
    assert_eq!(
        stub.requests().len(),
        1,
        "the first connection was reset unread"
    );
    assert_eq!(sleep.slept().len(), 1);
}

#[tokio::test]
async fn stub_dropped_before_the_request_was_read_post_create_is_not_retried() {
    // The client cannot know the server read nothing: the connection was open, so the request
    // may have been sent, and a plain create is not repeated.
    let stub = Stub::start_dropping(1, |_| Reply::json(201, &patient("dup"))).await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder.build().expect("client");
    let err = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .await
        .expect_err("connection reset");
    assert!(matches!(err, Error::MaybeSent { .. }), "{err:?}");
    assert!(stub.requests().is_empty());
    assert!(sleep.slept().is_empty());
}

#[tokio::test]
async fn stub_connection_refused_is_not_sent_and_retried_even_for_create() {
    // Bind and release a port so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let (builder, sleep) = builder_without_waiting(&format!("http://127.0.0.1:{port}"));
    let client = builder.build().expect("client");
    let err = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::NotSent { .. }), "{err:?}");
    assert!(err.is_not_sent() && err.is_retryable());
    assert_eq!(
        sleep.slept().len(),
        2,
        "3 attempts, safe because nothing was sent"
    );
    assert!(
        !err.to_string().contains(&port.to_string()),
        "no URL in the error: {err}"
    );
}

#[tokio::test]
async fn stub_relative_and_absolute_next_links_are_followed_lazily() {
    let stub = Stub::start(|r: &Recorded| {
        let base = r.base.clone();
        match r.target.as_str() {
            "/Patient?_count=2" => {
                Reply::json(200, &page(&base, &["a", "b"], Some("Patient?page=2")))
            }
            "/Patient?page=2" => Reply::json(
                200,
                &page(&base, &["c", "d"], Some(&format!("{base}/Patient?page=3"))),
            ),
            "/Patient?page=3" => Reply::json(200, &page(&base, &["e"], None)),
            _ => Reply::status(404),
        }
    })
    .await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let mut params = SearchParams::new();
    params.count(2);
    let ids: Vec<Value> = client
        .search("Patient", params.clone())
        .resources()
        .map_ok(|r| r["id"].clone())
        .try_collect()
        .await
        .expect("three pages");
    assert_eq!(
        ids,
        [json!("a"), json!("b"), json!("c"), json!("d"), json!("e")]
    );
    let targets: Vec<String> = stub.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        ["/Patient?_count=2", "/Patient?page=2", "/Patient?page=3"]
    );

    // Limits stop fetching: 3 resources need only 2 pages; max_pages(1) needs one.
    let three: Vec<Value> = client
        .search("Patient", params.clone())
        .max_resources(3)
        .resources()
        .try_collect()
        .await
        .expect("limited");
    assert_eq!(three.len(), 3);
    assert_eq!(stub.requests().len(), 5);
    let pages: Vec<_> = client
        .search("Patient", params.clone())
        .max_pages(1)
        .pages()
        .try_collect()
        .await
        .expect("one page");
    assert_eq!(pages.len(), 1);
    assert_eq!(stub.requests().len(), 6);

    // Nothing is fetched until the stream is polled.
    let stream = client.search("Patient", params).pages();
    tokio::task::yield_now().await;
    assert_eq!(stub.requests().len(), 6);
    drop(stream);
}

#[tokio::test]
async fn stub_page_cursor_survives_serialization_and_resumes() {
    let stub = Stub::start(|r: &Recorded| {
        let base = r.base.clone();
        match r.target.as_str() {
            "/Patient" => Reply::json(200, &page(&base, &["a"], Some("Patient?page=2"))),
            "/Patient?page=2" => Reply::json(200, &page(&base, &["b"], Some("Patient?page=3"))),
            "/Patient?page=3" => Reply::json(200, &page(&base, &["c"], None)),
            _ => Reply::status(404),
        }
    })
    .await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let mut pages = Box::pin(client.search("Patient", SearchParams::new()).pages());
    let first = pages.next().await.expect("a page").expect("ok");
    drop(pages);
    let cursor = PageCursor::after(&first).expect("a next link");
    assert!(
        !format!("{cursor:?}").contains("page=2"),
        "Debug hides the query"
    );
    let saved = serde_json::to_string(&cursor).expect("serialize");
    let restored: PageCursor = serde_json::from_str(&saved).expect("deserialize");
    let rest: Vec<Value> = client
        .resume(restored)
        .map_ok(|b| b.matches().map(|r| r["id"].clone()).collect::<Vec<_>>())
        .try_concat()
        .await
        .expect("resumed");
    assert_eq!(rest, [json!("b"), json!("c")]);
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn stub_cross_origin_next_link_is_refused_unless_allowed() {
    let other = Stub::start(|r: &Recorded| Reply::json(200, &page(&r.base, &["z"], None))).await;
    // Same host and port spelled differently is another origin too; use the other stub's port.
    let foreign = format!(
        "{}/Patient?page=2",
        other.base_url().replace("127.0.0.1", "localhost")
    );
    let stub =
        Stub::start(move |r: &Recorded| Reply::json(200, &page(&r.base, &["a"], Some(&foreign))))
            .await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .bearer_token("hunter2")
        .build()
        .expect("client");
    let results: Vec<Result<_, Error>> = client
        .search("Patient", SearchParams::new())
        .pages()
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    let Err(Error::CrossOrigin { origin }) = &results[1] else {
        panic!("expected CrossOrigin, got {:?}", results[1]);
    };
    assert_eq!(origin, &format!("http://localhost:{}", other.addr().port()));
    assert!(
        other.requests().is_empty(),
        "the token never left for the other origin"
    );

    let allowed: Vec<_> = client
        .search("Patient", SearchParams::new())
        .allow_cross_origin(true)
        .max_pages(2)
        .pages()
        .try_collect()
        .await
        .expect("allowed explicitly");
    assert_eq!(allowed.len(), 2);
    assert_eq!(other.requests().len(), 1);
}

#[tokio::test]
async fn stub_oversized_bodies_are_refused() {
    let big = json!({"resourceType": "Patient", "id": "1", "text": "x".repeat(10_000)});
    let chunked = {
        let body = big.to_string();
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
        for chunk in body.as_bytes().chunks(1000) {
            raw.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            raw.extend_from_slice(chunk);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        raw
    };
    let stub = Stub::script(vec![Reply::json(200, &big), Reply::Raw(chunked)]).await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .max_response_size(4096)
        .build()
        .expect("client");
    for what in ["with Content-Length", "chunked"] {
        let err = client.read("Patient", "1").await.expect_err(what);
        assert!(
            matches!(err, Error::TooLarge { limit: 4096 }),
            "{what}: {err:?}"
        );
        assert!(!err.is_retryable());
    }
    assert_eq!(stub.requests().len(), 2, "too large is not retried");
}

#[tokio::test]
async fn stub_malformed_body_reports_the_json_path() {
    let body = r#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"a"}},{"resource":{"resourceType":"Patient","active":tru}}]}"#;
    let stub = Stub::script(vec![Reply::status(200)
        .header("Content-Type", "application/fhir+json")
        .body(body)])
    .await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let err = client
        .search("Patient", SearchParams::new())
        .send()
        .await
        .expect_err("malformed");
    let Error::Decode(decode) = &err else {
        panic!("expected Decode, got {err:?}")
    };
    assert_eq!(decode.path, "entry[1].resource.active");
    assert_eq!(decode.what, "Bundle");
    assert!(
        err.to_string().contains("entry[1].resource.active"),
        "{err}"
    );
}

#[tokio::test]
async fn stub_html_error_page_keeps_status_and_body() {
    let html = format!("<html><body>{}</body></html>", "Bad gateway ".repeat(1000));
    let stub = Stub::script(vec![
        Reply::status(500)
            .header("Content-Type", "text/html")
            .body(html.clone()),
        Reply::status(200)
            .header("Content-Type", "text/html")
            .body("<html>login</html>"),
    ])
    .await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let err = client.read("Patient", "1").await.expect_err("500 html");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.operation_outcome().is_none());
    let body = err.body().expect("body kept");
    assert_eq!(body.content_type.as_deref(), Some("text/html"));
    assert_eq!(body.len, html.len());
    assert!(body.is_truncated());
    assert!(html.starts_with(&body.text));
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        format!("FHIR server returned 500 Internal Server Error without an OperationOutcome (text/html, {} bytes)", html.len())
    );
    // A 200 with HTML (a login page from a proxy) is not FHIR.
    let err = client.read("Patient", "1").await.expect_err("200 html");
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("text/html"), "{err}");
}

#[tokio::test]
async fn stub_operation_outcome_errors_are_parsed() {
    let oo = json!({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "processing", "diagnostics": "birthDate is in the future", "expression": ["Patient.birthDate"]},
        {"severity": "warning", "code": "informational", "diagnostics": "other"}
    ]});
    let stub = Stub::script(vec![Reply::json(422, &oo)]).await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let err = client
        .create(
            "Patient",
            &json!({"resourceType": "Patient", "birthDate": "2999-01-01"}),
        )
        .await
        .expect_err("422");
    let outcome = err.operation_outcome().expect("outcome");
    assert_eq!(outcome.issue.len(), 2);
    assert_eq!(outcome.issue[0].expression, ["Patient.birthDate"]);
    assert_eq!(
        err.to_string(),
        "FHIR server returned 422 Unprocessable Entity: error (processing): birthDate is in the future [Patient.birthDate] (+1 more)"
    );
}

#[tokio::test]
async fn stub_searchset_outcomes_are_exposed() {
    let bundle = json!({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Patient", "id": "a"}, "search": {"mode": "match"}},
        {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "processing",
            "details": {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369", "code": "4119", "display": "Some results were filtered"}]}}]},
         "search": {"mode": "outcome"}}
    ]});
    let stub = Stub::script(vec![Reply::json(200, &bundle)]).await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let page = client
        .search("Patient", SearchParams::new())
        .send()
        .await
        .expect("page");
    assert_eq!(page.matches().count(), 1);
    let outcomes = page.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].issue[0].details_text(),
        Some("Some results were filtered")
    );
}

#[tokio::test]
async fn stub_a_page_linking_to_itself_ends_with_an_error_not_a_loop() {
    let stub = Stub::start(|r: &Recorded| {
        Reply::json(200, &page(&r.base, &["a"], Some("Patient?page=2")))
    })
    .await;
    let client = fhirforge_runtime::Client::builder(stub.base_url())
        .build()
        .expect("client");
    let results: Vec<Result<_, Error>> = client
        .search("Patient", SearchParams::new())
        .pages()
        .collect()
        .await;
    assert_eq!(results.len(), 3, "first page, page 2, then the error");
    assert!(
        matches!(results[2], Err(Error::Decode(_))),
        "{:?}",
        results[2]
    );
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn stub_timeouts_are_maybe_sent_and_retried_only_when_idempotent() {
    let stub = Stub::script(vec![
        Reply::Stall,
        Reply::json(200, &patient("1")),
        Reply::Stall,
        Reply::json(201, &patient("dup")),
    ])
    .await;
    let (builder, sleep) = builder_without_waiting(&stub.base_url());
    let client = builder
        .timeout(Some(Duration::from_millis(300)))
        .build()
        .expect("client");
    client
        .read("Patient", "1")
        .await
        .expect("read after a timeout");
    assert_eq!(sleep.slept().len(), 1);
    let err = client
        .create("Patient", &json!({"resourceType": "Patient"}))
        .await
        .expect_err("timeout");
    assert!(err.is_timeout(), "{err:?}");
    assert!(matches!(err, Error::MaybeSent { .. }), "{err:?}");
    assert_eq!(
        stub.requests().len(),
        3,
        "the timed-out create was not repeated"
    );
    assert_eq!(sleep.slept().len(), 1);
}
