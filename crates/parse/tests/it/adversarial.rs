//! The adversarial corpus: the worst inputs the security review found, generated in code (no
//! giant files in the repository). Each test asserts the outcome (refused with a clear error, or
//! read with capped lists and warnings), not the time: on the code before the fix each of them
//! ran for minutes or hours, or ran out of memory. `benches/adversarial.rs` times the same
//! inputs (see `corpus` there, which builds them with these functions).

use fhirforge_parse::{openapi, read_capability_statement, read_smart_configuration, Error};
use fhirforge_parse::{Format, Limits};
use serde_json::{json, Value};

/// Most items any reader keeps per list (the crate's documented cap).
const CAP: usize = 2_000;
/// Most warnings kept, plus the one that counts the rest.
const WARNINGS: usize = 1_001;

/// Builds the inputs; shared with the benchmark through `#[path]`.
pub(crate) mod corpus {
    use fhirforge_parse::Format;
    use serde_json::{json, Value};
    use std::fmt::Write as _;

    /// An OpenAPI document whose server variable `v0` defaults to `{v1}{v1}`, `v1` to
    /// `{v2}{v2}` and so on: substituted one after another, `depth` levels ask for 2^depth
    /// copies. The same servers are declared per path and per operation.
    pub(crate) fn server_variable_bomb(depth: usize) -> Value {
        let mut vars = serde_json::Map::new();
        for i in 0..depth {
            vars.insert(
                format!("v{i}"),
                json!({"default": format!("{{v{0}}}{{v{0}}}", i + 1)}),
            );
        }
        vars.insert(format!("v{depth}"), json!({"default": "x"}));
        let servers = json!([{"url": "https://{v0}.example/fhir", "variables": vars}]);
        json!({
            "openapi": "3.0.3",
            "info": {"title": "bomb", "version": "1"},
            "servers": servers,
            "paths": {"/api/thing": {
                "servers": servers,
                "get": {"operationId": "thing", "servers": servers, "responses": {}}
            }}
        })
    }

    /// A CapabilityStatement in XML with `n` sibling elements of distinct names.
    pub(crate) fn xml_siblings(n: usize) -> String {
        let mut s = String::from(
            "<CapabilityStatement xmlns=\"http://hl7.org/fhir\"><fhirVersion value=\"4.0.1\"/>",
        );
        for i in 0..n {
            let _ = write!(s, "<e{i} value=\"x\"/>");
        }
        s.push_str("<rest><mode value=\"server\"/></rest></CapabilityStatement>");
        s
    }

    /// A CapabilityStatement in XML whose root element carries `n` attributes.
    pub(crate) fn xml_attributes(n: usize) -> String {
        let mut s = String::from("<CapabilityStatement");
        for i in 0..n {
            let _ = write!(s, " a{i}=\"\"");
        }
        s.push_str("><fhirVersion value=\"4.0.1\"/></CapabilityStatement>");
        s
    }

    /// An OpenAPI document with `n` paths, every operation with `operationId: x`.
    pub(crate) fn colliding_operations(n: usize) -> Vec<u8> {
        let mut s = String::from(
            "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"x\",\"version\":\"1\"},\"paths\":{",
        );
        for i in 0..n {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "\"/{i}\":{{\"get\":{{\"operationId\":\"x\"}}}}");
        }
        s.push_str("}}");
        s.into_bytes()
    }

    /// A SMART configuration whose lists hold `n` distinct values each.
    pub(crate) fn smart_lists(n: usize) -> Vec<u8> {
        let list: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        json!({
            "token_endpoint": "https://ehr.example/token",
            "scopes_supported": list,
            "capabilities": list,
        })
        .to_string()
        .into_bytes()
    }

    /// A statement whose first `Patient` entry has `CAP` parameters, profiles and includes,
    /// followed by `rests` rest entries each repeating `Patient` `per_rest` times.
    pub(crate) fn duplicate_resources(rests: usize, per_rest: usize) -> Vec<u8> {
        let params: Vec<Value> = (0..super::CAP)
            .map(|i| json!({"name": format!("p{i}"), "type": "string"}))
            .collect();
        let strings: Vec<String> = (0..super::CAP).map(|i| format!("http://x/{i}")).collect();
        let big = json!({"type": "Patient", "searchParam": params,
            "supportedProfile": strings, "searchInclude": strings, "searchRevInclude": strings,
            "interaction": [{"code": "read"}]});
        let mut s = String::from(
            "{\"resourceType\":\"CapabilityStatement\",\"fhirVersion\":\"4.0.1\",\"rest\":[",
        );
        let _ = write!(s, "{{\"mode\":\"server\",\"resource\":[{big}]}}");
        let dup = vec!["{\"type\":\"Patient\"}"; per_rest].join(",");
        for _ in 0..rests {
            let _ = write!(s, ",{{\"mode\":\"server\",\"resource\":[{dup}]}}");
        }
        s.push_str("]}");
        s.into_bytes()
    }

    /// A statement with `rests` rest entries, each declaring `per_rest` distinct security
    /// services, in JSON or XML.
    pub(crate) fn rest_security(rests: usize, per_rest: usize, format: Format) -> Vec<u8> {
        let mut s = String::new();
        match format {
            Format::Json => s.push_str(
                "{\"resourceType\":\"CapabilityStatement\",\"fhirVersion\":\"4.0.1\",\"rest\":[",
            ),
            Format::Xml => s.push_str(
                "<CapabilityStatement xmlns=\"http://hl7.org/fhir\"><fhirVersion value=\"4.0.1\"/>",
            ),
        }
        for r in 0..rests {
            match format {
                Format::Json if r > 0 => {
                    s.push_str(",{\"mode\":\"server\",\"security\":{\"service\":[")
                }
                Format::Json => s.push_str("{\"mode\":\"server\",\"security\":{\"service\":["),
                Format::Xml => s.push_str("<rest><mode value=\"server\"/><security>"),
            }
            for i in 0..per_rest {
                let code = r * per_rest + i;
                match format {
                    Format::Json if i > 0 => {
                        let _ = write!(s, ",{{\"text\":\"{code}\"}}");
                    }
                    Format::Json => {
                        let _ = write!(s, "{{\"text\":\"{code}\"}}");
                    }
                    Format::Xml => {
                        let _ = write!(s, "<service><text value=\"{code}\"/></service>");
                    }
                }
            }
            match format {
                Format::Json => s.push_str("]}}"),
                Format::Xml => s.push_str("</security></rest>"),
            }
        }
        match format {
            Format::Json => s.push_str("]}"),
            Format::Xml => s.push_str("</CapabilityStatement>"),
        }
        s.into_bytes()
    }

    /// An OpenAPI document carrying an extension of `outer` arrays of `inner` zeros: small
    /// arrays, each under the per-array cap, `outer * inner` values in all.
    pub(crate) fn many_small_arrays(outer: usize, inner: usize) -> Vec<u8> {
        let row = format!("[{}]", vec!["0"; inner].join(","));
        let rows = vec![row.as_str(); outer].join(",");
        format!(
            "{{\"openapi\":\"3.0.0\",\"info\":{{\"title\":\"t\",\"version\":\"1\"}},\
             \"paths\":{{}},\"x-junk\":[{rows}]}}"
        )
        .into_bytes()
    }
}

fn openapi_value(doc: &Value) -> openapi::OpenApiParsed {
    openapi::read_value(doc, &openapi::Options::default()).unwrap()
}

#[test]
fn a_server_variable_bomb_is_refused_with_a_warning_per_server() {
    let read = openapi_value(&corpus::server_variable_bomb(40));
    let c = &read.parsed.connector;
    assert_eq!(c.base_url, None);
    let pointers: Vec<&str> = read
        .parsed
        .warnings
        .iter()
        .filter(|w| w.message.contains("server variable"))
        .map(|w| w.pointer.as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/servers/0/variables/v0/default",
            "/paths/~1api~1thing/get/servers/0/variables/v0/default",
        ],
        "{:#?}",
        read.parsed.warnings
    );
    assert_eq!(c.generic_operations.len(), 1);
    assert_eq!(c.generic_operations[0].server_url, None);
}

#[test]
fn server_variables_are_substituted_once_and_capped() {
    // A default may not name another variable, but ordinary ones still work.
    let doc = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://{host}/{base}", "variables": {
            "host": {"default": "ehr.example"}, "base": {"default": "fhir/r4"}}}],
        "paths": {}});
    let read = openapi_value(&doc);
    assert!(read
        .parsed
        .warnings
        .iter()
        .all(|w| !w.pointer.starts_with("/servers")));
    // A long default repeated in the template crosses the length cap.
    let long = "a".repeat(1_500);
    let doc = json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://x.example/{a}/{a}", "variables": {"a": {"default": long}}}],
        "paths": {"/api/x": {"get": {"responses": {}}}}});
    let read = openapi_value(&doc);
    assert!(
        read.parsed
            .warnings
            .iter()
            .any(|w| w.pointer == "/servers/0/url" && w.message.contains("longer than")),
        "{:#?}",
        read.parsed.warnings
    );
    assert_eq!(read.parsed.connector.generic_operations[0].server_url, None);
}

#[test]
fn two_hundred_thousand_xml_siblings_are_read() {
    let xml = corpus::xml_siblings(200_000);
    let parsed =
        read_capability_statement(xml.as_bytes(), Some(Format::Xml), &Limits::default()).unwrap();
    assert_eq!(parsed.connector.fhir_version, "4.0.1");
}

#[test]
fn a_million_attributes_are_refused() {
    let xml = corpus::xml_attributes(1_000_000);
    match read_capability_statement(xml.as_bytes(), Some(Format::Xml), &Limits::default()) {
        Err(Error::Xml { message, .. }) => {
            assert!(message.contains("more than 64 attributes"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // A duplicate attribute is still malformed XML (quick-xml's own check is off).
    let dup = b"<CapabilityStatement><fhirVersion value=\"4.0.1\" value=\"5.0.0\"/></CapabilityStatement>";
    match read_capability_statement(dup, Some(Format::Xml), &Limits::default()) {
        Err(Error::Xml { message, .. }) => assert!(message.contains("duplicate"), "{message}"),
        other => panic!("{other:?}"),
    }
}

/// Needs the linear name assignment of `fhirforge_model::names` to finish quickly; the reader's
/// path cap keeps the number of names at 2,000 in any case.
#[test]
fn three_hundred_thousand_colliding_operation_ids_are_capped() {
    let doc = corpus::colliding_operations(300_000);
    assert!(doc.len() < 16 * 1024 * 1024);
    let read = openapi::read(&doc, &openapi::Options::default()).unwrap();
    let ops = &read.parsed.connector.generic_operations;
    assert_eq!(ops.len(), CAP);
    let names: std::collections::HashSet<&str> = ops.iter().map(|o| o.rust_name.as_str()).collect();
    assert_eq!(names.len(), CAP);
    let w = &read.parsed.warnings;
    assert_eq!(w[0].pointer, "/paths");
    // Cut while loading, before a value is built for every path.
    assert!(w[0].message.contains("300000 keys"), "{}", w[0].message);
    assert_eq!(w.len(), WARNINGS);
}

#[test]
fn huge_smart_lists_are_capped_or_refused() {
    let doc = corpus::smart_lists(50_000);
    assert!(doc.len() < 1024 * 1024);
    let smart = read_smart_configuration(&doc, &Limits::default()).unwrap();
    assert_eq!(smart.configuration.scopes_supported.len(), CAP);
    assert_eq!(smart.configuration.capabilities.len(), CAP);
    assert!(smart
        .warnings
        .iter()
        .any(|w| w.pointer.ends_with("/scopes_supported")
            && w.message.contains("only the first 2000")));
    // Duplicates: one warning each, capped.
    let dups =
        json!({"token_endpoint": "https://e.example/t", "scopes_supported": vec!["a"; 100_000]});
    let smart = read_smart_configuration(dups.to_string().as_bytes(), &Limits::default()).unwrap();
    assert_eq!(smart.configuration.scopes_supported, ["a"]);
    assert_eq!(smart.warnings.len(), WARNINGS);
    assert!(smart.warnings[WARNINGS - 1]
        .message
        .ends_with("more warnings not shown"));
    // Over 1 MiB: refused before parsing, whatever the general limit.
    match read_smart_configuration(&corpus::smart_lists(200_000), &Limits::default()) {
        Err(Error::TooLarge { limit, .. }) => assert_eq!(limit, 1024 * 1024),
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_duplicate_resource_entries_merge_in_linear_time() {
    // 100,001 entries (about 212,000 values): read, and only the first 2,000 entries looked at.
    let doc = corpus::duplicate_resources(50, CAP);
    let parsed = read_capability_statement(&doc, None, &Limits::default()).unwrap();
    let c = &parsed.connector;
    assert_eq!(c.resources.len(), 1);
    let patient = &c.resources[0];
    assert_eq!(patient.search_params.len(), CAP);
    assert_eq!(patient.supported_profiles.len(), CAP);
    assert_eq!(patient.search_rev_include.len(), CAP);
    assert_eq!(parsed.warnings.len(), WARNINGS);
    // 1,999 duplicates merged, one "more than one rest" and one "entries skipped" warning:
    // 1,000 kept, the rest counted.
    assert_eq!(
        parsed.warnings[WARNINGS - 1].message,
        "1001 more warnings not shown"
    );
    // 400,001 entries: more values than a statement may hold, refused before any is read.
    let doc = corpus::duplicate_resources(200, CAP);
    match read_capability_statement(&doc, None, &Limits::default()) {
        Err(Error::TooManyValues { limit }) => assert_eq!(limit, Limits::default().max_values),
        other => panic!("{other:?}"),
    }
}

#[test]
fn security_services_across_many_rest_entries_are_capped() {
    for format in [Format::Json, Format::Xml] {
        // 30 rest entries of 2,000 distinct services: the first 2,000 are read, the rest
        // skipped with one warning.
        let doc = corpus::rest_security(30, CAP, format);
        let parsed = read_capability_statement(&doc, Some(format), &Limits::default()).unwrap();
        let services = &parsed.connector.security.services;
        assert_eq!(services.len(), CAP, "{format:?}");
        assert_eq!(services[0], "0");
        assert_eq!(services[CAP - 1], "1999");
        let skipped = parsed
            .warnings
            .iter()
            .find(|w| w.message.contains("security services in all rest entries"))
            .unwrap_or_else(|| panic!("{format:?}: {:?}", parsed.warnings));
        assert_eq!(skipped.pointer, "/rest/1/security/service/0");
        assert_eq!(
            skipped.message,
            "more than 2000 security services in all rest entries; 58000 more skipped"
        );
        assert!(parsed.warnings.len() < 10, "{:?}", parsed.warnings);
        // 300 of them (150 in XML, which is longer): 600,000 (300,000) services are more
        // values than a statement may hold.
        let rests = if format == Format::Xml { 150 } else { 300 };
        let doc = corpus::rest_security(rests, CAP, format);
        assert!(doc.len() < 16 * 1024 * 1024);
        match read_capability_statement(&doc, Some(format), &Limits::default()) {
            Err(Error::TooManyValues { .. }) => {}
            other => panic!("{format:?}: {other:?}"),
        }
    }
}

#[test]
fn many_small_arrays_in_an_openapi_document_are_refused() {
    let doc = corpus::many_small_arrays(CAP, CAP);
    assert!(doc.len() < 16 * 1024 * 1024);
    match openapi::read(&doc, &openapi::Options::default()) {
        Err(Error::TooManyValues { limit }) => assert_eq!(limit, Limits::default().max_values),
        other => panic!("{:?}", other.map(|r| r.parsed.warnings)),
    }
    // The same shape, small: read (the budget counts values, it does not refuse the shape).
    let doc = corpus::many_small_arrays(10, 10);
    assert!(openapi::read(&doc, &openapi::Options::default()).is_ok());
}
