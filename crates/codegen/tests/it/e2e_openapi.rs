//! End to end from an OpenAPI document: `specs/openapi-synthetic/hfs-patient.json` (written by
//! hand in the style of the Firely fixture, describing hfs's Patient API) generates a connector
//! that creates, reads, updates and searches patients on the real hfs (started by
//! `fhirforge-testkit`). Expected result sets follow from the FHIR search rules and the data the
//! program creates, not from the server's output.

use crate::support::{root, run_app};
use fhirforge_codegen::{generate_crate, GenerateOptions, Source};

/// Four patients with a unique family name, born 1960, 1970, 1980 and 1990; genders alternate;
/// each has an identifier in a test system.
const APP: &str = r#"
use fhirforge_hfs_openapi_e2e::prelude::*;

fn ids(bundle: &Bundle) -> Vec<String> {
    let mut ids: Vec<String> = bundle
        .matches()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args().nth(1).ok_or("usage: e2e-app BASE-URL")?;
    let client = Client::builder(&base).build()?;
    let patients = client.patient();
    let family = "Qzopenapiendtoend";
    let system = "urn:fhirforge:openapi-e2e";
    let births = ["1960-01-10", "1970-05-05", "1980-09-09", "1990-12-12"];
    let mut created = Vec::new();
    for (i, birth) in births.iter().enumerate() {
        let resource = json!({
            "resourceType": "Patient",
            "identifier": [{ "system": system, "value": format!("mrn-{i}") }],
            "name": [{ "family": family, "given": [format!("Given{i}")] }],
            "gender": if i % 2 == 0 { "female" } else { "male" },
            "birthDate": birth,
        });
        let response = patients.create(&resource).await?;
        assert!(response.created(), "create status {}", response.status());
        created.push(response.id().ok_or("create returned no id")?.to_owned());
    }

    // read
    let second = patients.read(&created[1]).await?;
    assert_eq!(second["birthDate"], "1970-05-05", "read");
    assert_eq!(second["name"][0]["given"][0], "Given1", "read");

    // update, then vread of version 1 still has the old value
    let mut changed = second.clone();
    changed["active"] = json!(true);
    patients.update(&created[1], &changed).await?;
    assert_eq!(patients.read(&created[1]).await?["active"], true, "update");
    let v1 = patients.vread(&created[1], "1").await?;
    assert!(v1.get("active").is_none(), "vread of version 1");

    // search: string, date range, token, token with system, and _id
    let all = patients.search().family(Str::from(family)).send().await?;
    assert_eq!(ids(&all), sorted(created.clone()), "search by family");
    let range = patients
        .search()
        .family(Str::from(family))
        .birthdate(Date::between("1965-01-01", "1985-12-31"))
        .send()
        .await?;
    assert_eq!(ids(&range), sorted(vec![created[1].clone(), created[2].clone()]), "birthdate range");
    let before = patients.search().family(Str::from(family)).birthdate(Date::lt("1965-01-01")).send().await?;
    assert_eq!(ids(&before), vec![created[0].clone()], "birthdate lt");
    let female = patients.search().family(Str::from(family)).gender(Token::code("female")).send().await?;
    assert_eq!(ids(&female), sorted(vec![created[0].clone(), created[2].clone()]), "gender");
    let by_identifier = patients.search().identifier(Token::system_code(system, "mrn-3")).send().await?;
    assert_eq!(ids(&by_identifier), vec![created[3].clone()], "identifier");
    let given = patients.search().given(Str::from("Given2")).family(Str::from(family)).send().await?;
    assert_eq!(ids(&given), vec![created[2].clone()], "given");

    println!("fhirforge openapi e2e: ok");
    Ok(())
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn connector_from_openapi_runs_against_the_real_server() {
    let hfs = fhirforge_testkit::hfs::Hfs::start()
        .await
        .expect("start hfs");
    let base = hfs.base_url().to_owned();
    let rel = "specs/openapi-synthetic/hfs-patient.json";
    let bytes = std::fs::read(root().join(rel)).unwrap();
    let read =
        fhirforge_parse::openapi::read(&bytes, &fhirforge_parse::openapi::Options::default())
            .unwrap();
    let connector = read.parsed.connector;
    let patient = connector
        .resource("Patient")
        .expect("Patient from the document");
    for name in ["family", "given", "birthdate", "gender", "identifier"] {
        assert!(patient.search_param(name).is_some(), "{name}");
    }
    let options = GenerateOptions {
        name: Some("fhirforge-hfs-openapi-e2e".into()),
        runtime_path: Some(
            root()
                .join("crates/runtime")
                .canonicalize()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        ),
        ..Default::default()
    };
    let krate = generate_crate(
        &connector,
        &options,
        &Source::new("hfs-patient.json", &bytes),
    )
    .unwrap();
    // The server the test started, not the document's fixed port 8080.
    let (ok, stdout, stderr) = run_app(&krate, "fhirforge-hfs-openapi-e2e", APP, &base).await;
    assert!(
        ok && stdout.contains("fhirforge openapi e2e: ok"),
        "the program failed:\nstdout:\n{stdout}\nstderr:\n{stderr}\nhfs log:\n{}",
        hfs.log()
    );
}
