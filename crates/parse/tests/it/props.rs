//! Property tests on the readers. Case counts: 512 for arbitrary bytes, 256 for each of the
//! generated-statement properties (see `CASES`).

use crate::support::json_to_xml;
use fhirforge_model::ResourceInteraction;
use fhirforge_parse::{read_capability_statement, Format, Limits};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use std::cell::Cell;
use std::collections::BTreeSet;

const CASES: u32 = 256;

/// Text without the control characters XML 1.0 cannot carry (so XML round trips stay possible),
/// but with quotes, `*/`, `"#`, unicode and whitespace.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _.*/\"#'<>&;:-]{0,12}",
        "\\PC{0,8}",
        Just(String::new()),
        Just("*/ fn evil() {} /*".to_owned()),
        Just("line\nbreak".to_owned()),
    ]
}

fn resource_type() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["Patient", "Observation", "Encounter", "Group", "Self", "Type"]).prop_map(str::to_owned),
        2 => "[A-Z][a-zA-Z0-9]{0,10}",
        1 => text(),
    ]
}

fn param_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "_id", "_count", "_lastUpdated", "birthdate", "general-practitioner", "general_practitioner",
            "type", "self", "count", "send", "-encounter", "ah-practice", "patient", "code",
        ]).prop_map(str::to_owned),
        2 => "[a-z_-][a-zA-Z0-9_.-]{0,10}",
        1 => text(),
    ]
}

fn param_type() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.9,
        prop_oneof![
            4 => prop::sample::select(vec!["token", "string", "date", "reference", "number", "quantity", "uri", "composite", "special"]).prop_map(str::to_owned),
            1 => "[a-z]{1,8}",
        ],
    )
}

fn interaction_code() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(ResourceInteraction::ALL.map(|i| i.code()).to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["batch", "teleport", ""]).prop_map(str::to_owned),
        1 => text(),
    ]
}

fn search_param() -> impl Strategy<Value = Value> {
    (param_name(), param_type(), prop::option::of(text())).prop_map(|(name, ty, doc)| {
        let mut p = json!({"name": name});
        if let Some(ty) = ty {
            p["type"] = json!(ty);
        }
        if let Some(doc) = doc {
            p["documentation"] = json!(doc);
        }
        p
    })
}

fn resource() -> impl Strategy<Value = Value> {
    (
        resource_type(),
        prop::collection::vec(interaction_code(), 0..5),
        prop::collection::vec(search_param(), 0..8),
        prop::option::of(text()),
    )
        .prop_map(|(ty, codes, params, doc)| {
            let mut r = json!({
                "type": ty,
                "interaction": codes.into_iter().map(|c| json!({"code": c})).collect::<Vec<_>>(),
                "searchParam": params,
            });
            if let Some(doc) = doc {
                r["documentation"] = json!(doc);
            }
            r
        })
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["1.0.2", "3.0.1", "4.0.1", "4.3.0", "5.0.0"]),
        prop::collection::vec(resource(), 0..6),
        text(),
    )
        .prop_map(|(version, resources, name)| {
            json!({
                "resourceType": if version == "1.0.2" { "Conformance" } else { "CapabilityStatement" },
                "fhirVersion": version,
                "name": name,
                "rest": [{"mode": "server", "resource": resources}],
            })
        })
}

fn plain_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && !fhirforge_model::names::is_keyword(s)
}

/// Counts outcomes across a property's cases, so a property that only ever sees errors (a
/// generator gone wrong, or a reader that refuses everything) fails instead of passing quietly.
#[derive(Default)]
struct Outcomes {
    ok: Cell<u32>,
    err: Cell<u32>,
}

impl Outcomes {
    fn record<T, E>(&self, r: &Result<T, E>) {
        let c = if r.is_ok() { &self.ok } else { &self.err };
        c.set(c.get() + 1);
    }

    /// Both outcomes make up at least `min_percent` of the calls.
    fn assert_mix(&self, what: &str, min_percent: u32) {
        let (ok, err) = (self.ok.get(), self.err.get());
        let total = ok + err;
        assert!(
            ok * 100 >= total * min_percent && err * 100 >= total * min_percent,
            "{what}: {ok} Ok and {err} Err out of {total}; expected at least {min_percent}% of each"
        );
    }
}

/// Raw bytes: arbitrary ones, a generated statement as it is, or with one byte changed.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        statement().prop_map(|doc| doc.to_string().into_bytes()),
        (statement(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(doc, at, b)| {
            let mut bytes = doc.to_string().into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = b;
            bytes
        }),
    ]
}

/// No byte string makes a reader panic; a fair share of them read.
#[test]
fn arbitrary_bytes_never_panic() {
    let json = Outcomes::default();
    let xml = Outcomes::default();
    let mut runner = TestRunner::new(ProptestConfig::with_cases(512));
    runner
        .run(&bytes(), |bytes| {
            json.record(&read_capability_statement(
                &bytes,
                Some(Format::Json),
                &Limits::default(),
            ));
            let as_xml = read_capability_statement(&bytes, Some(Format::Xml), &Limits::default());
            xml.record(&as_xml);
            let _ = fhirforge_parse::read_smart_configuration(&bytes, &Limits::default());
            Ok(())
        })
        .unwrap();
    json.assert_mix("JSON reader on mixed bytes", 10);
    // Nothing in `bytes()` is XML: every call must be refused (and none may panic).
    assert_eq!(xml.ok.get(), 0);
}

/// Cutting a valid statement anywhere gives an error or a statement, never a panic; uncut
/// statements (a third of the cases) still read.
#[test]
fn truncated_statements_never_panic() {
    let json_outcomes = Outcomes::default();
    let xml_outcomes = Outcomes::default();
    let cut = prop_oneof![
        Just(None),
        any::<prop::sample::Index>().prop_map(Some),
        any::<prop::sample::Index>().prop_map(Some)
    ];
    let mut runner = TestRunner::new(ProptestConfig::with_cases(CASES));
    runner
        .run(&(statement(), cut), |(doc, cut)| {
            let json = doc.to_string();
            let at = cut.map_or(json.len(), |c| c.index(json.len()));
            json_outcomes.record(&read_capability_statement(
                &json.as_bytes()[..at],
                Some(Format::Json),
                &Limits::default(),
            ));
            let xml = json_to_xml(&doc);
            let at = cut.map_or(xml.len(), |c| c.index(xml.len()));
            xml_outcomes.record(&read_capability_statement(
                &xml.as_bytes()[..at],
                Some(Format::Xml),
                &Limits::default(),
            ));
            Ok(())
        })
        .unwrap();
    json_outcomes.assert_mix("truncated JSON statements", 15);
    xml_outcomes.assert_mix("truncated XML statements", 15);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Every valid declared (type, interaction) pair and (type, parameter) name reaches the model,
    /// nothing else does, and every Rust name is a plain, unique identifier.
    #[test]
    fn generated_statements_read_exactly(doc in statement()) {
        let parsed = read_capability_statement(doc.to_string().as_bytes(), None, &Limits::default()).unwrap();
        // The independent expectation, from the generated document.
        let mut want_interactions = BTreeSet::new();
        let mut want_params = BTreeSet::new();
        for r in doc["rest"][0]["resource"].as_array().unwrap() {
            let ty = r["type"].as_str().unwrap();
            let valid_type = ty.starts_with(|c: char| c.is_ascii_uppercase())
                && ty.len() <= 64
                && ty.chars().all(|c| c.is_ascii_alphanumeric());
            if !valid_type {
                continue;
            }
            for i in r["interaction"].as_array().unwrap() {
                if let Some(code) = ResourceInteraction::from_code(i["code"].as_str().unwrap()) {
                    want_interactions.insert((ty.to_owned(), code));
                }
            }
            for p in r["searchParam"].as_array().unwrap() {
                let name = p["name"].as_str().unwrap();
                let valid_name = !name.is_empty()
                    && name.len() <= 64
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                    && name.chars().any(|c| c.is_ascii_alphanumeric());
                let typed = p["type"].as_str().is_some_and(|t| !t.trim().is_empty())
                    || fhirforge_parse::core_params::lookup(ty, name).is_some();
                if valid_name && typed {
                    want_params.insert((ty.to_owned(), name.to_owned()));
                }
            }
        }
        let c = &parsed.connector;
        let got_interactions: BTreeSet<(String, ResourceInteraction)> = c.resources.iter()
            .flat_map(|r| r.interactions.iter().map(|i| (r.resource_type.clone(), *i))).collect();
        let got_params: BTreeSet<(String, String)> = c.resources.iter()
            .flat_map(|r| r.search_params.iter().map(|p| (r.resource_type.clone(), p.name.clone()))).collect();
        prop_assert_eq!(got_interactions, want_interactions);
        prop_assert_eq!(got_params, want_params);
        for r in &c.resources {
            prop_assert!(plain_ident(&r.rust_name), "{}", r.rust_name);
            let names: BTreeSet<&str> = r.search_params.iter().map(|p| p.rust_name.as_str()).collect();
            prop_assert_eq!(names.len(), r.search_params.len());
            for p in &r.search_params {
                prop_assert!(plain_ident(&p.rust_name), "{}", p.rust_name);
                // Reserved names are only taken by the result parameters named after their
                // builder method (`_count` is `count`).
                prop_assert!(
                    !fhirforge_model::names::RESERVED_SEARCH_METHODS.contains(&p.rust_name.as_str())
                        || fhirforge_model::names::result_param_method(&p.name) == Some(p.rust_name.as_str()),
                    "{} -> {}", p.name, p.rust_name
                );
            }
        }
        // Output order is deterministic: resources sorted by type.
        let types: Vec<&str> = c.resources.iter().map(|r| r.resource_type.as_str()).collect();
        let mut sorted = types.clone();
        sorted.sort_unstable();
        prop_assert_eq!(types, sorted);
    }

    /// The XML form of a generated statement reads to the same model and the same warnings.
    #[test]
    fn generated_statements_read_the_same_from_xml(doc in statement()) {
        let from_json = read_capability_statement(doc.to_string().as_bytes(), None, &Limits::default()).unwrap();
        let xml = json_to_xml(&doc);
        let from_xml = read_capability_statement(xml.as_bytes(), None, &Limits::default());
        prop_assert!(from_xml.is_ok(), "{:?}\n{}", from_xml, xml);
        prop_assert_eq!(from_xml.unwrap(), from_json);
    }

}
