//! The hand-written documents in `specs/openapi-synthetic`.

use super::*;

// -------------------------------------------------------------------------------------------
// Hand-written documents

#[test]
fn the_hfs_patient_document_reads_like_a_capability_statement() {
    let read = read("openapi-synthetic", "hfs-patient.json");
    assert!(
        read.parsed
            .warnings
            .iter()
            .all(|w| !w.message.contains("typed string")),
        "{:?}",
        read.parsed.warnings
    );
    let c = &read.parsed.connector;
    assert!(
        c.generic_operations.is_empty(),
        "{:?}",
        c.generic_operations
    );
    let p = c.resource("Patient").unwrap();
    use ResourceInteraction as I;
    assert_eq!(
        p.interactions,
        [
            I::Read,
            I::Vread,
            I::Update,
            I::Delete,
            I::HistoryInstance,
            I::Create,
            I::SearchType
        ]
    );
    assert_eq!(p.conditional_create, Some(true));
    let names: Vec<&str> = p.search_params.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "_id",
            "_lastUpdated",
            "_count",
            "_sort",
            "name",
            "family",
            "given",
            "birthdate",
            "gender",
            "identifier",
            "active"
        ]
    );
    assert_eq!(
        p.search_param("identifier").unwrap().param_type,
        SearchParamType::Token
    );
    assert_eq!(
        p.search_param("_lastUpdated").unwrap().param_type,
        SearchParamType::Date
    );
    assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:8080"));
}

#[test]
fn swagger_bodies_forms_lists_and_relative_token_urls() {
    let read = read("openapi-synthetic", "swagger-mixed.yaml");
    let c = &read.parsed.connector;
    assert_eq!(c.base_url.as_deref(), Some("https://ehr.example/api/r4"));
    assert_eq!(c.fhir_version, "4.0.1");
    assert_eq!(
        c.system.interactions,
        [fhirforge_model::SystemInteraction::Transaction]
    );
    assert!(c
        .resource("Observation")
        .unwrap()
        .supports(ResourceInteraction::HistoryInstance));
    assert_eq!(
        c.resource("Patient")
            .unwrap()
            .search_param("_count")
            .unwrap()
            .param_type,
        SearchParamType::Number
    );
    assert_eq!(c.security.services, ["Basic", "OAuth"]);
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("https://ehr.example/oauth/token")
    );
    let upload = c
        .generic_operations
        .iter()
        .find(|g| g.rust_name == "upload_file")
        .unwrap();
    assert_eq!(
        upload.request_body.as_ref().unwrap().media_type,
        "multipart/form-data"
    );
    let tags = upload.params.iter().find(|p| p.name == "tags").unwrap();
    assert_eq!(
        (tags.value_type, tags.list),
        (SimpleType::Integer, Some(ListStyle::Repeated))
    );
    let kinds = upload.params.iter().find(|p| p.name == "kinds").unwrap();
    assert_eq!(kinds.list, Some(ListStyle::CommaSeparated));
    let put = c
        .generic_operations
        .iter()
        .find(|g| g.method == HttpMethod::Put)
        .unwrap();
    assert_eq!(put.rust_name, "put_reports_by_year");
    assert_eq!(put.params.len(), 1);
    assert_eq!(put.params[0].value_type, SimpleType::Integer);
    assert!(put
        .request_body
        .as_ref()
        .is_some_and(|b| b.is_json() && b.required));
    assert!(put.response_body.is_none());
}

#[test]
fn duplicate_operation_ids_get_numbered_names_and_a_warning() {
    let read = read("openapi-synthetic", "duplicate-operation-ids.json");
    let names: Vec<&str> = read
        .parsed
        .connector
        .generic_operations
        .iter()
        .map(|g| g.rust_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["list_things", "list_things_2", "list_things_3", "new_2"]
    );
    let dups: Vec<&str> = read
        .parsed
        .warnings
        .iter()
        .filter(|w| w.message.contains("duplicate operationId"))
        .map(|w| w.pointer.as_str())
        .collect();
    assert_eq!(dups, ["/paths/~1things/post", "/paths/~1things~1{id}/get"]);
}
