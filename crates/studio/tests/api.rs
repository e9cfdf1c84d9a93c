//! The studio over HTTP: who may talk to it (token, cookie, header, `Host`, `Origin`), the
//! security headers, and that the preview is the query the runtime really sends (checked against
//! a stub's recording of the request a Send made).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod support;

use fhirforge_runtime::Client;
use fhirforge_studio::StudioOptions;
use fhirforge_testkit::stub::{Reply, Stub};
use reqwest::header;
use serde_json::{json, Value};
use support::{epic_bytes, start};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn requests_without_the_right_token_are_refused() {
    let s = start(&epic_bytes(), StudioOptions::default(), None).await;
    let c = http();
    let spec = format!("{}/api/spec", s.base);

    let none = c.get(&spec).send().await.unwrap();
    assert_eq!(none.status(), 401);
    // Even a refusal carries the policy.
    assert!(none.headers().contains_key(header::CONTENT_SECURITY_POLICY));

    let wrong = c
        .get(&spec)
        .header("X-Studio-Token", "0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let wrong_url = c
        .get(format!("{}/?token=nope", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_url.status(), 403);
    let wrong_cookie = c
        .get(&spec)
        .header(header::COOKIE, format!("fhirforge_studio_{}=nope", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_cookie.status(), 403);

    // The launch URL trades the token for a cookie and drops it from the address bar.
    let launch = c.get(&s.url).send().await.unwrap();
    assert_eq!(launch.status(), 303);
    assert_eq!(launch.headers()[header::LOCATION], "/");
    let cookie = launch.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let with_cookie = c
        .get(&spec)
        .header(header::COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), 200);
    let page = c
        .get(format!("{}/", s.base))
        .header(header::COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/js/app.js"></script>"#));
    let script = c
        .get(format!("{}/js/app.js", s.base))
        .header(header::COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(!html.contains("<script>"), "no inline script");

    // A cookie alone never changes anything: state-changing requests need the header.
    let form = json!({ "resource": "Patient" });
    let post_cookie = c
        .post(format!("{}/api/preview", s.base))
        .header(header::COOKIE, &pair)
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(post_cookie.status(), 401);
    let post_header = c
        .post(format!("{}/api/preview", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(post_header.status(), 200);
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused_and_the_policy_is_strict() {
    let s = start(&epic_bytes(), StudioOptions::default(), None).await;
    let c = http();
    let spec = format!("{}/api/spec", s.base);
    let rebinding = c
        .get(&spec)
        .header("X-Studio-Token", &s.token)
        .header(header::HOST, format!("evil.example:{}", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(rebinding.status(), 403);
    let foreign = c
        .post(format!("{}/api/preview", s.base))
        .header("X-Studio-Token", &s.token)
        .header(header::ORIGIN, "http://evil.example")
        .json(&json!({ "resource": "Patient" }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let ok = c
        .get(&spec)
        .header("X-Studio-Token", &s.token)
        .header(header::ORIGIN, format!("http://127.0.0.1:{}", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let csp = ok.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(ok.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["send"]["available"], false);
}

/// The form's birthdate range (inclusive lower, exclusive upper) and an additional
/// `family:exact=Smith`: the preview's query is byte for byte the query the runtime sent.
#[tokio::test]
async fn the_preview_is_what_the_runtime_sends_stub() {
    let stub = Stub::start(|req| {
        Reply::json(
            200,
            &json!({
                "resourceType": "Bundle", "type": "searchset",
                "entry": [{ "resource": { "resourceType": "Patient", "id": "p1",
                    "name": [{ "family": "Smith", "given": ["Jane"] }], "birthDate": "1970-06-01" },
                    "search": { "mode": "match" } }],
                "link": [{ "relation": "next", "url": format!("{}/Patient?page=2", req.base) }]
            }),
        )
    })
    .await;
    let client = Client::builder(stub.base_url()).build().unwrap();
    let s = start(&epic_bytes(), StudioOptions::default(), Some(client)).await;
    let c = http();
    let form = json!({
        "resource": "Patient",
        "params": [{ "name": "birthdate", "mode": "range",
            "lower": { "value": "1970-01-01", "bound": "inclusive" },
            "upper": { "value": "1980-01-01", "bound": "exclusive" } }],
        "additional": "family:exact=Smith",
        "count": "2"
    });
    let preview: Value = c
        .post(format!("{}/api/preview", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let query = preview["query"].as_str().unwrap();
    assert_eq!(
        query,
        "_count=2&birthdate=ge1970-01-01&birthdate=lt1980-01-01&family%3Aexact=Smith"
    );
    assert_eq!(preview["method"], "GET");
    assert_eq!(
        preview["url"],
        format!("{}/Patient?{query}", stub.base_url())
    );
    assert_eq!(
        preview["cli"],
        format!(
            "fhirforge search Patient _count=2 --range 'birthdate=1970-01-01..<1980-01-01' \
             --param family:exact=Smith --base {}/",
            stub.base_url()
        )
    );
    let rust = preview["rust"].as_str().unwrap();
    assert!(rust.contains(".birthdate(Date::range(Bound::inclusive(\"1970-01-01\"), Bound::exclusive(\"1980-01-01\")))"), "{rust}");
    assert!(
        rust.contains(".param(\"family:exact\", \"Smith\")"),
        "{rust}"
    );

    let sent: Value = c
        .post(format!("{}/api/send", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded = stub.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "GET");
    assert_eq!(recorded[0].target, format!("/Patient?{query}"));
    assert_eq!(sent["rows"][0]["id"], "p1");
    assert_eq!(
        sent["rows"][0]["summary"],
        "Jane Smith · birthDate: 1970-06-01"
    );
    assert!(sent["next"].as_str().unwrap().ends_with("/Patient?page=2"));
}

#[tokio::test]
async fn invalid_values_are_refused_in_words_and_send_needs_a_server() {
    let s = start(&epic_bytes(), StudioOptions::default(), None).await;
    let c = http();
    let bad = c
        .post(format!("{}/api/preview", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&json!({ "resource": "Patient", "params": [{ "name": "birthdate", "prefix": "ge", "value": "19x" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("birthdate"),
        "{body}"
    );
    let unknown = c
        .post(format!("{}/api/preview", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&json!({ "resource": "NoSuchType" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    let send = c
        .post(format!("{}/api/send", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&json!({ "resource": "Patient" }))
        .send()
        .await
        .unwrap();
    assert_eq!(send.status(), 409);
}

#[tokio::test]
async fn diff_is_fhirforge_diff() {
    let s = start(&epic_bytes(), StudioOptions::default(), None).await;
    let old = String::from_utf8(epic_bytes()).unwrap();
    let new = old.replacen("\"birthdate\"", "\"birthdate-renamed\"", 1);
    let answer: Value = http()
        .post(format!("{}/api/diff", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&json!({ "old": { "text": old }, "new": { "text": new } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parse = |t: &str| {
        fhirforge_parse::read_capability_statement(t.as_bytes(), None, &Default::default())
            .unwrap()
            .connector
    };
    let expected = fhirforge_model::diff::diff(&parse(&old), &parse(&new));
    assert!(!expected.is_empty());
    assert_eq!(answer["changes"], serde_json::to_value(&expected).unwrap());
}

#[tokio::test]
async fn interaction_forms_preview_reads_and_writes_and_send_only_reads_stub() {
    let stub =
        Stub::start(|_| Reply::json(200, &json!({"resourceType": "Patient", "id": "abc"}))).await;
    let client = Client::builder(stub.base_url()).build().unwrap();
    let s = start(&epic_bytes(), StudioOptions::default(), Some(client)).await;
    let c = http();
    let post = |path: &'static str, body: Value| {
        c.post(format!("{}{path}", s.base))
            .header("X-Studio-Token", &s.token)
            .json(&body)
            .send()
    };
    let read: Value = post(
        "/api/interaction",
        json!({ "resource": "Patient", "interaction": "read", "id": "abc" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(read["method"], "GET");
    assert_eq!(read["url"], format!("{}/Patient/abc", stub.base_url()));
    assert_eq!(
        read["cli"],
        format!("fhirforge read Patient abc --base {}/", stub.base_url())
    );
    assert_eq!(
        read["rust"],
        "let result = client.patient().read(\"abc\").await?;"
    );
    // An id the runtime would refuse is refused here too; so is an undeclared interaction.
    let bad = post(
        "/api/interaction",
        json!({ "resource": "Patient", "interaction": "read", "id": "a/b" }),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    let undeclared = post(
        "/api/interaction",
        json!({ "resource": "Patient", "interaction": "delete", "id": "abc" }),
    )
    .await
    .unwrap();
    assert_eq!(undeclared.status(), 422);
    let create: Value = post(
        "/api/interaction",
        json!({ "resource": "Patient", "interaction": "create" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(create["method"], "POST");
    assert_eq!(create["sendable"], false);
    let refused = post(
        "/api/interaction/send",
        json!({ "resource": "Patient", "interaction": "create" }),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(stub.requests().is_empty(), "a write was sent");
    let sent: Value = post(
        "/api/interaction/send",
        json!({ "resource": "Patient", "interaction": "read", "id": "abc" }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(sent["resource"]["id"], "abc");
    assert_eq!(stub.requests()[0].target, "/Patient/abc");
}

/// Every method the Rust preview calls exists on the generated Epic connector (its client, the
/// Patient API and search) or on the runtime's `SearchBuilder` trait.
#[tokio::test]
async fn the_rust_preview_calls_methods_the_connector_has() {
    let s = start(&epic_bytes(), StudioOptions::default(), None).await;
    let form = json!({
        "resource": "Patient",
        "params": [
            { "name": "birthdate", "mode": "range",
              "lower": { "value": "1970", "bound": "exclusive" }, "upper": { "value": "", "bound": "open" } },
            { "name": "family", "modifier": "exact", "value": "Smith" },
            { "name": "identifier", "value": "urn:oid:1.2.3|42" },
            { "name": "gender", "modifier": "not", "value": "male" },
            { "name": "general-practitioner", "value": "Practitioner/1" },
            { "name": "death-date", "prefix": "lt", "value": "2020" }
        ],
        "include": ["*"],
        "revinclude": ["Provenance:target"],
        "count": "10",
        "sort": "-birthdate",
        "additional": "_has:Observation:patient:code=1234-5"
    });
    let preview: Value = http()
        .post(format!("{}/api/preview", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rust = preview["rust"].as_str().unwrap();
    let read = |path: &str| std::fs::read_to_string(support::root().join(path)).unwrap();
    let generated = read("connectors/epic/src/patient.rs") + &read("connectors/epic/src/lib.rs");
    let builder = read("crates/runtime/src/search/builder.rs");
    let methods: Vec<&str> = rust
        .split("\n    .")
        .skip(1)
        .map(|call| call.split('(').next().unwrap())
        .filter(|m| !["send", "await?;"].contains(m))
        .collect();
    assert!(methods.len() >= 12, "{rust}");
    for m in &methods {
        let declared = format!("fn {m}(");
        assert!(
            generated.contains(&declared) || builder.contains(&declared),
            "{m} is neither a Patient search method nor a SearchBuilder method:\n{rust}"
        );
    }
    for expected in [
        ".birthdate(Date::range(Bound::exclusive(\"1970\"), Bound::Unbounded))",
        ".family(Str::exact(\"Smith\"))",
        ".identifier(Token::system_code(\"urn:oid:1.2.3\", \"42\"))",
        ".gender(Token::code(\"male\").not())",
        // Reference values have no grammar of their own: sent as written, as `.param` does.
        ".param(\"general-practitioner\", \"Practitioner/1\")",
        ".death_date(Date::lt(\"2020\"))",
        ".include_raw(\"*\")",
        ".rev_include_raw(\"Provenance:target\")",
        ".count(10)",
        ".sort(\"-birthdate\")",
        ".param(\"_has:Observation:patient:code\", \"1234-5\")",
    ] {
        assert!(rust.contains(expected), "missing {expected} in:\n{rust}");
    }
}

/// An OpenAPI document: the overview carries its generic (non-FHIR) operations too.
#[tokio::test]
async fn openapi_documents_show_their_generic_operations() {
    let path = support::root().join("specs/openapi-synthetic/gen-generic-operations.yaml");
    let loaded =
        fhirforge_parse::load_file(&path, &fhirforge_parse::LoadOptions::default()).unwrap();
    let expected = loaded.parsed.connector.generic_operations.len();
    assert!(expected > 0);
    let bytes = std::fs::read(&path).unwrap();
    let s = support::start_parsed(loaded.parsed, &bytes, StudioOptions::default(), None).await;
    let spec: Value = http()
        .get(format!("{}/api/spec", s.base))
        .header("X-Studio-Token", &s.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["spec"]["source_kind"], "open-api");
    let ops = spec["spec"]["generic_operations"].as_array().unwrap();
    assert_eq!(ops.len(), expected);
    assert!(ops
        .iter()
        .all(|o| o["method"].is_string() && o["path"].is_string()));
}
