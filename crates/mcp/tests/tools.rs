//! Tool derivation over the bundled vendor statements: names and schemas follow the declared
//! resources, interactions and search parameters. The summaries are goldens
//! (`EXPECTORATE=overwrite cargo test -p fhirforge-mcp --test tools` to bless).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use fhirforge_mcp::tools::{Catalog, Options, PREFIXES};
use fhirforge_mcp::{Error, FhirMcp};
use fhirforge_model::{Connector, ResourceInteraction, SearchParamType};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn epic() -> Connector {
    let path = root().join("specs/vendors/epic-r4-capability.json");
    fhirforge_parse::read_capability_statement_file(&path, &Default::default())
        .unwrap()
        .connector
}

fn listed_size(catalog: Catalog) -> usize {
    let tools: Vec<_> = catalog
        .tools()
        .iter()
        .map(fhirforge_mcp::server::to_tool)
        .collect();
    serde_json::to_vec(&tools).unwrap().len()
}

/// One line per tool: name, then each property with its schema shape.
fn summary(catalog: &Catalog) -> String {
    let mut out = String::new();
    for t in catalog.tools() {
        writeln!(out, "{}", t.name).unwrap();
        let props = t.input_schema["properties"].as_object().unwrap();
        let required: Vec<&str> = t
            .input_schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, schema) in props {
            let shape = if schema.get("oneOf").is_some() {
                "value|range".to_owned()
            } else {
                schema["type"].as_str().unwrap_or("?").to_owned()
            };
            let req = if required.contains(&name.as_str()) {
                " required"
            } else {
                ""
            };
            writeln!(out, "  {name}: {shape}{req}").unwrap();
        }
    }
    out
}

#[test]
fn epic_tools_follow_the_declared_interactions() {
    let connector = epic();
    let catalog = Catalog::new(connector.clone(), Options::default()).unwrap();
    for r in &connector.resources {
        let ty = &r.resource_type;
        assert_eq!(
            catalog.tool(&format!("search_{ty}")).is_some(),
            r.supports(ResourceInteraction::SearchType),
            "search_{ty}"
        );
        assert_eq!(
            catalog.tool(&format!("read_{ty}")).is_some(),
            r.supports(ResourceInteraction::Read),
            "read_{ty}"
        );
        // Read-only by default: no write tool even where declared.
        for kind in ["create", "update", "patch", "delete"] {
            assert!(
                catalog.tool(&format!("{kind}_{ty}")).is_none(),
                "{kind}_{ty}"
            );
        }
    }
    assert!(catalog.tool("op_Patient_match").is_some());
    assert!(catalog.tool("op_Patient_summary").is_some());

    let write = Catalog::new(
        connector.clone(),
        Options {
            write: true,
            ..Options::default()
        },
    )
    .unwrap();
    for r in &connector.resources {
        let ty = &r.resource_type;
        assert_eq!(
            write.tool(&format!("create_{ty}")).is_some(),
            r.supports(ResourceInteraction::Create),
            "create_{ty}"
        );
        assert_eq!(
            write.tool(&format!("update_{ty}")).is_some(),
            r.supports(ResourceInteraction::Update),
            "update_{ty}"
        );
    }
    assert!(write.tool("create_Patient").is_some());
    assert!(
        write.tool("update_Patient").is_none(),
        "Epic declares no Patient update"
    );
}

#[test]
fn epic_search_patient_has_one_typed_property_per_declared_parameter() {
    let connector = epic();
    let catalog = Catalog::new(connector.clone(), Options::default()).unwrap();
    let patient = connector.resource("Patient").unwrap();
    let tool = catalog.tool("search_Patient").unwrap();
    let props = tool.input_schema["properties"].as_object().unwrap();
    assert_eq!(tool.input_schema["additionalProperties"], false);
    let mut expected: Vec<&str> = patient
        .search_params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    expected.extend(["additional", "max_results"]);
    let mut got: Vec<&str> = props.keys().map(String::as_str).collect();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    for p in &patient.search_params {
        let schema = &props[&p.name];
        match p.param_type {
            SearchParamType::Date if p.name != "_count" => {
                let choices = schema["oneOf"].as_array().unwrap();
                assert_eq!(choices.len(), 2, "{}", p.name);
                assert_eq!(
                    choices[0]["properties"]["prefix"]["enum"],
                    serde_json::json!(PREFIXES)
                );
                assert!(choices[1]["properties"].get("lower").is_some());
                assert!(choices[1]["properties"].get("upper").is_some());
            }
            SearchParamType::Token if p.name != "_id" => {
                assert_eq!(schema["type"], "object", "{}", p.name);
                assert!(schema["properties"].get("system").is_some());
                assert!(schema["properties"].get("code").is_some());
            }
            SearchParamType::String | SearchParamType::Reference => {
                assert_eq!(schema["type"], "string", "{}", p.name)
            }
            _ => {}
        }
        // Descriptions come from the vendor's documentation, cleaned and capped.
        let description = schema["description"].as_str().unwrap();
        if let Some(doc) = &p.documentation {
            let first_word = doc.split_whitespace().next().unwrap_or("");
            assert!(
                description.contains(first_word),
                "{}: {description}",
                p.name
            );
        }
        assert!(description.chars().count() < 400, "{}", p.name);
        assert!(!description.contains('\n'));
    }
    assert_eq!(props["max_results"]["maximum"], 50);
}

#[test]
fn epic_tool_list_golden() {
    let catalog = Catalog::new(epic(), Options::default()).unwrap();
    expectorate::assert_contents("tests/data/epic-r4-tools.txt", &summary(&catalog));
    let compact = Catalog::new(
        epic(),
        Options {
            compact: true,
            write: true,
            ..Options::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = compact.tools().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["search", "read", "operation", "create", "update"],
        "Epic R4 declares no history, patch or delete"
    );
    let tools: Vec<_> = compact
        .tools()
        .iter()
        .map(fhirforge_mcp::server::to_tool)
        .collect();
    expectorate::assert_contents(
        "tests/data/epic-r4-compact-tools.json",
        &serde_json::to_string_pretty(&tools).unwrap(),
    );
}

#[test]
fn resources_and_compact_mode_shrink_the_tool_list() {
    let full = listed_size(Catalog::new(epic(), Options::default()).unwrap());
    let two = listed_size(
        Catalog::new(
            epic(),
            Options {
                resources: Some(vec!["Patient".into(), "Observation".into()]),
                ..Options::default()
            },
        )
        .unwrap(),
    );
    let compact = listed_size(
        Catalog::new(
            epic(),
            Options {
                compact: true,
                ..Options::default()
            },
        )
        .unwrap(),
    );
    assert!(
        two * 10 < full,
        "full {full} B, Patient+Observation {two} B"
    );
    assert!(compact * 10 < full, "full {full} B, compact {compact} B");
}

#[test]
fn an_undeclared_resource_is_refused_with_a_suggestion() {
    let err = Catalog::new(
        epic(),
        Options {
            resources: Some(vec!["Patinet".into()]),
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, Error::UnknownResource { .. }));
    assert!(err.to_string().contains("did you mean `Patient`?"), "{err}");
}

#[test]
fn the_handler_lists_what_the_catalog_derived() {
    let catalog = Catalog::new(epic(), Options::default()).unwrap();
    let n = catalog.tools().len();
    let server = FhirMcp::new(fhirforge_mcp::Config {
        catalog,
        client: fhirforge_runtime::Client::builder("http://127.0.0.1:9")
            .build()
            .unwrap(),
        statement: fhirforge_mcp::Statement {
            text: "{}".into(),
            mime_type: "application/fhir+json".into(),
            source: "test".into(),
        },
        log: fhirforge_mcp::log::CallLog::to_writer(std::io::sink()),
        default_params: Vec::new(),
    });
    assert_eq!(server.tools().len(), n);
}
