//! Regression tests for review findings about meaning rather than size: `name:modifier` search
//! parameter entries, and OpenAPI paths with the slash missing between type and id.

use fhirforge_parse::{openapi, read_capability_statement, Limits};
use serde_json::json;

#[test]
fn name_modifier_entries_fold_into_their_base_parameter() {
    let doc = json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
        "rest": [{"mode": "server",
            "searchParam": [{"name": "_id:missing", "type": "token"}, {"name": "_id", "type": "token"}],
            "resource": [
            {"type": "Observation", "searchParam": [
                {"name": "subject:missing", "type": "token"},
                {"name": "subject", "type": "reference"},
                {"name": "subject:Patient", "type": "reference"},
                {"name": "subject:missing", "type": "token"},
                {"name": "code:not-in", "type": "token"},
                {"name": "bad:a b", "type": "token"}]},
            {"type": "Observation", "searchParam": [{"name": "subject:identifier", "type": "token"}]}]}]});
    let parsed =
        read_capability_statement(doc.to_string().as_bytes(), None, &Limits::default()).unwrap();
    let obs = parsed.connector.resource("Observation").unwrap();
    let names: Vec<&str> = obs.search_params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["subject"]);
    assert_eq!(
        obs.search_params[0].modifiers,
        ["missing", "Patient", "identifier"]
    );
    assert_eq!(
        parsed.connector.system.search_params[0].modifiers,
        ["missing"]
    );
    let w = |p: &str| {
        parsed
            .warnings
            .iter()
            .find(|w| w.pointer == p)
            .map(|w| w.message.clone())
            .unwrap_or_default()
    };
    assert!(w("/rest/0/resource/0/searchParam/3/name").contains("duplicate modifier"));
    assert!(w("/rest/0/resource/0/searchParam/4/name").contains("not a declared search parameter"));
    assert!(
        w("/rest/0/resource/0/searchParam/5/name").contains("not a valid search parameter name")
    );
    // Serialized as a list on the parameter, omitted when empty.
    let json = serde_json::to_value(&parsed.connector).unwrap();
    assert_eq!(
        json["resources"][0]["search_params"][0]["modifiers"],
        json!(["missing", "Patient", "identifier"])
    );
    let plain = read_capability_statement(
        br#"{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"resource":[{"type":"Patient","searchParam":[{"name":"name","type":"string"}]}]}]}"#,
        None,
        &Limits::default(),
    )
    .unwrap();
    let json = serde_json::to_value(&plain.connector).unwrap();
    assert!(json["resources"][0]["search_params"][0]
        .get("modifiers")
        .is_none());
}

#[test]
fn openapi_query_modifiers_fold_too() {
    let doc = json!({"openapi": "3.0.3", "info": {"title": "FHIR R4", "version": "1"},
        "paths": {"/Observation": {"get": {"parameters": [
            {"name": "subject", "in": "query", "schema": {"type": "string"}},
            {"name": "subject:missing", "in": "query", "schema": {"type": "string"}}],
            "responses": {}}}}});
    let read = openapi::read_value(&doc, &openapi::Options::default()).unwrap();
    let obs = read.parsed.connector.resource("Observation").unwrap();
    assert_eq!(obs.search_params.len(), 1);
    assert_eq!(obs.search_params[0].modifiers, ["missing"]);
}

#[test]
fn a_missing_slash_between_type_and_id_is_repaired_when_the_document_shows_the_shape() {
    let op = json!({"get": {"parameters": [{"name": "id", "in": "path", "required": true,
        "schema": {"type": "string"}}], "responses": {}}});
    let doc = json!({"openapi": "3.0.3", "info": {"title": "FHIR R4", "version": "1"},
        "servers": [{"url": "https://ehr.example/fhir"}],
        "paths": {"/Patient/{id}": op, "/Observation{id}": op}});
    let read = openapi::read_value(&doc, &openapi::Options::default()).unwrap();
    let c = &read.parsed.connector;
    let obs = c.resource("Observation").unwrap();
    assert!(obs.supports(fhirforge_model::ResourceInteraction::Read));
    assert!(
        c.generic_operations.is_empty(),
        "{:?}",
        c.generic_operations
    );
    assert!(read
        .parsed
        .warnings
        .iter()
        .any(|w| w.pointer == "/paths/~1Observation{id}" && w.message.contains("slash")));
    // Without another instance path, the route is not guessed at: it stays generic.
    let doc = json!({"openapi": "3.0.3", "info": {"title": "FHIR R4", "version": "1"},
        "paths": {"/Patient": {"get": {"responses": {}}}, "/Observation{id}": op}});
    let read = openapi::read_value(&doc, &openapi::Options::default()).unwrap();
    assert!(read.parsed.connector.resource("Observation").is_none());
    assert_eq!(read.parsed.connector.generic_operations.len(), 1);
}

/// A document fetched from `https://user:pw@host/...?key=...` with relative server and token
/// URLs: neither the credentials nor the query reach the model (and so never the generated
/// `DEFAULT_BASE_URL`, `TOKEN_URL` or README). On fc74f8f the joined URLs kept `user:pw@`.
#[test]
fn credentials_in_the_document_url_never_reach_the_model() {
    let doc = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "servers": [{"url": "/fhir"}, {"url": "https://admin:hunter2@ehr.example/other"}],
        "components": {"securitySchemes": {"o": {"type": "oauth2", "flows": {"clientCredentials": {
            "tokenUrl": "/oauth/token", "scopes": {}}}}}},
        "paths": {"/Patient/{id}": {"get": {"parameters": [
            {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok"}}}}}});
    let options = openapi::Options {
        source_url: Some("https://svc:s3cret@ehr.example/docs/openapi.json?api_key=k3y"),
        ..openapi::Options::default()
    };
    let read = openapi::read(doc.to_string().as_bytes(), &options).unwrap();
    let model = serde_json::to_string(&read.parsed.connector).unwrap();
    for secret in ["s3cret", "svc:", "k3y", "api_key", "hunter2"] {
        assert!(
            !model.contains(secret),
            "{secret} leaked into the model: {model}"
        );
    }
    let c = &read.parsed.connector;
    assert_eq!(c.base_url.as_deref(), Some("https://ehr.example/fhir"));
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("https://ehr.example/oauth/token")
    );
}
