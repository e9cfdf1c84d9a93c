//! The search oracle (shared/peers.md): a fresh hfs seeded with five patients, four
//! Observations and three RiskAssessments; every expected result set below follows from the FHIR
//! R4 search specification and the seed data, not from the server's output.
//!
//! Seed (birth dates over 1965–1985, one patient without an identifier):
//!
//! | key | family    | given | birthDate  | gender | identifier                                   |
//! |-----|-----------|-------|------------|--------|----------------------------------------------|
//! | p1  | Smith     | John  | 1965-03-15 | male   | urn:fhirforge:mrn\|1001                      |
//! | p2  | Smith     | Jane  | 1970-06-01 | female | urn:fhirforge:mrn\|1002                      |
//! | p3  | Smithson  | Sam   | 1975-12-31 | male   | urn:other\|1003                              |
//! | p4  | Jones     | Ann   | 1980-01-01 | female | urn:fhirforge:mrn\|1004 and (no system) X-4  |
//! | p5  | Goldsmith | Gail  | 1985-07-20 | other  | none                                         |
//!
//! | key | subject | code (LOINC)        | valueQuantity | effective  |
//! |-----|---------|---------------------|---------------|------------|
//! | o1  | p1      | 8867-4 heart rate   | 72 /min       | 2020-01-01 |
//! | o2  | p2      | 8867-4 heart rate   | 100 /min      | 2020-06-15 |
//! | o3  | p1      | 29463-7 body weight | 80 kg         | 2021-01-01 |
//! | o4  | p4      | 29463-7 body weight | 100 kg        | 2022-03-03 |
//!
//! RiskAssessments r1, r2, r3 (subject p1) with `prediction.probabilityDecimal` 0.2, 0.5, 0.8.

use std::collections::{BTreeMap, BTreeSet};

use fhirforge_runtime::search::{
    Bound, Date, DateValue, Number, NumberValue, Quantity, QuantityValue, Reference, SearchParams,
    SearchValue, Str, Token,
};
use fhirforge_runtime::{Bundle, Client};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::common::hfs_client;

const UCUM: &str = "http://unitsofmeasure.org";

/// Seed key (`p1`, `o3`, ...) ↔ server id.
struct Seeded {
    ids: BTreeMap<String, String>,
}

impl Seeded {
    fn keys_of(&self, bundle_ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
        bundle_ids
            .into_iter()
            .map(|id| {
                self.ids
                    .iter()
                    .find(|(_, v)| **v == id)
                    .map(|(k, _)| k.clone())
                    .unwrap_or_else(|| format!("unknown:{id}"))
            })
            .collect()
    }

    fn id(&self, key: &str) -> &str {
        &self.ids[key]
    }
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

fn patient(
    family: &str,
    given: &str,
    birth: &str,
    gender: &str,
    ids: &[(Option<&str>, &str)],
) -> Value {
    let mut p = json!({
        "resourceType": "Patient",
        "name": [{"family": family, "given": [given]}],
        "birthDate": birth,
        "gender": gender,
    });
    if !ids.is_empty() {
        p["identifier"] = ids
            .iter()
            .map(|(system, value)| match system {
                Some(s) => json!({"system": s, "value": value}),
                None => json!({"value": value}),
            })
            .collect();
    }
    p
}

fn observation(subject: &str, code: &str, value: f64, unit: &str, date: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": format!("Patient/{subject}")},
        "effectiveDateTime": date,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}
    })
}

async fn seed(client: &Client) -> Seeded {
    let mut ids = BTreeMap::new();
    let mrn = Some("urn:fhirforge:mrn");
    let patients = [
        (
            "p1",
            patient("Smith", "John", "1965-03-15", "male", &[(mrn, "1001")]),
        ),
        (
            "p2",
            patient("Smith", "Jane", "1970-06-01", "female", &[(mrn, "1002")]),
        ),
        (
            "p3",
            patient(
                "Smithson",
                "Sam",
                "1975-12-31",
                "male",
                &[(Some("urn:other"), "1003")],
            ),
        ),
        (
            "p4",
            patient(
                "Jones",
                "Ann",
                "1980-01-01",
                "female",
                &[(mrn, "1004"), (None, "X-4")],
            ),
        ),
        (
            "p5",
            patient("Goldsmith", "Gail", "1985-07-20", "other", &[]),
        ),
    ];
    for (key, body) in patients {
        let created = client.create("Patient", &body).await.expect("seed patient");
        ids.insert(key.to_owned(), created.id().expect("id").to_owned());
    }
    let observations = [
        ("o1", "p1", "8867-4", 72.0, "/min", "2020-01-01T10:00:00Z"),
        ("o2", "p2", "8867-4", 100.0, "/min", "2020-06-15T10:00:00Z"),
        ("o3", "p1", "29463-7", 80.0, "kg", "2021-01-01T10:00:00Z"),
        ("o4", "p4", "29463-7", 100.0, "kg", "2022-03-03T10:00:00Z"),
    ];
    for (key, subject, code, value, unit, date) in observations {
        let body = observation(&ids[subject], code, value, unit, date);
        let created = client
            .create("Observation", &body)
            .await
            .expect("seed observation");
        ids.insert(key.to_owned(), created.id().expect("id").to_owned());
    }
    for (key, p) in [("r1", 0.2), ("r2", 0.5), ("r3", 0.8)] {
        let body = json!({
            "resourceType": "RiskAssessment",
            "status": "final",
            "subject": {"reference": format!("Patient/{}", ids["p1"])},
            "prediction": [{"probabilityDecimal": p}]
        });
        let created = client
            .create("RiskAssessment", &body)
            .await
            .expect("seed risk");
        ids.insert(key.to_owned(), created.id().expect("id").to_owned());
    }
    Seeded { ids }
}

fn match_ids(bundle: &Bundle) -> Vec<String> {
    bundle
        .matches()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

fn include_ids(bundle: &Bundle) -> Vec<String> {
    bundle
        .includes()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect()
}

/// Runs a search with one typed parameter (strict handling: unknown parameters are errors) and
/// returns the seed keys of all matches over all pages.
async fn keys(
    client: &Client,
    seeded: &Seeded,
    resource: &str,
    name: &str,
    value: impl SearchValue,
) -> BTreeSet<String> {
    let mut params = SearchParams::new();
    params.push(name, value);
    keys_for(client, seeded, resource, params).await
}

async fn keys_for(
    client: &Client,
    seeded: &Seeded,
    resource: &str,
    params: SearchParams,
) -> BTreeSet<String> {
    let query = params.to_query_string().expect("valid query");
    let ids: Vec<String> = client
        .search(resource, params)
        .resources()
        .map_ok(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{resource}?{query}: {e}"));
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{resource}?{query} repeated a resource"
    );
    seeded.keys_of(ids)
}

macro_rules! check {
    ($client:expr, $seeded:expr, $resource:expr, $name:expr, $value:expr, [$($key:expr),*]) => {{
        let value = $value;
        let mut params = SearchParams::new();
        params.push($name, value.clone());
        let query = params.to_query_string().expect("valid");
        let got = keys($client, $seeded, $resource, $name, value).await;
        assert_eq!(got, set(&[$($key),*]), "{}?{}", $resource, query);
    }};
}

#[tokio::test]
async fn hfs_dates_by_value_with_every_prefix_and_by_range() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    let c = &client;
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::from("1970-06-01"),
        ["p2"]
    );
    check!(c, &s, "Patient", "birthdate", Date::eq("1970"), ["p2"]);
    check!(c, &s, "Patient", "birthdate", Date::eq("1975-12"), ["p3"]);
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::ne("1970-06-01"),
        ["p1", "p3", "p4", "p5"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::gt("1975-12-31"),
        ["p4", "p5"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::ge("1975-12-31"),
        ["p3", "p4", "p5"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::lt("1970-06-01"),
        ["p1"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::le("1970-06-01"),
        ["p1", "p2"]
    );
    // sa/eb compare against the whole year 1975: p3 (1975-12-31) is inside it.
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::sa("1975"),
        ["p4", "p5"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::eb("1975"),
        ["p1", "p2"]
    );
    // ap is "approximately" (server-defined, ~10% of the distance to now): only sure cases.
    let ap = keys(c, &s, "Patient", "birthdate", Date::ap("1980-01-01")).await;
    assert!(
        ap.contains("p4") && !ap.contains("p1"),
        "ap1980-01-01 gave {ap:?}"
    );
    // OR of two values.
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::from("1965-03-15").or(Date::from("1985-07-20")),
        ["p1", "p5"]
    );

    // Ranges: both ends inclusive, both exclusive, and open on one side.
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::between("1970", "1980-01-01"),
        ["p2", "p3", "p4"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::range(
            Bound::exclusive("1970-06-01"),
            Bound::exclusive("1980-01-01")
        ),
        ["p3"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::range(Bound::<DateValue>::Unbounded, Bound::exclusive("1970")),
        ["p1"]
    );
    check!(
        c,
        &s,
        "Patient",
        "birthdate",
        Date::range(Bound::inclusive("1980"), Bound::<DateValue>::Unbounded),
        ["p4", "p5"]
    );
    // dateTime on Observation.effective.
    check!(
        c,
        &s,
        "Observation",
        "date",
        Date::ge("2021-01-01T00:00:00Z"),
        ["o3", "o4"]
    );
    check!(c, &s, "Observation", "date", Date::lt("2020-06"), ["o1"]);
}

#[tokio::test]
async fn hfs_quantities_and_numbers_with_every_prefix_and_by_range() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    let c = &client;
    let vq = "value-quantity";
    check!(c, &s, "Observation", vq, Quantity::new(100), ["o2", "o4"]);
    check!(
        c,
        &s,
        "Observation",
        vq,
        Quantity::eq(100).with_unit(UCUM, "kg"),
        ["o4"]
    );
    check!(c, &s, "Observation", vq, Quantity::ne(100), ["o1", "o3"]);
    check!(
        c,
        &s,
        "Observation",
        vq,
        Quantity::gt(75),
        ["o2", "o3", "o4"]
    );
    check!(
        c,
        &s,
        "Observation",
        vq,
        Quantity::gt(75).with_unit(UCUM, "/min"),
        ["o2"]
    );
    check!(c, &s, "Observation", vq, Quantity::ge(100), ["o2", "o4"]);
    check!(c, &s, "Observation", vq, Quantity::lt(80), ["o1"]);
    check!(c, &s, "Observation", vq, Quantity::le(80), ["o1", "o3"]);
    check!(c, &s, "Observation", vq, Quantity::sa(80), ["o2", "o4"]);
    check!(c, &s, "Observation", vq, Quantity::eb(80), ["o1"]);
    let ap = keys(c, &s, "Observation", vq, Quantity::ap(100)).await;
    assert!(
        ap.contains("o2") && ap.contains("o4") && !ap.contains("o1"),
        "ap100 gave {ap:?}"
    );
    check!(
        c,
        &s,
        "Observation",
        vq,
        Quantity::between(70, 90),
        ["o1", "o3"]
    );
    check!(
        c,
        &s,
        "Observation",
        vq,
        Quantity::range(Bound::exclusive(72), Bound::<QuantityValue>::Unbounded),
        ["o2", "o3", "o4"]
    );

    let prob = "probability";
    check!(c, &s, "RiskAssessment", prob, Number::new(0.5), ["r2"]);
    check!(c, &s, "RiskAssessment", prob, Number::ne(0.5), ["r1", "r3"]);
    check!(c, &s, "RiskAssessment", prob, Number::gt(0.5), ["r3"]);
    check!(c, &s, "RiskAssessment", prob, Number::ge(0.5), ["r2", "r3"]);
    check!(c, &s, "RiskAssessment", prob, Number::lt(0.5), ["r1"]);
    check!(c, &s, "RiskAssessment", prob, Number::le(0.5), ["r1", "r2"]);
    check!(c, &s, "RiskAssessment", prob, Number::sa(0.5), ["r3"]);
    check!(c, &s, "RiskAssessment", prob, Number::eb(0.5), ["r1"]);
    let ap = keys(c, &s, "RiskAssessment", prob, Number::ap(0.8)).await;
    assert!(ap.contains("r3") && !ap.contains("r1"), "ap0.8 gave {ap:?}");
    check!(
        c,
        &s,
        "RiskAssessment",
        prob,
        Number::between(0.2, 0.5),
        ["r1", "r2"]
    );
    check!(
        c,
        &s,
        "RiskAssessment",
        prob,
        Number::range(Bound::exclusive(0.2), Bound::<NumberValue>::exclusive(0.8)),
        ["r2"]
    );
}

#[tokio::test]
async fn hfs_string_default_exact_contains_and_or() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    let c = &client;
    // Default: starts with, case- and accent-insensitive.
    check!(
        c,
        &s,
        "Patient",
        "family",
        Str::from("smith"),
        ["p1", "p2", "p3"]
    );
    check!(
        c,
        &s,
        "Patient",
        "family",
        Str::exact("Smith"),
        ["p1", "p2"]
    );
    check!(c, &s, "Patient", "family", Str::exact("smith"), []);
    check!(
        c,
        &s,
        "Patient",
        "family",
        Str::contains("smith"),
        ["p1", "p2", "p3", "p5"]
    );
    check!(
        c,
        &s,
        "Patient",
        "family",
        Str::from("Smiths").or(Str::from("jones")),
        ["p3", "p4"]
    );
    check!(c, &s, "Patient", "name", Str::from("Jane"), ["p2"]);
    // AND by repetition.
    let mut both = SearchParams::new();
    both.push("family", Str::from("smith"));
    both.push("given", Str::from("jo"));
    assert_eq!(keys_for(c, &s, "Patient", both).await, set(&["p1"]));
}

#[tokio::test]
async fn hfs_every_token_form() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    let c = &client;
    let mrn = "urn:fhirforge:mrn";
    check!(
        c,
        &s,
        "Patient",
        "identifier",
        Token::system_code(mrn, "1001"),
        ["p1"]
    );
    check!(c, &s, "Patient", "identifier", Token::code("1003"), ["p3"]);
    check!(
        c,
        &s,
        "Patient",
        "identifier",
        Token::system(mrn),
        ["p1", "p2", "p4"]
    );
    check!(
        c,
        &s,
        "Patient",
        "identifier",
        Token::no_system("X-4"),
        ["p4"]
    );
    check!(c, &s, "Patient", "identifier", Token::no_system("1001"), []);
    check!(
        c,
        &s,
        "Patient",
        "identifier",
        Token::system_code(mrn, "1003"),
        []
    );
    check!(
        c,
        &s,
        "Patient",
        "identifier",
        Token::system_code(mrn, "1001").or(Token::code("1003")),
        ["p1", "p3"]
    );
    check!(
        c,
        &s,
        "Patient",
        "gender",
        Token::code("male").not(),
        ["p2", "p4", "p5"]
    );
    check!(c, &s, "Patient", "identifier", Token::missing(true), ["p5"]);
    check!(
        c,
        &s,
        "Patient",
        "identifier",
        Token::missing(false),
        ["p1", "p2", "p3", "p4"]
    );
    // CodeableConcept.
    check!(
        c,
        &s,
        "Observation",
        "code",
        Token::system_code("http://loinc.org", "8867-4"),
        ["o1", "o2"]
    );
    check!(
        c,
        &s,
        "Observation",
        "code",
        Token::code("29463-7"),
        ["o3", "o4"]
    );
}

#[tokio::test]
async fn hfs_references_chains_include_and_revinclude() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    let c = &client;
    check!(
        c,
        &s,
        "Observation",
        "subject",
        Reference::typed("Patient", s.id("p1")),
        ["o1", "o3"]
    );
    check!(
        c,
        &s,
        "Observation",
        "patient",
        Reference::id(s.id("p4")),
        ["o4"]
    );
    check!(
        c,
        &s,
        "Observation",
        "subject:Patient.family",
        Str::from("Jones"),
        ["o4"]
    );

    let mut params = SearchParams::new();
    params.push("code", Token::code("8867-4"));
    params.include("Observation:subject");
    let page = c
        .search("Observation", params)
        .send()
        .await
        .expect("include");
    assert_eq!(s.keys_of(match_ids(&page)), set(&["o1", "o2"]));
    assert_eq!(s.keys_of(include_ids(&page)), set(&["p1", "p2"]));

    let mut params = SearchParams::new();
    params.raw("_id", s.id("p1"));
    params.rev_include("Observation:subject");
    let page = c
        .search("Patient", params)
        .send()
        .await
        .expect("revinclude");
    assert_eq!(s.keys_of(match_ids(&page)), set(&["p1"]));
    assert_eq!(s.keys_of(include_ids(&page)), set(&["o1", "o3"]));
}

#[tokio::test]
async fn hfs_paging_over_many_pages_loses_and_repeats_nothing() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    // 5 seeded + 20 more patients, 4 per page: 7 pages.
    let entries: Vec<Value> = (0..20)
        .map(|i| {
            json!({"resource": patient(&format!("Bulk{i:02}"), "B", "1990-01-01", "unknown", &[]),
                   "request": {"method": "POST", "url": "Patient"}})
        })
        .collect();
    client
        .transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
        .await
        .expect("bulk create");

    let mut params = SearchParams::new();
    params.count(4);
    let pages: Vec<Bundle> = client
        .search("Patient", params.clone())
        .pages()
        .try_collect()
        .await
        .expect("pages");
    assert!(pages.len() >= 3, "{} pages", pages.len());
    assert_eq!(pages.len(), 7);
    assert!(pages.iter().all(|p| p.matches().count() <= 4));
    let ids: Vec<String> = pages.iter().flat_map(match_ids).collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 25, "no resource lost");
    assert_eq!(unique.len(), 25, "no resource repeated");
    for key in ["p1", "p2", "p3", "p4", "p5"] {
        assert!(ids.iter().any(|id| id == s.id(key)), "{key} missing");
    }

    // The same through resources(), sorted by family, and stopping early at a limit.
    let mut sorted = params.clone();
    sorted.sort("family");
    let families: Vec<String> = client
        .search("Patient", sorted)
        .resources()
        .map_ok(|r| {
            r["name"][0]["family"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .try_collect()
        .await
        .expect("resources");
    let mut expected = families.clone();
    expected.sort();
    assert_eq!(families, expected, "_sort=family holds across pages");
    let first_ten: Vec<Value> = client
        .search("Patient", params)
        .max_resources(10)
        .resources()
        .try_collect()
        .await
        .expect("limited");
    assert_eq!(first_ten.len(), 10);
}

#[tokio::test]
async fn hfs_search_by_post_matches_get() {
    let (_hfs, client) = hfs_client().await;
    let s = seed(&client).await;
    let mut params = SearchParams::new();
    params.push("family", Str::from("smith"));
    params.push("birthdate", Date::ge("1970"));
    let get = client
        .search("Patient", params.clone())
        .send()
        .await
        .expect("GET");
    let post = client
        .search("Patient", params)
        .post(true)
        .send()
        .await
        .expect("POST");
    assert_eq!(s.keys_of(match_ids(&get)), set(&["p2", "p3"]));
    assert_eq!(s.keys_of(match_ids(&post)), set(&["p2", "p3"]));
}
