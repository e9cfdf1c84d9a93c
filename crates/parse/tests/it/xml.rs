//! The same statement as JSON and as XML gives the same model.

use crate::support::{json_to_xml, vendor_statements};
use fhirforge_parse::{read_capability_statement, Format, Limits};
use serde_json::Value;

#[test]
fn every_vendor_statement_reads_the_same_from_xml() {
    for (name, bytes) in vendor_statements() {
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let xml = json_to_xml(&json);
        let from_json =
            read_capability_statement(&bytes, Some(Format::Json), &Limits::default()).unwrap();
        let from_xml = read_capability_statement(xml.as_bytes(), None, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(from_xml.connector, from_json.connector, "{name}");
        assert_eq!(from_xml.warnings, from_json.warnings, "{name}");
    }
}

/// A hand-written XML statement (not produced by the test converter), with primitives that carry
/// extensions and ids, repeated and single-occurrence arrays, a narrative, an XML comment and a
/// DSTU2-style Reference; and its JSON form written by hand.
#[test]
fn hand_written_xml_matches_hand_written_json() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<CapabilityStatement xmlns="http://hl7.org/fhir">
  <id value="tiny"/>
  <text>
    <status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml"><p>Tiny &amp; <b>hand</b>-written</p></div>
  </text>
  <name value="Tiny"/>
  <publisher value="Tests &quot;R&quot; Us"/>
  <fhirVersion value="4.0.1"/>
  <format value="json"/>
  <format value="xml">
    <extension url="http://example.org/fhir/StructureDefinition/note">
      <valueString value="also"/>
    </extension>
  </format>
  <rest>
    <mode value="server"/>
    <security>
      <extension url="http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris">
        <extension url="token"><valueUri value="https://auth.example/token"/></extension>
        <extension url="authorize"><valueUri value="https://auth.example/authorize"/></extension>
      </extension>
      <cors value="true"/>
      <service>
        <coding>
          <system value="http://terminology.hl7.org/CodeSystem/restful-security-service"/>
          <code value="SMART-on-FHIR"/>
        </coding>
      </service>
    </security>
    <resource>
      <type value="Patient"/>
      <profile value="http://hl7.org/fhir/StructureDefinition/Patient"/>
      <documentation id="doc1" value="Line one&#10;line two with &lt;tags&gt;">
        <extension url="http://example.org/fhir/StructureDefinition/lang">
          <valueCode value="en"/>
        </extension>
      </documentation>
      <interaction><code value="read"/></interaction>
      <interaction><code value="search-type"/></interaction>
      <versioning value="versioned-update"/>
      <readHistory value="false"/>
      <conditionalDelete value="single"/>
      <searchInclude value="Patient:organization"/>
      <searchParam>
        <name value="birthdate"/>
        <type value="date"/>
      </searchParam>
    </resource>
    <resource>
      <type value="Observation"/>
      <interaction><code value="create"/></interaction>
      <searchParam>
        <name value="value-quantity"/>
        <type value="quantity"/>
        <documentation value="Vendor text"/>
      </searchParam>
      <operation>
        <name value="lastn"/>
        <definition><reference value="http://hl7.org/fhir/OperationDefinition/Observation-lastn"/></definition>
      </operation>
    </resource>
    <interaction><code value="batch"/></interaction>
  </rest>
</CapabilityStatement>
"#;
    let json = r#"{
  "resourceType": "CapabilityStatement", "id": "tiny",
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Tiny &amp; <b>hand</b>-written</p></div>"},
  "name": "Tiny", "publisher": "Tests \"R\" Us", "fhirVersion": "4.0.1",
  "format": ["json", "xml"],
  "_format": [null, {"extension": [{"url": "http://example.org/fhir/StructureDefinition/note", "valueString": "also"}]}],
  "rest": [{
    "mode": "server",
    "security": {
      "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [{"url": "token", "valueUri": "https://auth.example/token"},
                      {"url": "authorize", "valueUri": "https://auth.example/authorize"}]}],
      "cors": true,
      "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}]
    },
    "resource": [
      {"type": "Patient", "profile": "http://hl7.org/fhir/StructureDefinition/Patient",
       "documentation": "Line one\nline two with <tags>",
       "_documentation": {"id": "doc1", "extension": [{"url": "http://example.org/fhir/StructureDefinition/lang", "valueCode": "en"}]},
       "interaction": [{"code": "read"}, {"code": "search-type"}],
       "versioning": "versioned-update", "readHistory": false, "conditionalDelete": "single",
       "searchInclude": ["Patient:organization"],
       "searchParam": [{"name": "birthdate", "type": "date"}]},
      {"type": "Observation", "interaction": [{"code": "create"}],
       "searchParam": [{"name": "value-quantity", "type": "quantity", "documentation": "Vendor text"}],
       "operation": [{"name": "lastn", "definition": {"reference": "http://hl7.org/fhir/OperationDefinition/Observation-lastn"}}]}
    ],
    "interaction": [{"code": "batch"}]
  }]
}"#;
    let from_xml = read_capability_statement(xml.as_bytes(), None, &Limits::default()).unwrap();
    let from_json = read_capability_statement(json.as_bytes(), None, &Limits::default()).unwrap();
    assert_eq!(from_xml, from_json);
    assert!(from_xml.warnings.is_empty(), "{:?}", from_xml.warnings);
    let c = &from_xml.connector;
    assert_eq!(c.formats, ["json", "xml"]);
    assert_eq!(c.publisher.as_deref(), Some("Tests \"R\" Us"));
    let patient = c.resource("Patient").unwrap();
    assert_eq!(
        patient.documentation.as_deref(),
        Some("Line one\nline two with <tags>")
    );
    assert_eq!(patient.read_history, Some(false));
    assert_eq!(patient.search_include, ["Patient:organization"]);
    assert_eq!(
        c.security.oauth.token.as_deref(),
        Some("https://auth.example/token")
    );
    assert_eq!(c.security.cors, Some(true));
    let obs = c.resource("Observation").unwrap();
    assert_eq!(
        obs.operations[0].definition.as_deref(),
        Some("http://hl7.org/fhir/OperationDefinition/Observation-lastn")
    );
    assert_eq!(
        obs.search_params[0].documentation.as_deref(),
        Some("Vendor text")
    );
    assert!(obs.search_params[0].range);
}

#[test]
fn xml_mess_gets_the_same_pointers_as_json() {
    let xml = br#"<Conformance xmlns="http://hl7.org/fhir"><fhirVersion value="1.0.2"/>
      <rest><mode value="server"/><resource><type value="Patient"/>
        <interaction><code value="read"/></interaction>
        <interaction><code value="teleport"/></interaction>
      </resource><resource><type value="bad type"/></resource></rest></Conformance>"#;
    let parsed = read_capability_statement(xml, None, &Limits::default()).unwrap();
    let pointers: Vec<&str> = parsed.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/rest/0/resource/0/interaction/1/code",
            "/rest/0/resource/1/type"
        ]
    );
    assert_eq!(
        parsed.connector.fhir_release,
        Some(fhirforge_model::FhirRelease::Dstu2)
    );
}

/// The XML → JSON mapping itself gives back each vendor file's JSON exactly, narrative included.
#[test]
fn xml_maps_back_to_the_original_json() {
    for (name, bytes) in vendor_statements() {
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let xml = json_to_xml(&json);
        let back = fhirforge_parse::fhir_xml_to_json(xml.as_bytes(), &Limits::default()).unwrap();
        let mut want = json.clone();
        sort_keys(&mut want);
        let mut got = back;
        sort_keys(&mut got);
        assert_eq!(got, want, "{name}");
    }
}

/// Key order is not significant in JSON (and differs in XML, where `url` comes first).
fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut v) in entries {
                sort_keys(&mut v);
                map.insert(k, v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}
