//! Hostile input, and fetching.

use super::*;

// -------------------------------------------------------------------------------------------
// Hostile input

/// Every string in the output: no control characters but newline and tab anywhere, and names,
/// paths and URLs free of anything that could end a Rust string or identifier.
pub(crate) fn assert_clean(value: &Value, key: &str) {
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
                "rust_name" | "type" => assert!(is_ident(s), "{key}: {s:?}"),
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
    // Both kinds happen, each in a fair share (YAML truncated at a line end often still
    // parses; JSON never does), so a reader that refused everything would fail here.
    let total = outcomes.0 + outcomes.1;
    assert!(
        outcomes.0 * 10 >= total && outcomes.1 * 10 >= total,
        "{outcomes:?} (Ok, Err): expected at least 10% of each"
    );
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
