//! Integration tests of the capability-statement readers: one test binary, one module per concern.
//!
//! * `vendors`: every real statement in `specs/vendors`, checked against counts taken from the
//!   raw JSON independently of the reader; SMART configurations.
//! * `xml`: JSON and XML forms of the same statement give the same model.
//! * `hostile`: hostile and broken inputs end in a warning or a clear error, never a panic.
//! * `adversarial`: the worst inputs of the security review (sizes that used to hang the readers).
//! * `findings`: review findings about meaning (`name:modifier` entries, path typos).
//! * `props`: property tests on the readers.
//! * `live`: `<base>/metadata` from the real hfs FHIR server, and a stub for what hfs cannot do.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a failed unwrap is a failed test"
)]

mod adversarial;
mod findings;
mod hostile;
mod live;
mod props;
mod releases;
mod support;
mod vendors;
mod xml;
