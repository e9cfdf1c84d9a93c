//! Hostile and broken inputs: each ends in a warning or a clear error, never a panic.

use crate::support::specs;
use fhirforge_parse::{
    read_capability_statement, read_capability_statement_file, read_file, Error, Limits,
};
use serde_json::json;

fn read_json(v: &serde_json::Value) -> fhirforge_parse::Parsed {
    read_capability_statement(v.to_string().as_bytes(), None, &Limits::default()).unwrap()
}

fn is_plain_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && !fhirforge_model::names::is_keyword(s)
}

#[test]
fn hostile_names_are_rejected_and_hostile_docs_kept_verbatim() {
    let evil_doc = "*/ } fn evil() { std::process::exit(1) } /* \"# '\n\r\u{0} ñ 💥";
    let doc = json!({
        "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
        "name": "Evil\n\u{1b}[31m\"#",
        "rest": [{"mode": "server", "resource": [
            {"type": "Patient\"; panic!(); \"", "interaction": [{"code": "read"}]},
            {"type": "*/Patient", "interaction": [{"code": "read"}]},
            {"type": "", "interaction": [{"code": "read"}]},
            {"type": "Pätient"},
            {"type": "type"},
            {"type": "Patient", "documentation": evil_doc,
             "interaction": [{"code": "read"}, {"code": "read"}, {"code": "r\"ead"}, {"code": ""}, {}],
             "searchParam": [
                {"name": "type", "type": "token"},
                {"name": "self", "type": "token"},
                {"name": "fn", "type": "string", "documentation": evil_doc},
                {"name": "a\"b", "type": "string"},
                {"name": "x*/y", "type": "string"},
                {"name": "r#type", "type": "string"},
                {"name": "line\nbreak", "type": "string"},
                {"name": "名前", "type": "string"},
                {"name": "", "type": "string"},
                {"name": "count", "type": "number"},
                {"name": "_count", "type": "number"},
                {"name": "send", "type": "string"},
                {"name": "general-practitioner", "type": "reference"},
                {"name": "general_practitioner", "type": "reference"},
                {"name": "birthdate", "type": "date"},
                {"name": "birthdate", "type": "string"},
                {"name": "weird", "type": "fancy\"type"},
                {"name": "notype"},
                {"name": "gender"},
                42
             ]},
            {"type": "Patient", "interaction": [{"code": "update"}], "searchParam": [{"name": "extra", "type": "token"}]}
        ]}]
    });
    let parsed = read_json(&doc);
    let c = &parsed.connector;
    assert_eq!(
        c.resources.len(),
        1,
        "only the valid Patient survives: {:?}",
        c.resources
    );
    let p = &c.resources[0];
    assert_eq!(
        p.documentation.as_deref(),
        Some(evil_doc),
        "documentation is kept verbatim"
    );
    let codes: Vec<&str> = p.interactions.iter().map(|i| i.code()).collect();
    assert_eq!(codes, ["read", "update"]);
    let names: Vec<(&str, &str)> = p
        .search_params
        .iter()
        .map(|s| (s.name.as_str(), s.rust_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("type", "type_"),
            ("self", "self_"),
            ("fn", "fn_"),
            ("count", "count_2"),
            ("_count", "count"),
            ("send", "send_2"),
            ("general-practitioner", "general_practitioner_2"),
            ("general_practitioner", "general_practitioner"),
            ("birthdate", "birthdate"),
            ("weird", "weird"),
            ("gender", "gender"),
            ("extra", "extra"),
        ]
    );
    for sp in &p.search_params {
        assert!(is_plain_ident(&sp.rust_name), "{}", sp.rust_name);
    }
    assert!(is_plain_ident(&p.rust_name));
    // The core type is used for a parameter declared without one, when FHIR core knows it.
    assert_eq!(p.search_param("gender").unwrap().param_type.code(), "token");
    assert_eq!(
        p.search_param("weird").unwrap().param_type.code(),
        "fancy\"type"
    );
    // The first declaration of a duplicate wins.
    assert_eq!(
        p.search_param("birthdate").unwrap().param_type.code(),
        "date"
    );

    let text: Vec<String> = parsed.warnings.iter().map(ToString::to_string).collect();
    for expected in [
        "/rest/0/resource/0/type: \"Patient\\\"; panic!(); \\\"\" is not a valid FHIR resource type name; skipped",
        "/rest/0/resource/1/type: \"*/Patient\" is not a valid FHIR resource type name; skipped",
        "/rest/0/resource/2/type: empty string ignored",
        "/rest/0/resource/2: resource without a type; skipped",
        "/rest/0/resource/3/type: \"Pätient\" is not a valid FHIR resource type name; skipped",
        "/rest/0/resource/4/type: \"type\" is not a valid FHIR resource type name; skipped",
        "/rest/0/resource/5/interaction/1/code: duplicate interaction read merged",
        "/rest/0/resource/5/interaction/2/code: unknown interaction code \"r\\\"ead\" for Patient; skipped",
        "/rest/0/resource/5/interaction/3/code: empty string ignored",
        "/rest/0/resource/5/interaction/4: interaction without a code; skipped",
        "/rest/0/resource/5/searchParam/3/name: \"a\\\"b\" is not a valid search parameter name; skipped",
        "/rest/0/resource/5/searchParam/6/name: \"line\\nbreak\" is not a valid search parameter name; skipped",
        "/rest/0/resource/5/searchParam/15: duplicate search parameter \"birthdate\" declared as string (first as date); the first is kept",
        "/rest/0/resource/5/searchParam/16/type: unknown search parameter type \"fancy\\\"type\"; kept as written",
        "/rest/0/resource/5/searchParam/17: no type for \"notype\" and no core definition; skipped",
        "/rest/0/resource/5/searchParam/18: no type for gender; the FHIR core type token is used",
        "/rest/0/resource/5/searchParam/19: expected an object, found a number; skipped",
        "/rest/0/resource/6: duplicate resource type Patient merged into /rest/0/resource/5",
    ] {
        assert!(
            text.iter().any(|t| t == expected),
            "missing warning {expected}\nin {text:#?}"
        );
    }
    // Warnings never carry raw control characters (they quote names Debug-style).
    assert!(
        text.iter()
            .all(|t| !t.contains('\n') && !t.contains('\u{1b}')),
        "{text:#?}"
    );
}

#[test]
fn empty_and_odd_shapes_are_warnings() {
    let parsed = read_json(&json!({
        "resourceType": "CapabilityStatement", "fhirVersion": "",
        "format": "json",
        "rest": [{"mode": "client"}, "not an object", {"resource": {"type": "Patient"}, "security": {"cors": "yes"}}]
    }));
    assert_eq!(parsed.connector.formats, ["json"]);
    assert_eq!(parsed.connector.resources.len(), 1);
    assert_eq!(parsed.connector.fhir_release, None);
    let pointers: Vec<&str> = parsed.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/fhirVersion",
            "/fhirVersion",
            "/format",
            "/rest/0/mode",
            "/rest/1",
            "/rest/2/security/cors",
            "/rest/2/resource"
        ]
    );
    let empty = read_json(&json!({"resourceType": "CapabilityStatement"}));
    assert!(empty.connector.resources.is_empty());
    assert_eq!(empty.connector.name, "unnamed");
}

#[test]
fn duplicated_and_malformed_oauth_uris_keep_the_valid_one() {
    let parsed = read_json(&json!({
        "resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
        "rest": [{"mode": "server", "security": {"extension": [
            {"url": "http://DSTU2/fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
             "extension": [{"url": "token", "valueUri": "https://evil.example/token"}]},
            {"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
             "extension": [
                {"url": "token", "valueUri": "https://good.example/token"},
                {"url": "authorize", "valueUri": "javascript:alert(1)"},
                {"url": "revoke", "valueUri": "not a url"},
                {"url": "frobnicate", "valueUri": "https://good.example/x"}]},
            {"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
             "extension": [
                {"url": "token", "valueUri": "https://other.example/token"},
                {"url": "authorize", "valueUri": "https://good.example/authorize"}]}
        ]}}]
    }));
    let oauth = &parsed.connector.security.oauth;
    assert_eq!(oauth.token.as_deref(), Some("https://good.example/token"));
    assert_eq!(
        oauth.authorize.as_deref(),
        Some("https://good.example/authorize")
    );
    assert_eq!(oauth.revoke, None);
    let pointers: Vec<&str> = parsed.warnings.iter().map(|w| w.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        [
            "/rest/0/security/extension/2",
            "/rest/0/security/extension/0/url",
            "/rest/0/security/extension/1/extension/1/valueUri",
            "/rest/0/security/extension/1/extension/2/valueUri",
            "/rest/0/security/extension/1/extension/3/url",
            "/rest/0/security/extension/2/extension/0",
        ]
    );
}

#[test]
fn documents_that_are_not_capability_statements_are_refused() {
    for (doc, found) in [
        (
            json!({"resourceType": "Patient", "id": "x"}),
            "resourceType \"Patient\"",
        ),
        (json!({"resourceType": 7}), "resourceType is a number"),
        (
            json!({"fhirVersion": "4.0.1"}),
            "an object without resourceType",
        ),
        (
            json!([{"resourceType": "CapabilityStatement"}]),
            "an array at the top level",
        ),
        (json!("CapabilityStatement"), "a string at the top level"),
    ] {
        match read_capability_statement(doc.to_string().as_bytes(), None, &Limits::default()) {
            Err(Error::NotCapabilityStatement { found: f }) => assert_eq!(f, found),
            other => panic!("{doc}: {other:?}"),
        }
    }
    let xml = br#"<Patient xmlns="http://hl7.org/fhir"><id value="x"/></Patient>"#;
    assert!(matches!(
        read_capability_statement(xml, None, &Limits::default()),
        Err(Error::NotCapabilityStatement { .. })
    ));
}

#[test]
fn truncated_json_is_refused_with_a_position() {
    let bytes = std::fs::read(specs().join("vendors/athenahealth-r4-capability.json")).unwrap();
    for cut in [0, 1, 100, 1000, bytes.len() / 2, bytes.len() - 2] {
        match read_capability_statement(
            &bytes[..cut],
            Some(fhirforge_parse::Format::Json),
            &Limits::default(),
        ) {
            Err(Error::Json { line, column, .. }) => {
                assert!(line >= 1 && column >= 1);
                let msg = read_capability_statement(&bytes[..cut], None, &Limits::default())
                    .unwrap_err()
                    .to_string();
                assert!(msg.starts_with("malformed JSON at line"), "{msg}");
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn a_file_over_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // A sparse 64 GiB file: reading it whole would take minutes and all memory.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(64 << 30).unwrap();
    match read_capability_statement_file(&path, &Limits::default()) {
        Err(Error::TooLarge {
            size: Some(size),
            limit,
            ..
        }) => {
            assert_eq!(size, 64 << 30);
            assert_eq!(limit, 16 << 20);
        }
        other => panic!("{other:?}"),
    }
    // A source whose metadata says 0 bytes is cut off after limit + 1 bytes.
    let limits = Limits {
        max_bytes: 1 << 20,
        ..Limits::default()
    };
    match read_file(std::path::Path::new("/dev/zero"), &limits) {
        Err(Error::TooLarge { size: None, .. }) => {}
        other => panic!("{other:?}"),
    }
    // Bytes in memory are checked too.
    let small = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        read_capability_statement(b"{\"resourceType\": \"CapabilityStatement\"}", None, &small),
        Err(Error::TooLarge { .. })
    ));
    // A missing file is an I/O error.
    let err = read_capability_statement_file(&dir.path().join("missing.json"), &Limits::default())
        .unwrap_err();
    assert_eq!(err.category(), fhirforge_parse::ErrorCategory::Io);
}

#[test]
fn ten_thousand_deep_nesting_is_a_clean_error() {
    let deep_array = "[".repeat(10_000) + &"]".repeat(10_000);
    let deep_object = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
    let nested_in_statement = format!(
        "{{\"resourceType\":\"CapabilityStatement\",\"rest\":[{{\"resource\":[{{\"type\":\"Patient\",\"extension\":{deep_array}}}]}}]}}"
    );
    for doc in [&deep_array, &deep_object, &nested_in_statement] {
        match read_capability_statement(doc.as_bytes(), None, &Limits::default()) {
            Err(Error::TooDeep {
                limit: 64, line: 1, ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
    // Even with our own limit lifted, serde_json's recursion limit stops it: no stack overflow.
    let lifted = Limits {
        max_depth: 1_000_000,
        ..Limits::default()
    };
    match read_capability_statement(deep_array.as_bytes(), None, &lifted) {
        Err(Error::Json { message, .. }) => {
            assert!(message.contains("recursion limit"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let deep_xml = "<CapabilityStatement>".to_owned()
        + &"<a>".repeat(10_000)
        + &"</a>".repeat(10_000)
        + "</CapabilityStatement>";
    assert!(matches!(
        read_capability_statement(deep_xml.as_bytes(), None, &Limits::default()),
        Err(Error::TooDeep { limit: 64, .. })
    ));
}

#[test]
fn xml_billion_laughs_and_external_entities_are_refused() {
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        bomb.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    bomb.push_str("]>\n<CapabilityStatement xmlns=\"http://hl7.org/fhir\"><name value=\"&lol9;\"/></CapabilityStatement>\n");
    match read_capability_statement(bomb.as_bytes(), None, &Limits::default()) {
        Err(Error::Doctype { line: 2, column: 1 }) => {}
        other => panic!("{other:?}"),
    }
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><CapabilityStatement><name value="&xxe;"/></CapabilityStatement>"#;
    assert!(matches!(
        read_capability_statement(xxe, None, &Limits::default()),
        Err(Error::Doctype { .. })
    ));
    // Without a DOCTYPE an entity reference is simply undeclared: an error, never expanded.
    let undeclared = br#"<CapabilityStatement><name value="&lol9;"/></CapabilityStatement>"#;
    let err = read_capability_statement(undeclared, None, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Xml { line: 1, .. }), "{err:?}");
    let in_text = b"<CapabilityStatement>&lol9;</CapabilityStatement>";
    assert!(matches!(
        read_capability_statement(in_text, None, &Limits::default()),
        Err(Error::Xml { .. })
    ));
}

#[test]
fn error_messages_are_clear() {
    for (input, expected) in [
        (
            &b"{\"a\": }"[..],
            "malformed JSON at line 1, column 7: expected value",
        ),
        (b"<a><b></a>", "malformed XML at line 1"),
        (
            b"[[[[",
            "malformed JSON at line 1, column 4: EOF while parsing a list",
        ),
        (
            b"",
            "malformed JSON at line 1, column 1: EOF while parsing a value",
        ),
    ] {
        let msg = read_capability_statement(input, None, &Limits::default())
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with(expected), "{msg}");
    }
}

/// Huge, repetitive documents within the size limit are read in bounded time and memory: lists
/// are capped at 2,000 elements and warnings at 1,000 (plus one counting the rest), and the
/// whole tree at `Limits::max_values`.
#[test]
fn huge_repetitive_documents_stay_bounded() {
    let params: Vec<serde_json::Value> = (0..5_000)
        .map(|i| json!({"name": format!("p{i}"), "type": "token"}))
        .collect();
    let resource =
        json!({"type": "Patient", "interaction": [{"code": "read"}], "searchParam": params});
    let resources: Vec<serde_json::Value> = (0..30).map(|_| resource.clone()).collect();
    let mut doc = json!({"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
        "rest": [{"mode": "server", "resource": resources}]});
    let text = doc.to_string();
    assert!(text.len() < 16 << 20, "{}", text.len());
    let parsed = read_capability_statement(text.as_bytes(), None, &Limits::default()).unwrap();
    assert_eq!(parsed.connector.resources.len(), 1);
    assert_eq!(parsed.connector.resources[0].search_params.len(), 2_000);
    assert_eq!(parsed.warnings.len(), 1_001);
    assert!(
        parsed.warnings[1_000]
            .message
            .ends_with("more warnings not shown"),
        "{:?}",
        parsed.warnings[1_000]
    );
    // Many distinct resource types.
    let resources: Vec<serde_json::Value> = (0..5_000)
        .map(|i| json!({"type": format!("T{i}"), "interaction": [{"code": "read"}]}))
        .collect();
    doc["rest"][0]["resource"] = json!(resources);
    let parsed =
        read_capability_statement(doc.to_string().as_bytes(), None, &Limits::default()).unwrap();
    assert_eq!(parsed.connector.resources.len(), 2_000);
}
