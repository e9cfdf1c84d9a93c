//! Generated generic (non-FHIR) operations on the wire: the connector generated from
//! `specs/openapi-synthetic/gen-generic-operations.yaml` (the golden's input) is built and run
//! against the testkit stub, and the test checks every request the stub recorded: method,
//! path (values percent-encoded inside one segment), query pairs (repeated and comma-joined
//! lists), headers and JSON bodies. No real server serves these proprietary routes, hence the
//! stub.

use crate::support::{load_openapi, root, run_app};
use fhirforge_codegen::{generate_crate, GenerateOptions};
use fhirforge_testkit::stub::{Reply, Stub};
use serde_json::json;

const APP: &str = r#"
use fhirforge_generic_e2e::{Client, ListAllergiesOptions, SelfValueOptions};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args().nth(1).ok_or("usage: e2e-app BASE-URL")?;
    let client = Client::builder(&base).build()?;
    let api = client.api();
    let options = ListAllergiesOptions {
        limit: Some(5),
        active: Some(true),
        min_score: Some(1.5),
        code: Some(vec!["x".into(), "y z".into()]),
        fields: Some(vec!["a".into(), "b".into()]),
        x_request_id: Some("rid-1".into()),
    };
    let listed = api.list_allergies("a/../b", &options).await?;
    assert_eq!(listed["answered"], "GET", "JSON response returned");
    let created = api.create_allergy("p1", "tenant-1", &json!({"note": "x"})).await?;
    assert_eq!(created["answered"], "POST");
    let opts = SelfValueOptions { type_: Some("t".into()), ..Default::default() };
    api.self_("7", "opt", &opts, None).await?;
    #[allow(deprecated)]
    api.fn_panic("9", &[1, 2]).await?;
    api.get_ccda("pat").await?;
    api.get_api_ping().await?;
    api.api().await?;
    // A path value that would walk up the path is refused before anything is sent.
    assert!(api.get_api_ping().await.is_ok());
    let err = api.create_allergy("..", "t", &json!({})).await.expect_err("refused");
    assert!(err.to_string().contains("path parameter"), "{err}");
    println!("fhirforge generic e2e: ok");
    Ok(())
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn stub_generated_generic_operations_put_the_documented_requests_on_the_wire() {
    let stub = Stub::start(|r| match r.method.as_str() {
        "GET" if r.path().ends_with("/allergy") => Reply::json(200, &json!({"answered": "GET"})),
        "POST" => Reply::json(201, &json!({"answered": "POST"})),
        "GET" if r.path().ends_with("/ccda") => Reply::status(200)
            .header("Content-Type", "text/xml")
            .body("<ClinicalDocument/>"),
        _ => Reply::status(204),
    })
    .await;
    let (connector, source) = load_openapi("specs/openapi-synthetic/gen-generic-operations.yaml");
    let options = GenerateOptions {
        name: Some("fhirforge-generic-e2e".into()),
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
    let krate = generate_crate(&connector, &options, &source).unwrap();
    let (ok, stdout, stderr) =
        run_app(&krate, "fhirforge-generic-e2e", APP, &stub.base_url()).await;
    assert!(
        ok && stdout.contains("fhirforge generic e2e: ok"),
        "the program failed:\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let requests = stub.requests();
    let seen: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.target.clone()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("GET", "/apis/default/api/patient/a%2F..%2Fb/allergy?_limit=5&active=true&min_score=1.5&code=x&code=y+z&fields=a%2Cb"),
        ("POST", "/apis/default/api/patient/p1/allergy"),
        ("PUT", "/apis/default/api/items/7?options=opt&type=t"),
        ("DELETE", "/apis/default/api/items/9?tags=1&tags=2"),
        ("GET", "/apis/default/api/ccda?patient=pat"),
        ("GET", "/apis/default/api/ping"),
        ("GET", "/apis/default/api/Api"),
        ("GET", "/apis/default/api/ping"),
    ]
    .iter()
    .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
    .collect();
    assert_eq!(seen, expected);
    assert_eq!(requests[0].header("x-request-id"), Some("rid-1"));
    assert_eq!(requests[0].header("accept"), Some("application/json"));
    assert_eq!(requests[1].header("x-tenant"), Some("tenant-1"));
    assert_eq!(requests[1].header("content-type"), Some("application/json"));
    assert_eq!(requests[1].body_text(), r#"{"note":"x"}"#);
    assert!(requests[2].body.is_empty(), "no body given");
}
