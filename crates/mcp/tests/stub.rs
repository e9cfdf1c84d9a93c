//! What a real FHIR server will not be made to do, against the testkit's in-process stub
//! (tests named `stub`): warnings inside a searchset Bundle, more matches than asked for with a
//! `next` link, and the exact query the tools send, so the encoding is checked on the wire.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use fhirforge_mcp::log::CallLog;
use fhirforge_mcp::tools::{Catalog, Options};
use fhirforge_mcp::{Config, FhirMcp, Statement};
use fhirforge_testkit::stub::{Reply, Stub};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

fn epic() -> fhirforge_model::Connector {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs/vendors/epic-r4-capability.json");
    fhirforge_parse::read_capability_statement_file(&path, &Default::default())
        .unwrap()
        .connector
}

fn server(base: &str, options: Options) -> FhirMcp {
    FhirMcp::new(Config {
        catalog: Catalog::new(epic(), options).unwrap(),
        client: fhirforge_runtime::Client::builder(base).build().unwrap(),
        statement: Statement {
            text: "{}".into(),
            mime_type: "application/fhir+json".into(),
            source: "test".into(),
        },
        log: CallLog::to_writer(std::io::sink()),
        default_params: vec![("_security".into(), "normal".into())],
    })
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn text(r: &rmcp::model::CallToolResult, i: usize) -> String {
    r.content[i].as_text().unwrap().text.clone()
}

fn patient(i: usize) -> Value {
    json!({"search": {"mode": "match"}, "resource": {"resourceType": "Patient", "id": format!("p{i}")}})
}

#[tokio::test]
async fn bundle_warnings_and_cut_results_stub() {
    let stub = Stub::start(|req| {
        let base = req.base.clone();
        let mut entry: Vec<Value> = (0..3).map(patient).collect();
        entry.push(json!({"search": {"mode": "outcome"}, "resource": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "warning", "code": "processing", "diagnostics": "parameter near ignored"}]}}));
        Reply::json(
            200,
            &json!({"resourceType": "Bundle", "type": "searchset", "total": 7, "entry": entry,
                    "link": [{"relation": "next", "url": format!("{base}/Patient?page=2")}]}),
        )
    })
    .await;
    let mcp = server(&stub.base_url(), Options::default());
    let r = mcp
        .call(
            "search_Patient",
            args(json!({"family": "Smith", "max_results": 2})),
        )
        .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r, 0));
    let summary = text(&r, 0);
    assert!(
        summary.starts_with("2 Patient matched (the server counts 7 in all)."),
        "{summary}"
    );
    assert!(summary.contains("cut at 2"), "{summary}");
    assert!(
        summary.contains("warning (processing): parameter near ignored"),
        "{summary}"
    );
    let resources: Value = serde_json::from_str(&text(&r, 1)).unwrap();
    assert_eq!(resources.as_array().unwrap().len(), 2);
    // One page was enough: the next link was not followed.
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn the_query_sent_is_the_runtime_encoding_stub() {
    let empty = json!({"resourceType": "Bundle", "type": "searchset", "entry": []});
    let stub = Stub::start(move |_| Reply::json(200, &empty)).await;
    let mcp = server(&stub.base_url(), Options::default());
    let r = mcp
        .call(
            "search_Patient",
            args(json!({
                "family": "O'Brien, Jr.",
                "birthdate": {"lower": "1970", "upper": "1980-06"},
                "identifier": {"system": "urn:oid:1.2", "code": "a|1"},
                "additional": [{"name": "family:exact", "value": "Smith"}]
            })),
        )
        .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r, 0));
    let requests = stub.requests();
    let query = requests[0].target.split_once('?').unwrap().1.to_owned();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let expected: Vec<(String, String)> = [
        ("family", r"O'Brien\, Jr."),
        ("birthdate", "ge1970"),
        ("birthdate", "le1980-06"),
        ("identifier", r"urn:oid:1.2|a\|1"),
        ("family:exact", "Smith"),
        ("_security", "normal"),
        ("_count", "50"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(pairs, expected);

    // Compact mode: the same checks by name, values in FHIR syntax parsed by declared type.
    let compact = server(
        &stub.base_url(),
        Options {
            compact: true,
            ..Options::default()
        },
    );
    let r = compact
        .call(
            "search",
            args(json!({"resourceType": "Patient", "parameters": [{"name": "birthdate", "value": "ge1970"}]})),
        )
        .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r, 0));
    let r = compact
        .call(
            "search",
            args(json!({"resourceType": "Patient", "parameters": [{"name": "birthdat", "value": "ge1970"}]})),
        )
        .await;
    assert_eq!(r.is_error, Some(true));
    assert!(
        text(&r, 0).contains("did you mean `birthdate`?"),
        "{}",
        text(&r, 0)
    );
    let r = compact
        .call("search", args(json!({"resourceType": "Patinet"})))
        .await;
    assert!(
        text(&r, 0).contains("did you mean `Patient`?"),
        "{}",
        text(&r, 0)
    );
    assert_eq!(stub.requests().len(), 2, "refused calls send nothing");
}
