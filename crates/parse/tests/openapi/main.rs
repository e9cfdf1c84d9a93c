//! OpenAPI reader tests: the real documents in `specs/openapi`, the hand-written ones in
//! `specs/openapi-synthetic`, and hostile input.
//!
//! The FHIR-shaped documents are checked against an independent oracle: the raw document loaded
//! with `serde_json`/`serde_norway` straight into a `Value` (not through the reader's loader),
//! walked with string matching on path shapes, with the FHIR base written down by hand.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: an unwrap failing is the test failing"
)]

use fhirforge_model::{
    Connector, HttpMethod, ListStyle, ParamLocation, ResourceInteraction, SearchParamType,
    SimpleType,
};
use fhirforge_parse::openapi::{self, OpenApiParsed, Options, SpecVersion};
use fhirforge_parse::{Error, Limits};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn spec_path(dir: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs")
        .join(dir)
        .join(file)
}

fn read(dir: &str, file: &str) -> OpenApiParsed {
    openapi::read_file(&spec_path(dir, file), &Options::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn read_err(dir: &str, file: &str) -> Error {
    match openapi::read_file(&spec_path(dir, file), &Options::default()) {
        Ok(_) => panic!("{file} was read, but must be refused"),
        Err(e) => e,
    }
}

/// The raw document, loaded without the reader.
fn raw(file: &str) -> Value {
    let text = std::fs::read_to_string(spec_path("openapi", file)).unwrap();
    if file.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_norway::from_str(&text).unwrap()
    }
}

const REAL: [&str; 4] = [
    "firely-r4-patient.json",
    "nextgen-office-fhir-r4.yaml",
    "openemr-api.yaml",
    "elation-patient-profile.json",
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

// -------------------------------------------------------------------------------------------
// The independent oracle

/// Follows `#/a/b/c` references by splitting on `/` (the real documents need no escaping).
fn follow<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let mut target = root;
        for part in r.trim_start_matches("#/").split('/') {
            target = &target[part];
        }
        v = target;
    }
    v
}

#[derive(Debug, Default, PartialEq)]
struct Expected {
    /// type → interaction codes.
    interactions: BTreeMap<String, BTreeSet<String>>,
    /// type → search parameter names.
    params: BTreeMap<String, BTreeSet<String>>,
    /// type → operation names.
    operations: BTreeMap<String, BTreeSet<String>>,
    system_operations: BTreeSet<String>,
    /// Operations on paths outside the FHIR base, or not FHIR-shaped.
    generic: usize,
    /// All operations.
    total: usize,
}

fn oracle(doc: &Value, base: &str) -> Expected {
    let mut e = Expected::default();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let methods: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| METHODS.contains(k))
            .collect();
        e.total += methods.len();
        let rest = match path.strip_prefix(base) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_matches('/'),
            _ => {
                e.generic += methods.len();
                continue;
            }
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let shape: Vec<&str> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if p.starts_with('{') {
                    "{}"
                } else if p.starts_with('$') {
                    "$"
                } else if i == 0 && p.starts_with(|c: char| c.is_ascii_uppercase()) {
                    "T"
                } else {
                    p
                }
            })
            .collect();
        let shape = shape.join("/");
        let t = parts[0].to_owned();
        for m in methods {
            let op = &item[m];
            let mut add = |code: &str| {
                e.interactions
                    .entry(t.clone())
                    .or_default()
                    .insert(code.to_owned());
            };
            match (shape.as_str(), m) {
                ("T", "get") | ("T/_search", "get" | "post") => {
                    add("search-type");
                    let params = e.params.entry(t.clone()).or_default();
                    for p in op["parameters"].as_array().into_iter().flatten() {
                        let p = follow(doc, p);
                        if p["in"] == "query" {
                            params.insert(p["name"].as_str().unwrap().to_owned());
                        }
                    }
                    let form = &op["requestBody"]["content"]["application/x-www-form-urlencoded"];
                    if let Some(props) = follow(doc, &form["schema"])["properties"].as_object() {
                        params.extend(props.keys().cloned());
                    }
                    params.remove("_format");
                    params.remove("_pretty");
                }
                ("T", "post") => add("create"),
                ("T/{}", "get") => add("read"),
                ("T/{}", "put") => add("update"),
                ("T/{}", "patch") => add("patch"),
                ("T/{}", "delete") => add("delete"),
                ("T/{}/_history", "get") => add("history-instance"),
                ("T/{}/_history/{}", "get") => add("vread"),
                ("T/$" | "T/{}/$", _) => {
                    let name = parts.last().unwrap().trim_start_matches('$').to_owned();
                    e.operations.entry(t.clone()).or_default().insert(name);
                    e.interactions.entry(t.clone()).or_default();
                }
                ("$", _) => {
                    e.system_operations
                        .insert(parts[0].trim_start_matches('$').to_owned());
                }
                ("metadata" | ".well-known/smart-configuration", "get") => {}
                _ => e.generic += 1,
            }
        }
    }
    e.params.retain(|_, names| !names.is_empty());
    e
}

fn found(c: &Connector) -> Expected {
    let mut e = Expected::default();
    for r in &c.resources {
        let codes = r.interactions.iter().map(|i| i.code().to_owned()).collect();
        e.interactions.insert(r.resource_type.clone(), codes);
        if !r.search_params.is_empty() {
            e.params.insert(
                r.resource_type.clone(),
                r.search_params.iter().map(|p| p.name.clone()).collect(),
            );
        }
        if !r.operations.is_empty() {
            e.operations.insert(
                r.resource_type.clone(),
                r.operations.iter().map(|o| o.name.clone()).collect(),
            );
        }
    }
    e.system_operations = c.system.operations.iter().map(|o| o.name.clone()).collect();
    e.generic = c.generic_operations.len();
    e
}

fn compare_with_oracle(file: &str, base: &str, total_operations: usize) {
    let doc = raw(file);
    let expected = oracle(&doc, base);
    // The oracle's own sanity: the operation counts PROVENANCE.md gives for the file.
    assert_eq!(expected.total, total_operations, "{file}: oracle total");
    let read = read("openapi", file);
    let mut got = found(&read.parsed.connector);
    got.total = expected.total;
    assert_eq!(
        got.interactions, expected.interactions,
        "{file}: interactions"
    );
    assert_eq!(got.params, expected.params, "{file}: search parameters");
    assert_eq!(got.operations, expected.operations, "{file}: operations");
    assert_eq!(
        got.system_operations, expected.system_operations,
        "{file}: system operations"
    );
    assert_eq!(got.generic, expected.generic, "{file}: generic operations");
}

// -------------------------------------------------------------------------------------------
// Real documents

#[test]
fn every_real_document_reads_and_every_warning_names_an_existing_pointer() {
    for file in REAL {
        let read = read("openapi", file);
        let doc = raw(file);
        assert!(openapi::is_openapi(&doc), "{file}");
        for w in &read.parsed.warnings {
            assert!(
                doc.pointer(&w.pointer).is_some(),
                "{file}: warning at a pointer that does not exist: {w}"
            );
        }
        // Same document, same output.
        assert_eq!(
            read,
            self::read("openapi", file),
            "{file}: not deterministic"
        );
    }
}

#[test]
fn capability_statements_are_not_openapi() {
    for file in ["epic-r4-capability.json", "cerner-r4-capability.json"] {
        let text = std::fs::read(spec_path("vendors", file)).unwrap();
        let value: Value = serde_json::from_slice(&text).unwrap();
        assert!(!openapi::is_openapi(&value), "{file}");
        assert!(!openapi::sniff(&text), "{file}");
        assert!(matches!(
            openapi::read(&text, &Options::default()),
            Err(Error::NotOpenApi { .. })
        ));
    }
    for file in REAL {
        assert!(
            openapi::sniff(&std::fs::read(spec_path("openapi", file)).unwrap()),
            "{file}"
        );
    }
}

#[test]
fn firely_matches_an_independent_count() {
    compare_with_oracle("firely-r4-patient.json", "", 14);
}

#[test]
fn nextgen_matches_an_independent_count() {
    compare_with_oracle("nextgen-office-fhir-r4.yaml", "/fhir/r4", 45);
}

#[test]
fn openemr_fhir_part_matches_an_independent_count() {
    compare_with_oracle("openemr-api.yaml", "/fhir", 183);
}

#[test]
fn firely_reads_as_a_fhir_server_with_typed_search_parameters() {
    let read = read("openapi", "firely-r4-patient.json");
    assert_eq!(read.version, SpecVersion::OpenApi30);
    let c = &read.parsed.connector;
    assert_eq!(c.base_url.as_deref(), Some("https://server.fire.ly"));
    assert_eq!(c.fhir_version, "4.0.1");
    let p = c.resource("Patient").unwrap();
    use ResourceInteraction as I;
    assert_eq!(
        p.interactions,
        [
            I::Read,
            I::Vread,
            I::Update,
            I::Patch,
            I::Delete,
            I::Create,
            I::SearchType
        ]
    );
    // The document types every search parameter `string`; the core definitions know better.
    let ty = |name: &str| p.search_param(name).unwrap().param_type.clone();
    assert_eq!(ty("birthdate"), SearchParamType::Date);
    assert_eq!(ty("gender"), SearchParamType::Token);
    assert_eq!(ty("general-practitioner"), SearchParamType::Reference);
    assert_eq!(ty("_count"), SearchParamType::Number);
    assert!(!p.search_param("_count").unwrap().range);
    assert!(p.search_param("birthdate").unwrap().range);
    assert_eq!(
        p.search_param("birthdate").unwrap().definition.as_deref(),
        Some("http://hl7.org/fhir/SearchParameter/individual-birthdate")
    );
    // Vendor text is kept even where it is borrowed from another resource.
    assert!(p
        .search_param("identifier")
        .unwrap()
        .documentation
        .is_some());
    // US Core names have no R4 core definition: string, with a warning naming the parameter.
    assert_eq!(ty("race"), SearchParamType::String);
    assert!(read
        .parsed
        .warnings
        .iter()
        .any(|w| w.message.contains("\"race\"")));
    let rust: Vec<&str> = p
        .search_params
        .iter()
        .map(|s| s.rust_name.as_str())
        .collect();
    assert!(rust.contains(&"general_practitioner") && rust.contains(&"last_updated"));
    let ops: Vec<&str> = p.operations.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(ops, ["meta-add", "meta-delete", "everything", "meta"]);
    assert_eq!(p.operations[0].rust_name, "meta_add");
    // openIdConnect at a SMART configuration.
    assert_eq!(c.security.services, ["OAuth", "SMART-on-FHIR"]);
    assert_eq!(
        read.smart_configuration_url.as_deref(),
        Some("https://secure.server.fire.ly/.well-known/smart-configuration")
    );
    assert_eq!(c.formats, ["application/fhir+json", "application/fhir+xml"]);
    assert!(c.generic_operations.is_empty());
}

#[test]
fn a_capability_statement_given_alongside_types_what_core_cannot() {
    let cs = br#"{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "status": "active",
      "rest": [{"mode": "server", "resource": [{"type": "Patient", "searchParam": [
        {"name": "race", "type": "token", "definition": "http://hl7.org/fhir/us/core/SearchParameter/us-core-race"},
        {"name": "birthdate", "type": "date"}]}]}]}"#;
    let cap = fhirforge_parse::read_capability_statement(cs, None, &Limits::default()).unwrap();
    let options = Options {
        capability: Some(&cap.connector),
        ..Options::default()
    };
    let read =
        openapi::read_file(&spec_path("openapi", "firely-r4-patient.json"), &options).unwrap();
    let p = read.parsed.connector.resource("Patient").unwrap();
    let race = p.search_param("race").unwrap();
    assert_eq!(race.param_type, SearchParamType::Token);
    assert_eq!(
        race.definition.as_deref(),
        Some("http://hl7.org/fhir/us/core/SearchParameter/us-core-race")
    );
    assert!(!race.from_core);
    assert!(!read
        .parsed
        .warnings
        .iter()
        .any(|w| w.message.contains("FHIR version")));
    assert!(!read
        .parsed
        .warnings
        .iter()
        .any(|w| w.message.contains("\"race\"")));
    // Not in the statement: still typed from core.
    assert_eq!(
        p.search_param("gender").unwrap().param_type,
        SearchParamType::Token
    );
}

#[test]
fn nextgen_swagger_with_crlf_reads_its_host_base_path_and_oauth() {
    let text = std::fs::read(spec_path("openapi", "nextgen-office-fhir-r4.yaml")).unwrap();
    assert!(
        text.windows(2).any(|w| w == b"\r\n"),
        "the fixture has CRLF line ends"
    );
    let read = read("openapi", "nextgen-office-fhir-r4.yaml");
    assert_eq!(read.version, SpecVersion::Swagger2);
    let c = &read.parsed.connector;
    assert_eq!(
        c.base_url.as_deref(),
        Some("https://fhir.meditouchehr.com/api/fhir/r4")
    );
    assert_eq!(c.resources.len(), 24);
    assert_eq!(c.security.services, ["OAuth"]);
    assert_eq!(c.security.grant_types, ["authorization_code"]);
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("https://idp-prod.prod.ngo.nextgenaws.net/auth/realms/nextgen/protocol/openid-connect/token")
    );
    assert!(c.security.scopes.iter().any(|s| s == "patient/*.read"));
    // `#/parameters/patient_id` is named `patient`: the wire name wins over the key.
    let ai = c.resource("AllergyIntolerance").unwrap();
    assert_eq!(
        ai.search_param("patient").unwrap().param_type,
        SearchParamType::Reference
    );
    // `/ccda` is not FHIR: a generic GET on the Swagger server URL.
    let [ccda] = c.generic_operations.as_slice() else {
        panic!("{:?}", c.generic_operations)
    };
    assert_eq!(
        (ccda.method, ccda.path.as_str(), ccda.rust_name.as_str()),
        (HttpMethod::Get, "/ccda", "get_ccda")
    );
    assert_eq!(
        ccda.server_url.as_deref(),
        Some("https://fhir.meditouchehr.com/api/")
    );
    assert_eq!(ccda.params[0].name, "patient");
    assert!(ccda.params[0].required);
}

#[test]
fn openemr_reads_its_security_map_integer_codes_and_uuid_ids() {
    let read = read("openapi", "openemr-api.yaml");
    let c = &read.parsed.connector;
    // Relative servers stay relative without a document URL, with a warning.
    assert_eq!(c.base_url.as_deref(), Some("/apis/default/fhir"));
    assert!(read
        .parsed
        .warnings
        .iter()
        .any(|w| w.pointer == "/servers/0/url"));
    // `{uuid}` ids are instance paths like any other.
    assert!(c
        .resource("Patient")
        .unwrap()
        .supports(ResourceInteraction::Read));
    assert!(c
        .resource("Patient")
        .unwrap()
        .supports(ResourceInteraction::Update));
    // `openemr_auth: {}` where a list belongs: one warning for all 178, at a real pointer.
    let maps: Vec<_> = read
        .parsed
        .warnings
        .iter()
        .filter(|w| w.message.contains("map where a list belongs"))
        .collect();
    assert_eq!(maps.len(), 1);
    assert!(
        maps[0].message.contains("and 177 more"),
        "{}",
        maps[0].message
    );
    assert_eq!(
        raw("openemr-api.yaml").pointer(&maps[0].pointer),
        Some(&serde_json::json!({}))
    );
    // Integer response codes (`200:`) still give response bodies.
    let get_patient = c
        .generic_operations
        .iter()
        .find(|g| g.method == HttpMethod::Get && g.path == "/api/patient/{puuid}")
        .unwrap();
    assert_eq!(get_patient.rust_name, "get_api_patient_by_puuid");
    assert!(get_patient.response_body.as_ref().unwrap().is_json());
    assert_eq!(get_patient.params[0].location, ParamLocation::Path);
    // `$swap-insurance` under `/api` is not a FHIR operation.
    assert!(c
        .generic_operations
        .iter()
        .any(|g| g.path.ends_with("/$swap-insurance")));
    // Relative OAuth URLs resolve against the (relative) server URL and are kept.
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("/oauth2/default/token")
    );
    assert_eq!(c.security.services, ["Bearer", "OAuth"]);
    assert_eq!(
        read.smart_configuration_url.as_deref(),
        Some("/apis/default/fhir/.well-known/smart-configuration")
    );
    // With the document's own URL everything becomes absolute.
    let options = Options {
        source_url: Some("https://emr.example/openemr/swagger/openemr-api.yaml"),
        ..Options::default()
    };
    let read = openapi::read_file(&spec_path("openapi", "openemr-api.yaml"), &options).unwrap();
    let c = &read.parsed.connector;
    assert_eq!(
        c.base_url.as_deref(),
        Some("https://emr.example/apis/default/fhir")
    );
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("https://emr.example/oauth2/default/token")
    );
    assert_eq!(
        c.security.oauth.authorize.as_deref(),
        Some("https://emr.example/oauth2/default/authorize")
    );
}

#[test]
fn elation_reads_as_generic_operations_with_a_resolved_token_url() {
    let read = read("openapi", "elation-patient-profile.json");
    assert_eq!(read.version, SpecVersion::OpenApi31);
    let c = &read.parsed.connector;
    assert!(c.resources.is_empty());
    assert_eq!(c.fhir_release, None);
    assert_eq!(c.generic_operations.len(), 60);
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("https://sandbox.elationemr.com/api/2.0/oauth2/token/")
    );
    assert_eq!(c.security.grant_types, ["client_credentials"]);
    let names: BTreeSet<&str> = c
        .generic_operations
        .iter()
        .map(|g| g.rust_name.as_str())
        .collect();
    assert_eq!(names.len(), 60, "method names are unique");
    let list = c
        .generic_operations
        .iter()
        .find(|g| g.rust_name == "patients_list")
        .unwrap();
    assert_eq!(list.summary.as_deref(), Some("List Patients"));
    let practice = list.params.iter().find(|p| p.name == "practice").unwrap();
    assert_eq!(
        (practice.value_type, practice.list),
        (SimpleType::Number, Some(ListStyle::CommaSeparated))
    );
    let limit = list.params.iter().find(|p| p.name == "limit").unwrap();
    assert_eq!(
        (limit.value_type, limit.required),
        (SimpleType::Integer, false)
    );
    let create = c
        .generic_operations
        .iter()
        .find(|g| g.rust_name == "patients_create")
        .unwrap();
    assert!(create
        .request_body
        .as_ref()
        .is_some_and(|b| b.is_json() && b.required));
}

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

// -------------------------------------------------------------------------------------------
// Hostile input

/// Every string in the output: no control characters but newline and tab anywhere, and names,
/// paths and URLs free of anything that could end a Rust string or identifier.
fn assert_clean(value: &Value, key: &str) {
    match value {
        Value::String(s) => {
            assert!(
                !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{key}: {s:?}"
            );
            let is_ident = |s: &str| {
                !s.is_empty()
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !s.starts_with(|c: char| c.is_ascii_digit())
            };
            match key {
                "rust_name" | "rust_type_name" | "type" => assert!(is_ident(s), "{key}: {s:?}"),
                "name" | "path" | "base_url" | "server_url" | "token" | "authorize"
                | "media_type" => {
                    assert!(
                        !s.contains(['"', '\\', ' ', '\r', '\n', '`'])
                            || key == "media_type" && !s.contains('"'),
                        "{key}: {s:?}"
                    );
                }
                _ => {}
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_clean(v, key)),
        Value::Object(map) => map.iter().for_each(|(k, v)| assert_clean(v, k)),
        _ => {}
    }
}

#[test]
fn hostile_names_become_warnings_never_names() {
    let read = read("openapi-synthetic", "hostile-names.yaml");
    let c = &read.parsed.connector;
    let json = serde_json::to_value(c).unwrap();
    // `name` of the connector is free text (the title); everything else must be clean.
    let mut json = json;
    json.as_object_mut().unwrap().remove("name");
    json["software"]["name"] = Value::Null;
    assert_clean(&json, "");

    assert_eq!(c.resources.len(), 1);
    let p = c.resource("Patient").unwrap();
    let names: Vec<&str> = p.search_params.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["birthdate", "self"]);
    assert_eq!(p.search_params[1].rust_name, "self_");
    // 3.1 type array with `nullable` beside it.
    assert_eq!(p.search_params[0].param_type, SearchParamType::Date);
    assert_eq!(p.operations.len(), 1);
    assert_eq!(p.operations[0].name, "everything");
    // Hostile server URL: ignored, so no base URL.
    assert_eq!(c.base_url.as_deref(), None);
    assert_eq!(c.security.oauth.token, None);
    assert_eq!(c.security.scopes, ["system/*.read"]);

    let generic: Vec<(&str, &str)> = c
        .generic_operations
        .iter()
        .map(|g| (g.path.as_str(), g.rust_name.as_str()))
        .collect();
    assert_eq!(
        generic,
        [
            ("/api/items/{id}", "fn_"),
            ("/api/items/{id}/{other}", "self_")
        ]
    );
    let items = &c.generic_operations[0];
    let params: Vec<&str> = items.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(params, ["id", "X-Request-Id"]);
    assert!(items.response_body.is_none(), "hostile media type dropped");
    for needle in [
        "\"name\\\"); panic!(\\\"\" is not a valid search parameter name",
        "\"/Pat\\\"ient/{id}\" cannot be used",
        "cookie",
        "path variable \"other\" is not declared",
        "tokenUrl",
        "server URL",
        "scope \"bad scope\\n\"",
    ] {
        assert!(
            read.parsed
                .warnings
                .iter()
                .any(|w| w.message.contains(needle)),
            "no warning containing {needle:?}: {:#?}",
            read.parsed.warnings
        );
    }
    // Warning text is escaped: no raw control characters reach a terminal.
    for w in &read.parsed.warnings {
        assert!(!w.to_string().chars().any(|c| c.is_control()), "{w}");
    }
}

#[test]
fn ref_cycles_and_external_refs_are_refused_with_their_pointer() {
    match read_err("openapi-synthetic", "ref-cycle.json") {
        Error::RefCycle { pointer, .. } => {
            assert_eq!(pointer, "/paths/~1Patient/get/parameters/0/$ref")
        }
        other => panic!("{other}"),
    }
    let e = read_err("openapi-synthetic", "external-ref.yaml");
    match &e {
        Error::ExternalRef { pointer, reference } => {
            assert_eq!(pointer, "/paths/~1Patient/get/parameters/0/$ref");
            assert_eq!(reference, "../../../etc/passwd#/parameters/name");
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("only local references"), "{e}");
    let url_ref = br#"{"openapi": "3.0.0", "paths": {}, "components": {"schemas": {"A": {"$ref": "https://evil.example/s.json"}}}}"#;
    assert!(matches!(
        openapi::read(url_ref, &Options::default()),
        Err(Error::ExternalRef { .. })
    ));
}

#[test]
fn billion_laughs_is_refused() {
    let started = std::time::Instant::now();
    let e = read_err("openapi-synthetic", "billion-laughs.yaml");
    assert!(matches!(e, Error::Expansion { .. }), "{e}");
    assert!(e.to_string().contains("YAML aliases"), "{e}");
    // Not a benchmark: a bound that only an expansion would break.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn ten_thousand_deep_nesting_is_refused_in_json_and_yaml() {
    let json = format!(
        "{{\"openapi\": \"3.0.0\", \"paths\": {}{}}}",
        "{\"a\":".repeat(10_000) + "1",
        "}".repeat(10_000)
    );
    assert!(matches!(
        openapi::read(json.as_bytes(), &Options::default()),
        Err(Error::TooDeep { limit: 64, .. })
    ));
    let yaml = format!(
        "openapi: 3.0.0\npaths: {}1{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(
        openapi::read(yaml.as_bytes(), &Options::default()),
        Err(Error::TooDeep { .. })
    ));
    let block = format!("openapi: 3.0.0\nx: \n  {}x\n", "- ".repeat(10_000));
    assert!(matches!(
        openapi::read(block.as_bytes(), &Options::default()),
        Err(Error::TooDeep { limit: 64, .. })
    ));
}

#[test]
fn oversized_and_malformed_input_gets_clear_errors() {
    let limits = Limits {
        max_bytes: 1000,
        ..Limits::default()
    };
    let options = Options {
        limits,
        ..Options::default()
    };
    let e =
        openapi::read_file(&spec_path("openapi", "firely-r4-patient.json"), &options).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(matches!(
        openapi::read(b"{\"openapi\": ", &Options::default()),
        Err(Error::Json { line: 1, .. })
    ));
    assert!(matches!(
        openapi::read(b"openapi: [3\n  - x", &Options::default()),
        Err(Error::Yaml { .. })
    ));
    assert!(matches!(
        openapi::read(b"- just\n- a list\n", &Options::default()),
        Err(Error::NotOpenApi { .. })
    ));
    assert!(matches!(
        openapi::read(b"swagger: '1.2'\n", &Options::default()),
        Err(Error::UnsupportedOpenApi { .. })
    ));
}

#[test]
fn truncated_and_corrupted_documents_never_panic() {
    let mut docs: Vec<Vec<u8>> = REAL
        .iter()
        .map(|f| std::fs::read(spec_path("openapi", f)).unwrap())
        .collect();
    docs.push(std::fs::read(spec_path("openapi-synthetic", "hostile-names.yaml")).unwrap());
    docs.push(std::fs::read(spec_path("openapi-synthetic", "swagger-mixed.yaml")).unwrap());
    let mut outcomes = (0usize, 0usize);
    for doc in &docs {
        for i in 1..=40 {
            let cut = doc.len() * i / 41;
            match openapi::read(&doc[..cut], &Options::default()) {
                Ok(_) => outcomes.0 += 1,
                Err(_) => outcomes.1 += 1,
            }
            // Flip one byte into a structural character.
            let mut corrupted = doc.clone();
            corrupted[cut] = b"{}[]:\"'&*-\n"[i % 11];
            let _ = openapi::read(&corrupted, &Options::default());
        }
    }
    // Both kinds happen: YAML truncated at a line end often still parses.
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}

// -------------------------------------------------------------------------------------------
// Fetching (an in-process stub serving a static file: there is no real server to fetch an
// OpenAPI document from here, and the point is the URL handling, not the server)

#[tokio::test]
async fn fetch_stub_resolves_relative_servers_against_the_document_url() {
    use fhirforge_testkit::stub::{Reply, Stub};
    let doc = std::fs::read(spec_path("openapi", "openemr-api.yaml")).unwrap();
    let stub = Stub::start(move |req| {
        if req.path() == "/swagger/openemr-api.yaml" {
            Reply::status(200)
                .header("Content-Type", "application/yaml")
                .body(doc.clone())
        } else {
            Reply::status(404)
        }
    })
    .await;
    let url = format!("{}/swagger/openemr-api.yaml", stub.base_url());
    let read = openapi::fetch(&url, &Options::default()).await.unwrap();
    let c = &read.parsed.connector;
    assert_eq!(
        c.base_url.as_deref(),
        Some(format!("{}/apis/default/fhir", stub.base_url()).as_str())
    );
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some(format!("{}/oauth2/default/token", stub.base_url()).as_str())
    );
    assert!(!read
        .parsed
        .warnings
        .iter()
        .any(|w| w.pointer == "/servers/0/url"));

    let missing = openapi::fetch(
        &format!("{}/nope.yaml?token=secret", stub.base_url()),
        &Options::default(),
    )
    .await;
    match missing {
        Err(e @ Error::HttpStatus { status: 404, .. }) => {
            assert!(!e.to_string().contains("secret"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        openapi::fetch("file:///etc/passwd", &Options::default()).await,
        Err(Error::InvalidUrl { .. })
    ));
}

// -------------------------------------------------------------------------------------------
// Generated hostile documents

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// Text built from the characters that matter: path and template syntax, quotes, escapes,
    /// control characters, unicode, and letters that make FHIR type names.
    fn hostile_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("/"),
                Just("{"),
                Just("}"),
                Just("$"),
                Just("\""),
                Just("\\"),
                Just("'"),
                Just("_"),
                Just("-"),
                Just(" "),
                Just("\n"),
                Just("\u{1b}"),
                Just("\0"),
                Just("é"),
                Just("Patient"),
                Just("Observation"),
                Just("_history"),
                Just("_search"),
                Just("id"),
                Just("fn"),
                Just("self"),
                Just("r#"),
                Just("#"),
                Just("?"),
                Just("x"),
                Just("9"),
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    fn operation() -> impl Strategy<Value = Value> {
        (hostile_text(), hostile_text(), hostile_text(), prop::sample::select(vec!["query", "path", "header", "cookie", "body", "x"]))
            .prop_map(|(id, param, doc, location)| {
                serde_json::json!({
                    "operationId": id,
                    "description": doc,
                    "parameters": [{"name": param, "in": location, "schema": {"type": ["integer", "null"]}}],
                    "responses": {"200": {"description": doc, "content": {doc.clone(): {}}}}
                })
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn generated_documents_read_without_panics_and_give_clean_names(
            version in prop::sample::select(vec!["3.0.3", "3.1.0", "2.0"]),
            paths in proptest::collection::vec((hostile_text(), prop::sample::select(vec!["get", "post", "put", "delete", "patch", "GET"]), operation()), 0..8),
            server in hostile_text(),
        ) {
            let mut path_map = serde_json::Map::new();
            for (path, method, op) in paths {
                let path = format!("/{path}");
                let item = path_map.entry(path).or_insert_with(|| serde_json::json!({}));
                item[method] = op;
            }
            let key = if version == "2.0" { "swagger" } else { "openapi" };
            let doc = serde_json::json!({
                key: version,
                "info": {"title": server, "version": "1"},
                "servers": [{"url": server}],
                "host": server,
                "paths": path_map,
                "components": {"securitySchemes": {"a": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": server, "scopes": {server.clone(): ""}}}}}}
            });
            let read = openapi::read_value(&doc, &Options::default());
            if let Ok(read) = read {
                let mut json = serde_json::to_value(&read.parsed.connector).unwrap();
                json.as_object_mut().unwrap().remove("name");
                json["software"]["name"] = Value::Null;
                assert_clean(&json, "");
                for w in &read.parsed.warnings {
                    prop_assert!(!w.to_string().chars().any(char::is_control), "{}", w);
                }
            }
        }
    }
}

#[test]
fn an_open_id_connect_smart_configuration_merges_into_the_security() {
    // The reader never fetches; the caller reads the configuration the URL points at (here a
    // stored one standing in for Firely's) and merges it like for a CapabilityStatement.
    let mut read = read("openapi", "firely-r4-patient.json");
    assert!(read.smart_configuration_url.is_some());
    assert_eq!(read.parsed.connector.security.oauth.token, None);
    let smart = fhirforge_parse::read_smart_configuration_file(
        &spec_path("vendors", "epic-r4-smart-configuration.json"),
        &Limits::default(),
    )
    .unwrap();
    read.parsed.merge_smart_configuration(smart);
    let security = &read.parsed.connector.security;
    assert_eq!(
        security.oauth.token.as_deref(),
        Some("https://fhir.epic.com/interconnect-fhir-oauth/oauth2/token")
    );
    assert!(security.services.iter().any(|s| s == "SMART-on-FHIR"));
}
