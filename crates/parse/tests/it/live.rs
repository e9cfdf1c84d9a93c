//! Live reading of `<base>/metadata`: from the real hfs FHIR server, and from the testkit stub for
//! what hfs cannot do (answer only XML, send oversized bodies).

use crate::support::specs;
use fhirforge_model::{ResourceInteraction, SearchParamType, SourceKind};
use fhirforge_parse::fetch::{fetch_capability_statement, fetch_smart_configuration};
use fhirforge_parse::{Error, Limits};
use fhirforge_testkit::hfs::Hfs;
use fhirforge_testkit::stub::{Reply, Stub};

#[tokio::test]
async fn hfs_metadata_reads_live() {
    let hfs = Hfs::start().await.unwrap();
    let parsed = fetch_capability_statement(hfs.base_url(), &Limits::default())
        .await
        .unwrap();
    let c = &parsed.connector;
    assert_eq!(c.fhir_version, "4.0.1");
    assert!(c.resources.len() > 100, "{} resources", c.resources.len());
    let patient = c.resource("Patient").unwrap();
    assert!(patient.supports(ResourceInteraction::Read));
    assert!(patient.supports(ResourceInteraction::SearchType));
    assert!(patient.supports(ResourceInteraction::Create));
    let birthdate = patient.search_param("birthdate").unwrap();
    assert_eq!(birthdate.param_type, SearchParamType::Date);
    assert!(birthdate.range);
    // The same document fetched by hand reads to the same model (the fetch path adds nothing).
    let raw = reqwest::get(format!("{}/metadata", hfs.base_url()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut direct =
        fhirforge_parse::read_capability_statement(&raw, None, &Limits::default()).unwrap();
    // The only difference is where the document came from.
    assert_eq!(parsed.connector.source_kind, SourceKind::LiveMetadata);
    assert_eq!(
        direct.connector.source_kind,
        SourceKind::CapabilityStatement
    );
    direct.connector.source_kind = SourceKind::LiveMetadata;
    assert_eq!(direct, parsed);
    // hfs serves a SMART configuration but has no authorization server of its own: the
    // document reads, without a token endpoint, and says so in a warning.
    let smart = fetch_smart_configuration(hfs.base_url(), &Limits::default())
        .await
        .unwrap();
    assert_eq!(smart.configuration.token_endpoint, None);
    assert!(smart
        .warnings
        .iter()
        .any(|w| w.pointer == "smart-configuration#/token_endpoint"));
    // A path that is not a FHIR endpoint is a clear HTTP status error.
    match fetch_capability_statement(
        &format!("{}/no/such/base", hfs.base_url()),
        &Limits::default(),
    )
    .await
    {
        Err(Error::HttpStatus { status, .. }) => assert!(status >= 400, "{status}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn stub_xml_only_server_gets_the_xml_fallback() {
    let xml = std::fs::read(specs().join("synthetic/r4b-capability.xml")).unwrap();
    let stub = Stub::start(move |req| {
        if req.header("accept").is_some_and(|a| a.contains("json")) {
            Reply::status(406)
        } else {
            Reply::status(200)
                .header("Content-Type", "application/fhir+xml")
                .body(xml.clone())
        }
    })
    .await;
    let parsed =
        fetch_capability_statement(&format!("{}/fhir/", stub.base_url()), &Limits::default())
            .await
            .unwrap();
    assert_eq!(parsed.connector.name, "Synthetic R4B");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path(), "/fhir/metadata");
    assert_eq!(requests[0].header("accept"), Some("application/fhir+json"));
    assert_eq!(requests[1].header("accept"), Some("application/fhir+xml"));
}

#[tokio::test]
async fn stub_oversized_bodies_are_refused() {
    // Content-Length over the limit: refused before the body is read.
    let body = vec![b' '; 4096];
    let stub = Stub::start(move |_| {
        Reply::status(200)
            .header("Content-Type", "application/fhir+json")
            .body(body.clone())
    })
    .await;
    let limits = Limits {
        max_bytes: 1024,
        ..Limits::default()
    };
    match fetch_capability_statement(&stub.base_url(), &limits).await {
        Err(Error::TooLarge {
            size: Some(4096),
            limit: 1024,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // No Content-Length (body until close): cut off while streaming.
    let mut raw =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nConnection: close\r\n\r\n"
            .to_vec();
    raw.extend(std::iter::repeat_n(b' ', 64 * 1024));
    let stub = Stub::start(move |_| Reply::Raw(raw.clone())).await;
    match fetch_capability_statement(&stub.base_url(), &limits).await {
        Err(Error::TooLarge {
            size: None,
            limit: 1024,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn stub_errors_are_classified_and_urls_redacted() {
    let stub = Stub::start(|_| Reply::status(500)).await;
    let base = stub.base_url().replace("http://", "http://user:pw@") + "/r4?secret=1";
    let err = fetch_capability_statement(&base, &Limits::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(err.category(), fhirforge_parse::ErrorCategory::Io);
    let text = err.to_string();
    assert!(!text.contains("pw") && !text.contains("secret"), "{text}");
    // A SMART configuration served by the stub, fetched from its base URL.
    let smart = std::fs::read(specs().join("vendors/epic-r4-smart-configuration.json")).unwrap();
    let stub = Stub::start(move |req| {
        if req.path() == "/api/FHIR/R4/.well-known/smart-configuration" {
            Reply::status(200)
                .header("Content-Type", "application/json")
                .body(smart.clone())
        } else {
            Reply::status(404)
        }
    })
    .await;
    let config = fetch_smart_configuration(
        &format!("{}/api/FHIR/R4", stub.base_url()),
        &Limits::default(),
    )
    .await
    .unwrap();
    assert_eq!(config.configuration.capabilities.len(), 17);
}
