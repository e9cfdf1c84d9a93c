//! The real documents in `specs/openapi`.

use super::*;

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
