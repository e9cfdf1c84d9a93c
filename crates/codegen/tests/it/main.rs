//! fhirforge-codegen integration tests, one binary (ripgrep style):
//!
//! * `goldens`: synthetic specs → `tests/output/src/*.rs` (bless with `EXPECTORATE=overwrite`);
//! * `safety`: hostile input never becomes code, paths or broken docs; `--out` rules;
//! * `fresh`: the committed `connectors/*` equal a fresh generation, file for file;
//! * `vendors`: every vendor spec generates; generated crates compile without warnings;
//! * `e2e`: a connector generated from the running hfs server's `/metadata` drives that server.
//! * `e2e_openapi`: a connector generated from an OpenAPI document of hfs's Patient API drives hfs.
//! * `readme`: the README snippet and the connector's example compile with only the connector.
//! * `stub_generic`: generated generic (non-FHIR) operations, checked on the requests the stub recorded.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers panic with the error on failure"
)]

mod e2e;
mod e2e_openapi;
mod fresh;
mod goldens;
mod readme;
mod safety;
mod stub_generic;
mod support;
mod vendors;
