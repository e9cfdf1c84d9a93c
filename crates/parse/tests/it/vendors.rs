//! Every real statement in `specs/vendors`, against counts taken from the raw JSON.

use crate::support::{specs, vendor_statements};
use fhirforge_model::{ResourceInteraction, SearchParamType};
use fhirforge_parse::{read_capability_statement, read_smart_configuration_file, Limits};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a raw statement declares, counted straight from the JSON with no reader logic:
/// resource type → (interaction codes, search parameter names).
type Declared = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

fn declared(doc: &Value) -> Declared {
    let mut out = Declared::new();
    for rest in doc["rest"].as_array().unwrap() {
        if rest["mode"] != "server" {
            continue;
        }
        for res in rest["resource"].as_array().into_iter().flatten() {
            let entry = out
                .entry(res["type"].as_str().unwrap().to_owned())
                .or_default();
            for i in res["interaction"].as_array().into_iter().flatten() {
                entry.0.insert(i["code"].as_str().unwrap().to_owned());
            }
            for p in res["searchParam"].as_array().into_iter().flatten() {
                entry.1.insert(p["name"].as_str().unwrap().to_owned());
            }
        }
    }
    out
}

#[test]
fn every_vendor_statement_is_read_whole() {
    let files = vendor_statements();
    assert_eq!(files.len(), 7, "capability statements in specs/vendors");
    for (name, bytes) in files {
        let raw: Value = serde_json::from_slice(&bytes).unwrap();
        let want = declared(&raw);
        let parsed = read_capability_statement(&bytes, None, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let c = &parsed.connector;
        assert_eq!(
            c.fhir_version,
            raw["fhirVersion"].as_str().unwrap(),
            "{name}"
        );
        assert!(c.fhir_release.is_some(), "{name}");

        let got_types: BTreeSet<&str> = c
            .resources
            .iter()
            .map(|r| r.resource_type.as_str())
            .collect();
        let want_types: BTreeSet<&str> = want.keys().map(String::as_str).collect();
        assert_eq!(got_types, want_types, "{name}: resource types");

        let (mut interactions, mut params) = (0, 0);
        for (ty, (codes, names)) in &want {
            let r = c.resource(ty).unwrap();
            let got: BTreeSet<String> =
                r.interactions.iter().map(|i| i.code().to_owned()).collect();
            assert_eq!(&got, codes, "{name}: {ty} interactions");
            let got: BTreeSet<String> = r.search_params.iter().map(|p| p.name.clone()).collect();
            assert_eq!(&got, names, "{name}: {ty} search parameters");
            assert_eq!(
                r.search_params.len(),
                names.len(),
                "{name}: {ty} no duplicates"
            );
            interactions += codes.len();
            params += names.len();
        }
        let model_interactions: usize = c.resources.iter().map(|r| r.interactions.len()).sum();
        let model_params: usize = c.resources.iter().map(|r| r.search_params.len()).sum();
        assert_eq!(
            model_interactions, interactions,
            "{name}: interaction count"
        );
        assert_eq!(model_params, params, "{name}: search parameter count");

        // Every Rust name is unique within its resource and never a reserved builder method.
        for r in &c.resources {
            let names: BTreeSet<&str> = r
                .search_params
                .iter()
                .map(|p| p.rust_name.as_str())
                .collect();
            assert_eq!(
                names.len(),
                r.search_params.len(),
                "{name}: {}",
                r.resource_type
            );
            for reserved in fhirforge_model::names::RESERVED_SEARCH_METHODS {
                // A result parameter may take the name of its own builder method (`_count`
                // is `count`), nothing else may.
                let owner = r.search_params.iter().find(|p| p.rust_name == *reserved);
                assert!(
                    owner.is_none_or(|p| {
                        fhirforge_model::names::result_param_method(&p.name) == Some(*reserved)
                    }),
                    "{name}: {} {reserved}",
                    r.resource_type
                );
            }
        }
    }
}

/// The numbers PROVENANCE.md states for each file, which were counted by other means.
#[test]
fn provenance_numbers_match() {
    for (file, resources, params, reads, searches) in [
        ("epic-r4-capability.json", 59, 723, 59, 56),
        ("epic-stu3-capability.json", 35, 183, 35, 28),
        ("epic-dstu2-capability.json", 17, 75, 16, 16),
        ("cerner-r4-capability.json", 44, 190, 42, 37),
        ("cerner-r4-open-capability.json", 42, 190, 42, 37),
        ("cerner-dstu2-capability.json", 27, 102, 25, 23),
        // PROVENANCE counts athena's duplicated ServiceRequest read and search-type as 31 and 29
        // occurrences; the model holds 30 and 28 distinct resource/interaction pairs.
        ("athenahealth-r4-capability.json", 32, 301, 30, 28),
    ] {
        let bytes = std::fs::read(specs().join("vendors").join(file)).unwrap();
        let c = read_capability_statement(&bytes, None, &Limits::default())
            .unwrap()
            .connector;
        let count = |i| c.resources.iter().filter(|r| r.supports(i)).count();
        assert_eq!(c.resources.len(), resources, "{file}");
        assert_eq!(
            c.resources
                .iter()
                .map(|r| r.search_params.len())
                .sum::<usize>(),
            params,
            "{file}"
        );
        assert_eq!(count(ResourceInteraction::Read), reads, "{file}");
        assert_eq!(count(ResourceInteraction::SearchType), searches, "{file}");
    }
}

#[test]
fn vendor_oddities_become_warnings_or_are_handled() {
    let read = |file: &str| {
        let bytes = std::fs::read(specs().join("vendors").join(file)).unwrap();
        read_capability_statement(&bytes, None, &Limits::default()).unwrap()
    };

    // athenahealth: two oauth-uris extensions (one malformed), duplicate ServiceRequest
    // interactions, two system-level search parameters.
    let athena = read("athenahealth-r4-capability.json");
    let oauth = &athena.connector.security.oauth;
    assert_eq!(
        oauth.token.as_deref(),
        Some("https://api.platform.athenahealth.com/oauth2/v1/token")
    );
    assert_eq!(
        oauth.revoke.as_deref(),
        Some("https://api.platform.athenahealth.com/oauth2/v1/revoke")
    );
    let pointers: Vec<&str> = athena.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert!(
        pointers.contains(&"/rest/0/security/extension/0/url"),
        "{pointers:?}"
    );
    assert!(athena
        .warnings
        .iter()
        .any(|w| w.message.contains("duplicate interaction")));
    let sr = athena.connector.resource("ServiceRequest").unwrap();
    assert_eq!(
        sr.interactions,
        [ResourceInteraction::Read, ResourceInteraction::SearchType]
    );
    let system: Vec<&str> = athena
        .connector
        .system
        .search_params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(system, ["ah-practice", "_security"]);
    // `cursor` is vendor-only: vendor type and text, no core definition.
    let cursor = athena
        .connector
        .resources
        .iter()
        .flat_map(|r| &r.search_params)
        .find(|p| p.name == "cursor")
        .unwrap();
    assert!(!cursor.from_core);

    // Cerner: leading-hyphen parameters keep the vendor's type and get `vendor_` names; an
    // operation literally called `create` does not take the interaction's method name.
    let cerner = read("cerner-r4-capability.json");
    let enc = cerner
        .connector
        .resource("Account")
        .unwrap()
        .search_param("-encounter")
        .unwrap();
    assert_eq!(enc.rust_name, "vendor_encounter");
    assert!(enc.definition.is_none() && !enc.from_core);
    let charge = cerner.connector.resource("ChargeItem").unwrap();
    let create = charge
        .operations
        .iter()
        .find(|o| o.name == "create")
        .unwrap();
    assert_eq!(create.rust_name, "create_operation");
    assert_eq!(
        cerner.connector.system.interactions,
        [fhirforge_model::SystemInteraction::Batch]
    );
    assert!(cerner.warnings.is_empty(), "{:?}", cerner.warnings);

    // Cerner DSTU2: operation definitions are Reference objects.
    let dstu2 = read("cerner-dstu2-capability.json");
    let ops: Vec<(&str, Option<&str>)> = dstu2
        .connector
        .system
        .operations
        .iter()
        .map(|o| (o.name.as_str(), o.definition.as_deref()))
        .collect();
    assert_eq!(
        ops,
        [
            (
                "autogen-ccd-if",
                Some("https://fhir-ehr.cerner.com/dstu2/OperationDefinition/binary-autogen-ccd-if")
            ),
            (
                "docref",
                Some("http://fhir.org/guides/argonaut/OperationDefinition/docref")
            ),
        ]
    );
    assert_eq!(
        dstu2.connector.fhir_release,
        Some(fhirforge_model::FhirRelease::Dstu2)
    );

    // Epic: no definitions at all; core fills them where the type matches, text stays Epic's.
    let epic = read("epic-r4-capability.json");
    let patient = epic.connector.resource("Patient").unwrap();
    let birthdate = patient.search_param("birthdate").unwrap();
    assert_eq!(birthdate.param_type, SearchParamType::Date);
    assert!(birthdate.range);
    assert_eq!(
        birthdate.definition.as_deref(),
        Some("http://hl7.org/fhir/SearchParameter/individual-birthdate")
    );
    assert!(birthdate.documentation.as_deref().unwrap().len() > 10);
    assert!(birthdate.from_core);
    let count = epic
        .connector
        .resource("Account")
        .unwrap()
        .search_param("_count")
        .unwrap();
    assert_eq!(count.rust_name, "count");
    assert!(!count.range, "_count never gets range search");
    assert_eq!(
        epic.connector.security.services,
        ["OAuth", "SMART-on-FHIR", "Basic"]
    );
    let defined = epic
        .connector
        .resources
        .iter()
        .flat_map(|r| &r.search_params)
        .filter(|p| p.definition.is_some())
        .count();
    assert!(
        defined > 500,
        "core definitions filled for {defined} of 723"
    );
}

#[test]
fn smart_configurations_merge_into_security() {
    let limits = Limits::default();
    let vendors = specs().join("vendors");

    let athena_smart = read_smart_configuration_file(
        &vendors.join("athenahealth-r4-smart-configuration.json"),
        &limits,
    )
    .unwrap();
    assert_eq!(
        athena_smart
            .configuration
            .token_endpoint_auth_methods_supported,
        [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "private_key_jwt",
            "none"
        ]
    );
    assert!(athena_smart
        .warnings
        .iter()
        .any(|w| w.pointer == "smart-configuration#/token_endpoint_auth_methods"));
    let bytes = std::fs::read(vendors.join("athenahealth-r4-capability.json")).unwrap();
    let mut athena = read_capability_statement(&bytes, None, &limits).unwrap();
    athena.merge_smart_configuration(athena_smart);
    let sec = &athena.connector.security;
    assert_eq!(
        sec.issuer.as_deref(),
        Some("https://athena.okta.com/oauth2/aus2hff5eqFb7Wqfh297")
    );
    assert_eq!(
        sec.jwks_uri.as_deref(),
        Some("https://api.platform.athenahealth.com/oauth2/v1/keys")
    );
    assert!(sec.scopes.is_empty(), "athena lists no scopes");

    let cerner_smart =
        read_smart_configuration_file(&vendors.join("cerner-r4-smart-configuration.json"), &limits)
            .unwrap();
    assert_eq!(
        cerner_smart
            .configuration
            .token_endpoint_auth_signing_alg_values_supported,
        ["RS384", "ES384"]
    );
    assert_eq!(cerner_smart.configuration.scopes_supported.len(), 303);
    let bytes = std::fs::read(vendors.join("cerner-r4-capability.json")).unwrap();
    let mut cerner = read_capability_statement(&bytes, None, &limits).unwrap();
    let statement_token = cerner.connector.security.oauth.token.clone();
    cerner.merge_smart_configuration(cerner_smart);
    assert!(cerner
        .connector
        .security
        .token_endpoint_auth_methods
        .contains(&"private_key_jwt".to_owned()));
    assert!(cerner.connector.security.oauth.manage.is_some());
    assert_eq!(cerner.connector.security.oauth.token, statement_token);

    let epic_smart =
        read_smart_configuration_file(&vendors.join("epic-r4-smart-configuration.json"), &limits)
            .unwrap();
    assert_eq!(epic_smart.configuration.capabilities.len(), 17);
    assert_eq!(epic_smart.configuration.scopes_supported.len(), 5);
    // What SMART App Launch needs is read too (the model reader's old type dropped it).
    assert_eq!(
        epic_smart.configuration.code_challenge_methods_supported,
        ["S256"]
    );
    assert_eq!(epic_smart.configuration.response_types_supported, ["code"]);
    assert_eq!(
        epic_smart
            .configuration
            .authorization_endpoint
            .as_ref()
            .map(url::Url::as_str),
        Some("https://fhir.epic.com/interconnect-fhir-oauth/oauth2/authorize")
    );
    assert!(epic_smart.warnings.is_empty(), "{:?}", epic_smart.warnings);

    // A statement is not a SMART configuration.
    let err = read_smart_configuration_file(&vendors.join("epic-r4-capability.json"), &limits)
        .unwrap_err();
    assert!(
        matches!(err, fhirforge_parse::Error::NotSmartConfiguration { .. }),
        "{err}"
    );
}
