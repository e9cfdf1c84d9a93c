//! What the studio's test binaries share: a studio over a spec, launched on `127.0.0.1:0`.

#![allow(dead_code, reason = "each test binary uses a part")]

use fhirforge_runtime::Client;
use fhirforge_studio::{SourceId, Studio, StudioOptions};
use std::path::PathBuf;

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn epic_bytes() -> Vec<u8> {
    std::fs::read(root().join("specs/vendors/epic-r4-capability.json")).expect("epic spec")
}

/// A running studio: its launch URL, token and port.
pub(crate) struct Running {
    pub(crate) url: String,
    pub(crate) token: String,
    pub(crate) port: u16,
    pub(crate) base: String,
}

/// Starts a studio over `spec` (statement bytes) on a free loopback port.
pub(crate) async fn start(spec: &[u8], options: StudioOptions, client: Option<Client>) -> Running {
    let parsed =
        fhirforge_parse::read_capability_statement(spec, None, &fhirforge_parse::Limits::default())
            .expect("spec parses");
    start_parsed(parsed, spec, options, client).await
}

/// Starts a studio over an already parsed spec (an OpenAPI document, say).
pub(crate) async fn start_parsed(
    parsed: fhirforge_parse::Parsed,
    spec: &[u8],
    options: StudioOptions,
    client: Option<Client>,
) -> Running {
    let source = SourceId {
        name: "spec.json".into(),
        bytes: spec.to_vec(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let launched = Studio::new(parsed, source)
        .with_options(options)
        .with_client(client)
        .launch(listener)
        .expect("launch");
    let url = launched.url().to_owned();
    let token = url
        .rsplit_once("token=")
        .expect("token in url")
        .1
        .to_owned();
    tokio::spawn(launched.serve());
    Running {
        url,
        token,
        port,
        base: format!("http://127.0.0.1:{port}"),
    }
}
