//! End to end against the real FHIR server (hfs, started on 127.0.0.1 by the testkit): the
//! hand-written OpenAPI description of its Patient API (`specs/openapi-synthetic/hfs-patient.json`)
//! must read into a model that agrees with the server's own CapabilityStatement, and every
//! interaction and search parameter the model holds must work on the server as the model says:
//! create, read, vread, history, and a search per parameter under `Prefer: handling=strict`
//! (unknown parameters are a 400 there), with values of the type the reader gave it.
#![allow(
    clippy::unwrap_used,
    reason = "test: an unwrap failing is the test failing"
)]

use fhirforge_model::{ResourceInteraction, SearchParamType};
use fhirforge_parse::openapi::{self, Options};
use fhirforge_parse::Limits;
use fhirforge_testkit::hfs::Hfs;
use serde_json::{json, Value};

fn document() -> fhirforge_parse::openapi::OpenApiParsed {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/openapi-synthetic/hfs-patient.json"
    );
    openapi::read_file(std::path::Path::new(path), &Options::default()).unwrap()
}

/// A search value of the given type that the server must accept.
fn sample(name: &str, t: &SearchParamType) -> Option<&'static str> {
    Some(match (name, t) {
        ("_sort", _) => "family",
        ("_count", _) => "5",
        (_, SearchParamType::String) => "Openapi",
        (_, SearchParamType::Token) => "female",
        (_, SearchParamType::Date) => "ge1900-01-01",
        (_, SearchParamType::Number) => "1",
        (_, SearchParamType::Reference) => "Patient/none",
        (_, SearchParamType::Uri) => "http://example.org",
        _ => return None,
    })
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_hfs_patient_openapi_document_works_on_the_real_server() {
    let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
    let read = document();
    let patient = read.parsed.connector.resource("Patient").unwrap().clone();

    // The server's own statement agrees with what the OpenAPI reader derived.
    let live =
        fhirforge_parse::fetch::fetch_capability_statement(hfs.base_url(), &Limits::default())
            .await
            .unwrap();
    let live_patient = live.connector.resource("Patient").unwrap();
    for i in &patient.interactions {
        assert!(
            live_patient.supports(*i),
            "the server does not declare {}",
            i.code()
        );
    }
    for p in &patient.search_params {
        if let Some(lp) = live_patient.search_param(&p.name) {
            assert_eq!(lp.param_type, p.param_type, "type of {}", p.name);
        }
    }

    let base = hfs.base_url().trim_end_matches('/').to_owned();
    let http = reqwest::Client::new();
    let fhir = "application/fhir+json";

    // create (POST [base]/Patient)
    assert!(patient.supports(ResourceInteraction::Create));
    let created = http
        .post(format!("{base}/{}", patient.resource_type))
        .header("Content-Type", fhir)
        .json(
            &json!({"resourceType": "Patient", "name": [{"family": "Openapi", "given": ["Ada"]}],
                      "gender": "female", "birthDate": "1980-06-15", "active": true,
                      "identifier": [{"system": "urn:test", "value": "oa-1"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // read, vread, history-instance
    assert!(patient.supports(ResourceInteraction::Read));
    let got: Value = http
        .get(format!("{base}/Patient/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["name"][0]["family"], "Openapi");
    assert!(patient.supports(ResourceInteraction::Vread));
    let vid = got["meta"]["versionId"].as_str().unwrap();
    let v = http
        .get(format!("{base}/Patient/{id}/_history/{vid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(v.status().as_u16(), 200);
    assert!(patient.supports(ResourceInteraction::HistoryInstance));
    let h: Value = http
        .get(format!("{base}/Patient/{id}/_history"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(h["type"], "history");

    // Every search parameter the model holds is known to the server (strict handling turns an
    // unknown one into a 400) and accepts a value of the type the reader gave it.
    // Control: the server does refuse a parameter it does not know, so the 200s below mean
    // something.
    let unknown = http
        .get(format!("{base}/Patient"))
        .query(&[("not-a-patient-parameter", "x")])
        .header("Prefer", "handling=strict")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 400);
    let mut checked = 0;
    for p in &patient.search_params {
        let Some(value) = sample(&p.name, &p.param_type) else {
            continue;
        };
        let resp = http
            .get(format!("{base}/Patient"))
            .query(&[(p.name.as_str(), value)])
            .header("Prefer", "handling=strict")
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status().as_u16(),
            200,
            "search by {}={value}: {}",
            p.name,
            resp.text().await.unwrap()
        );
        checked += 1;
    }
    assert_eq!(checked, patient.search_params.len());

    // The types matter: `birthdate` is a date (ranges work), `gender` a token, `family` a string.
    let search = |query: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{base}/Patient");
        async move {
            let resp = http
                .get(url)
                .query(&query)
                .header("Prefer", "handling=strict")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            ids(&resp.json::<Value>().await.unwrap())
        }
    };
    assert!(patient.search_param("birthdate").unwrap().range);
    let in_range = search(vec![
        ("birthdate", "ge1980-01-01".into()),
        ("birthdate", "le1980-12-31".into()),
    ])
    .await;
    assert_eq!(in_range, std::slice::from_ref(&id));
    assert!(search(vec![("birthdate", "lt1980-01-01".into())])
        .await
        .is_empty());
    assert_eq!(
        search(vec![
            ("gender", "female".into()),
            ("family", "openapi".into())
        ])
        .await,
        std::slice::from_ref(&id)
    );
    assert_eq!(
        search(vec![("identifier", "urn:test|oa-1".into())]).await,
        std::slice::from_ref(&id)
    );

    // POST [base]/Patient/_search with a form body, as the document's `_search` path says.
    let resp = http
        .post(format!("{base}/Patient/_search"))
        .form(&[("family", "Openapi")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(ids(&resp.json::<Value>().await.unwrap()), [id]);
}
