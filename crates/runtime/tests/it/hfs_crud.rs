//! CRUD, versioning, conditional interactions and transactions against a real FHIR server (hfs).

use fhirforge_runtime::search::{SearchParams, Token};
use fhirforge_runtime::{Error, Return};
use serde_json::{json, Value};

use crate::common::hfs_client;

fn patient(family: &str) -> Value {
    json!({"resourceType": "Patient", "active": true, "name": [{"family": family, "given": ["Ann"]}]})
}

#[tokio::test]
async fn hfs_capabilities_are_r4() {
    let (_hfs, client) = hfs_client().await;
    let caps = client.capabilities().await.expect("metadata");
    assert_eq!(caps["resourceType"], "CapabilityStatement");
    assert_eq!(caps["fhirVersion"], "4.0.1");
}

#[tokio::test]
async fn hfs_crud_round_trip() {
    let (_hfs, client) = hfs_client().await;

    let created = client
        .create("Patient", &patient("Round"))
        .await
        .expect("create");
    assert!(created.created(), "status {}", created.status());
    let id = created.id().expect("an id").to_owned();
    assert_eq!(created.version_id(), Some("1"));

    let read = client.read("Patient", &id).await.expect("read");
    assert_eq!(read["id"], id.as_str());
    assert_eq!(read["name"][0]["family"], "Round");

    let mut changed = read.clone();
    changed["name"][0]["family"] = json!("Trip");
    let updated = client
        .update("Patient", &id, &changed)
        .await
        .expect("update");
    assert_eq!(updated.version_id(), Some("2"));
    assert_eq!(
        client.read("Patient", &id).await.expect("read")["name"][0]["family"],
        "Trip"
    );

    let patched = client
        .patch(
            "Patient",
            &id,
            &json!([{"op": "replace", "path": "/active", "value": false}]),
        )
        .await
        .expect("patch");
    assert_eq!(patched.version_id(), Some("3"));
    assert_eq!(
        client.read("Patient", &id).await.expect("read")["active"],
        false
    );

    client.delete("Patient", &id).await.expect("delete");
    let gone = client.read("Patient", &id).await.expect_err("deleted");
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(410));
    let missing = client
        .read("Patient", "does-not-exist")
        .await
        .expect_err("missing");
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn hfs_stale_if_match_is_a_412_conflict() {
    let (_hfs, client) = hfs_client().await;
    let created = client
        .create("Patient", &patient("Lock"))
        .await
        .expect("create");
    let id = created.id().expect("id").to_owned();
    let mut body = client.read("Patient", &id).await.expect("read");
    body["active"] = json!(false);

    let ok = client
        .update("Patient", &id, &body)
        .if_match_version("1")
        .await
        .expect("current version");
    assert_eq!(ok.version_id(), Some("2"));

    let err = client
        .update("Patient", &id, &body)
        .if_match_version("1")
        .await
        .expect_err("stale version");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(412), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn hfs_conditional_create_update_and_delete() {
    let (_hfs, client) = hfs_client().await;
    let mut body = patient("Cond");
    body["identifier"] = json!([{"system": "urn:fhirforge:test", "value": "c-1"}]);
    let criteria = || {
        let mut p = SearchParams::new();
        p.push(
            "identifier",
            Token::system_code("urn:fhirforge:test", "c-1"),
        );
        p
    };

    let first = client
        .create("Patient", &body)
        .if_none_exist(criteria())
        .await
        .expect("first create");
    assert!(first.created());
    let id = first.id().expect("id").to_owned();
    let second = client
        .create("Patient", &body)
        .if_none_exist(criteria())
        .await
        .expect("second create");
    assert!(
        !second.created(),
        "an existing match is not created again: {}",
        second.status()
    );
    let all = client
        .search("Patient", criteria())
        .send()
        .await
        .expect("search");
    assert_eq!(all.matches().count(), 1);

    body["active"] = json!(false);
    let updated = client
        .update_conditional("Patient", &criteria(), &body)
        .await
        .expect("conditional update");
    assert_eq!(updated.status().as_u16(), 200);
    assert_eq!(
        client.read("Patient", &id).await.expect("read")["active"],
        false
    );

    client
        .delete_conditional("Patient", &criteria())
        .await
        .expect("conditional delete");
    let err = client.read("Patient", &id).await.expect_err("deleted");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(410));
}

#[tokio::test]
async fn hfs_vread_and_history() {
    let (_hfs, client) = hfs_client().await;
    let id = client
        .create("Patient", &patient("V1"))
        .await
        .expect("create")
        .id()
        .expect("id")
        .to_owned();
    let mut body = client.read("Patient", &id).await.expect("read");
    body["name"][0]["family"] = json!("V2");
    client.update("Patient", &id, &body).await.expect("update");
    client
        .create("Patient", &patient("Other"))
        .await
        .expect("create");

    let v1 = client.vread("Patient", &id, "1").await.expect("vread 1");
    assert_eq!(v1["name"][0]["family"], "V1");
    let v2 = client.vread("Patient", &id, "2").await.expect("vread 2");
    assert_eq!(v2["name"][0]["family"], "V2");

    let history = client
        .history_instance("Patient", &id)
        .await
        .expect("history");
    assert_eq!(history.bundle_type(), Some("history"));
    let mut versions: Vec<String> = history
        .entries()
        .iter()
        .filter_map(|e| {
            e.pointer("/resource/meta/versionId")?
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    versions.sort();
    assert_eq!(versions, ["1", "2"]);

    let type_history = client.history_type("Patient").await.expect("type history");
    assert_eq!(
        type_history.entries().len(),
        3,
        "two versions of one patient, one of another"
    );
}

#[tokio::test]
async fn hfs_prefer_return_variants() {
    let (_hfs, client) = hfs_client().await;
    let minimal = client
        .create("Patient", &patient("Min"))
        .prefer(Return::Minimal)
        .await
        .expect("minimal");
    assert!(minimal.resource().is_none());
    assert!(minimal.id().is_some(), "id from Location");
    let full = client
        .create("Patient", &patient("Full"))
        .prefer(Return::Representation)
        .await
        .expect("representation");
    assert_eq!(full.resource().expect("body")["name"][0]["family"], "Full");
    let oo = client
        .create("Patient", &patient("Oo"))
        .prefer(Return::OperationOutcome)
        .await
        .expect("outcome");
    assert!(oo.outcome().is_some(), "an OperationOutcome body");
}

#[tokio::test]
async fn hfs_transaction_resolves_urn_uuid_references() {
    let (_hfs, client) = hfs_client().await;
    let tx = json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:6f1c1b7e-0000-4000-8000-000000000001",
             "resource": patient("Tx"),
             "request": {"method": "POST", "url": "Patient"}},
            {"resource": {"resourceType": "Observation", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                          "subject": {"reference": "urn:uuid:6f1c1b7e-0000-4000-8000-000000000001"}},
             "request": {"method": "POST", "url": "Observation"}}
        ]
    });
    let response = client.transaction(&tx).await.expect("transaction");
    assert_eq!(response.bundle_type(), Some("transaction-response"));
    assert_eq!(response.entries().len(), 2);
    for entry in response.entries() {
        let status = entry
            .pointer("/response/status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert!(status.starts_with("201"), "{entry}");
    }
    let patient_id = response.entries()[0]
        .pointer("/response/location")
        .and_then(Value::as_str)
        .and_then(|l| {
            // `Patient/<id>/_history/1`, relative or absolute.
            let mut parts = l.split('/').skip_while(|p| *p != "Patient");
            parts.nth(1)
        })
        .expect("patient location")
        .to_owned();
    let mut params = SearchParams::new();
    params.raw("subject", format!("Patient/{patient_id}"));
    let obs = client
        .search("Observation", params)
        .send()
        .await
        .expect("search");
    assert_eq!(
        obs.matches().count(),
        1,
        "the reference was rewritten to the new patient"
    );
}

#[tokio::test]
async fn hfs_batch_entries_fail_independently() {
    let (_hfs, client) = hfs_client().await;
    let batch = json!({
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": patient("B1"), "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "GET", "url": "Patient/no-such-patient"}}
        ]
    });
    let response = client.batch(&batch).await.expect("batch");
    assert_eq!(response.bundle_type(), Some("batch-response"));
    let statuses: Vec<&str> = response
        .entries()
        .iter()
        .map(|e| {
            e.pointer("/response/status")
                .and_then(Value::as_str)
                .unwrap_or_default()
        })
        .collect();
    assert!(statuses[0].starts_with("201"), "{statuses:?}");
    assert!(statuses[1].starts_with("404"), "{statuses:?}");
}

#[tokio::test]
async fn hfs_server_errors_surface_the_operation_outcome() {
    let (_hfs, client) = hfs_client().await;
    let err = client.read("Patient", "nope").await.expect_err("404");
    match &err {
        Error::Outcome { outcome, .. } => assert!(!outcome.issue.is_empty()),
        Error::Status { .. } => {} // a bare 404 is allowed too
        other => panic!("unexpected {other:?}"),
    }
}
