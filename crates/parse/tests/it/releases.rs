//! R4B, R5 and STU3 statements (the vendor files cover DSTU2, STU3 and R4), from
//! `specs/synthetic`.

use crate::support::specs;
use fhirforge_model::{
    ConditionalDelete, ConditionalRead, FhirRelease, ResourceInteraction, SearchParamType,
    SystemInteraction, Versioning,
};
use fhirforge_parse::{read_capability_statement_file, Limits};

#[test]
fn r5_statement() {
    let parsed = read_capability_statement_file(
        &specs().join("synthetic/r5-capability.json"),
        &Limits::default(),
    )
    .unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let c = &parsed.connector;
    assert_eq!(c.fhir_release, Some(FhirRelease::R5));
    assert_eq!(c.name, "Synthetic R5 server");
    assert_eq!(c.base_url.as_deref(), Some("https://r5.example/fhir"));
    assert_eq!(
        c.security.oauth.register.as_deref(),
        Some("https://r5.example/auth/register")
    );
    let p = c.resource("Patient").unwrap();
    assert_eq!(p.interactions, ResourceInteraction::ALL);
    assert_eq!(p.versioning, Some(Versioning::VersionedUpdate));
    assert_eq!(p.conditional_read, Some(ConditionalRead::FullSupport));
    assert_eq!(p.conditional_delete, Some(ConditionalDelete::Multiple));
    assert_eq!(
        p.supported_profiles,
        ["http://hl7.org/fhir/StructureDefinition/Patient"]
    );
    assert_eq!(
        p.search_param("_filter").unwrap().param_type,
        SearchParamType::Special
    );
    assert_eq!(p.operations[0].rust_name, "everything");
    let topic = c.resource("SubscriptionTopic").unwrap();
    let resource = topic.search_param("resource").unwrap();
    assert_eq!(resource.param_type, SearchParamType::Resource);
    assert_eq!(resource.rust_name, "resource");
    assert_eq!(c.system.interactions, SystemInteraction::ALL);
    assert_eq!(c.system.search_params[0].name, "_lastUpdated");
    assert_eq!(
        c.system.search_params[0].definition.as_deref(),
        Some("http://hl7.org/fhir/SearchParameter/Resource-lastUpdated")
    );
    assert_eq!(c.system.operations[0].name, "versions");
}

#[test]
fn r4b_statement_in_xml() {
    let parsed = read_capability_statement_file(
        &specs().join("synthetic/r4b-capability.xml"),
        &Limits::default(),
    )
    .unwrap();
    let c = &parsed.connector;
    assert_eq!(c.fhir_release, Some(FhirRelease::R4B));
    assert_eq!(c.name, "Synthetic R4B");
    assert_eq!(c.formats, ["xml", "json"]);
    assert_eq!(c.security.services, ["Basic"]);
    assert!(c.security.declares_basic());
    assert_eq!(c.resources.len(), 1);
    let obs = c.resource("Observation").unwrap();
    assert_eq!(
        obs.interactions,
        [ResourceInteraction::Read, ResourceInteraction::SearchType]
    );
    let code = obs.search_param("code").unwrap();
    assert!(code.from_core);
    assert_eq!(
        code.definition.as_deref(),
        Some("http://hl7.org/fhir/SearchParameter/clinical-code")
    );
    let vq = obs.search_param("value-quantity").unwrap();
    assert_eq!(
        vq.documentation.as_deref(),
        Some("Vendor text wins over core")
    );
    assert!(vq.range);
    let pointers: Vec<&str> = parsed.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/rest/0/resource/0/interaction/2/code",
            "/rest/0/resource/1/type"
        ]
    );
}

#[test]
fn stu3_statement_with_reference_profiles() {
    let parsed = read_capability_statement_file(
        &specs().join("synthetic/stu3-tiny.json"),
        &Limits::default(),
    )
    .unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let p = parsed.connector.resource("Patient").unwrap();
    assert_eq!(parsed.connector.fhir_release, Some(FhirRelease::Stu3));
    assert_eq!(
        p.profile.as_deref(),
        Some("http://hl7.org/fhir/StructureDefinition/Patient")
    );
    assert_eq!(
        p.search_param("name").unwrap().definition.as_deref(),
        Some("http://hl7.org/fhir/SearchParameter/Patient-name")
    );
}

#[test]
fn a_version_that_contradicts_the_resource_type_is_a_warning() {
    let doc = br#"{"resourceType": "Conformance", "fhirVersion": "4.0.1"}"#;
    let parsed = fhirforge_parse::read_capability_statement(doc, None, &Limits::default()).unwrap();
    assert_eq!(parsed.warnings[0].pointer, "/resourceType");
    assert_eq!(parsed.connector.fhir_release, Some(FhirRelease::R4));
}
