//! End to end against the real FHIR server (hfs, started by `fhirforge-testkit`): generate a
//! connector from the running server's own `/metadata`, build it, and run a program with it that
//! creates, reads, updates and deletes patients, searches by value and by range on a date, adds
//! a modifier parameter with `.param(..)`, pages through results and through a resource's
//! history. The program asserts each
//! expected result set (derived from the FHIR search rules, not from the server's output) and
//! the test checks that it printed its final line.

use crate::support::{root, run_app};
use fhirforge_codegen::{generate_crate, GenerateOptions, Source};

/// The program run against the server with the generated crate. Five patients share a unique
/// family name, born 1965, 1970, 1975, 1980 and 1985.
const APP: &str = r#"
// The connector alone: its prelude has the search values, `SearchBuilder`, `json!` and the
// stream extension traits.
use fhirforge_hfs_e2e::prelude::*;

fn ids(bundle: &Bundle) -> Vec<String> {
    let mut ids: Vec<String> = bundle
        .matches()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args().nth(1).ok_or("usage: e2e-app BASE-URL")?;
    let client = Client::builder(&base).build()?;
    let patients = client.patient();
    let family = "Qzfhirforgeendtoend";
    let births = ["1965-03-01", "1970-06-15", "1975-01-20", "1980-12-31", "1985-07-04"];
    let mut created = Vec::new();
    for (i, birth) in births.iter().enumerate() {
        let resource = json!({
            "resourceType": "Patient",
            "name": [{ "family": family, "given": [format!("P{i}")] }],
            "birthDate": birth,
        });
        let response = patients.create(&resource).await?;
        created.push(response.id().ok_or("create returned no id")?.to_owned());
    }

    // read
    let first = patients.read(&created[0]).await?;
    assert_eq!(first["birthDate"], "1965-03-01", "read");

    // update
    let mut changed = first.clone();
    changed["gender"] = json!("female");
    patients.update(&created[0], &changed).await?;
    assert_eq!(patients.read(&created[0]).await?["gender"], "female", "update");

    // history, paged: two versions, one per page, every one reached
    let mut history = patients.history_instance(&created[0]);
    history.params_mut().count(1);
    let versions: Vec<_> = history.resources().try_collect().await?;
    let mut version_ids: Vec<&str> = versions
        .iter()
        .filter_map(|v| v["meta"]["versionId"].as_str())
        .collect();
    version_ids.sort();
    assert_eq!(version_ids, ["1", "2"], "history of every version");

    // search by value (eq on a date) and by range (two AND-ed bounds)
    let by_value = patients.search().family(Str::from(family)).birthdate(Date::eq("1970-06-15")).send().await?;
    assert_eq!(ids(&by_value), vec![created[1].clone()], "search by value");
    let by_range = patients
        .search()
        .family(Str::from(family))
        .birthdate(Date::between("1970-01-01", "1980-12-31"))
        .send()
        .await?;
    let mut expected = vec![created[1].clone(), created[2].clone(), created[3].clone()];
    expected.sort();
    assert_eq!(ids(&by_range), expected, "search by range");
    let before = patients.search().family(Str::from(family)).birthdate(Date::lt("1970-01-01")).send().await?;
    assert_eq!(ids(&before), vec![created[0].clone()], "search with a prefix");

    // an additional parameter with a modifier the builder has no method for
    let exact = patients.search().param("family:exact", family).send().await?;
    assert_eq!(ids(&exact).len(), 5, "family:exact");
    let not_exact = patients.search().param("family:exact", &family[..6]).send().await?;
    assert_eq!(ids(&not_exact).len(), 0, "family:exact on a prefix");

    // paging: five matches, two per page, no loss or repeat
    let mut pages = std::pin::pin!(patients.search().family(Str::from(family)).count(2).pages());
    let (mut seen, mut page_count) = (Vec::new(), 0);
    while let Some(page) = pages.next().await {
        seen.extend(ids(&page?));
        page_count += 1;
    }
    seen.sort();
    let mut all = created.clone();
    all.sort();
    assert_eq!(seen, all, "paging");
    assert_eq!(page_count, 3, "pages of two");

    // delete: afterwards the read fails (410 Gone or 404)
    patients.delete(&created[4]).await?;
    let gone = patients.read(&created[4]).await;
    assert!(gone.is_err(), "read after delete");
    let left = patients.search().family(Str::from(family)).send().await?;
    assert_eq!(ids(&left).len(), 4, "search after delete");

    println!("fhirforge e2e: ok");
    Ok(())
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn generated_connector_runs_against_the_real_server() {
    let hfs = fhirforge_testkit::hfs::Hfs::start()
        .await
        .expect("start hfs");
    let base = hfs.base_url().to_owned();
    let parsed = fhirforge_parse::fetch::fetch_capability_statement(
        &base,
        &fhirforge_parse::Limits::default(),
    )
    .await
    .expect("read the server's /metadata");
    let model = serde_json::to_vec(&parsed.connector).unwrap();
    let source = Source::new("hfs-metadata", &model);
    let runtime = root().join("crates/runtime").canonicalize().unwrap();
    let options = GenerateOptions {
        name: Some("fhirforge-hfs-e2e".into()),
        runtime_path: Some(runtime.to_string_lossy().into_owned()),
        // The server declares ~150 types; two keep the build short. Everything else is as declared.
        include_resources: vec!["Patient".into(), "Observation".into()],
        ..Default::default()
    };
    let krate = generate_crate(&parsed.connector, &options, &source).unwrap();

    let (ok, stdout, stderr) = run_app(&krate, "fhirforge-hfs-e2e", APP, &base).await;
    assert!(
        ok && stdout.contains("fhirforge e2e: ok"),
        "the program failed:\nstdout:\n{stdout}\nstderr:\n{stderr}\nhfs log:\n{}",
        hfs.log()
    );
}
