//! Generated hostile documents, and merging a SMART configuration.

use super::*;

// -------------------------------------------------------------------------------------------
// Generated hostile documents

mod documents {
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

    /// Documents read (Ok) out of all cases: the property must not hold vacuously, with every
    /// generated document refused.
    static READ_OK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    static CASES_RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

    #[test]
    fn generated_documents_read_without_panics_and_give_clean_names() {
        use std::sync::atomic::Ordering::Relaxed;
        let config = ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let strategy = (
            prop::sample::select(vec!["3.0.3", "3.1.0", "2.0"]),
            proptest::collection::vec(
                (
                    hostile_text(),
                    prop::sample::select(vec!["get", "post", "put", "delete", "patch", "GET"]),
                    operation(),
                ),
                0..8,
            ),
            hostile_text(),
        );
        let result = proptest::test_runner::TestRunner::new(config)
            .run(&strategy, |(version, paths, server)| {
                one_document(version, paths, server)
            });
        if let Err(e) = result {
            panic!("{e}");
        }
        let (ok, run) = (READ_OK.load(Relaxed), CASES_RUN.load(Relaxed));
        assert!(
            run >= 256 && ok * 10 >= run,
            "only {ok} of {run} generated documents were read"
        );
    }

    fn one_document(
        version: &str,
        paths: Vec<(String, &str, Value)>,
        server: String,
    ) -> Result<(), TestCaseError> {
        {
            let mut path_map = serde_json::Map::new();
            for (path, method, op) in paths {
                let path = format!("/{path}");
                let item = path_map
                    .entry(path)
                    .or_insert_with(|| serde_json::json!({}));
                item[method] = op;
            }
            let key = if version == "2.0" {
                "swagger"
            } else {
                "openapi"
            };
            let doc = serde_json::json!({
                key: version,
                "info": {"title": server, "version": "1"},
                "servers": [{"url": server}],
                "host": server,
                "paths": path_map,
                "components": {"securitySchemes": {"a": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": server, "scopes": {server.clone(): ""}}}}}}
            });
            let read = openapi::read_value(&doc, &Options::default());
            CASES_RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Ok(read) = read {
                READ_OK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut json = serde_json::to_value(&read.parsed.connector).unwrap();
                json.as_object_mut().unwrap().remove("name");
                json["software"]["name"] = Value::Null;
                assert_clean(&json, "");
                for w in &read.parsed.warnings {
                    prop_assert!(!w.to_string().chars().any(char::is_control), "{}", w);
                }
            }
        }
        Ok(())
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
