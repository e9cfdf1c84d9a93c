//! Test support for fhirforge: starts the real peers the end-to-end tests talk to, on 127.0.0.1.
//!
//! * [`hfs`]: the Helios FHIR server (a real FHIR R4 server), one fresh in-memory instance per call.
//! * [`stub`]: an in-process HTTP stub for faults a real server cannot be made to produce
//!   (429 with `Retry-After`, dropped connections, oversized or malformed bodies). Tests that use
//!   it say so in their names.
//! * [`oauth`]: the `oidc-provider` authorization server (npm), configured for SMART Backend
//!   Services and client secrets.
//! * [`gate`]: a small reverse proxy that puts bearer or basic authentication in front of hfs.
#![deny(missing_docs)]

pub mod gate;
pub mod hfs;
pub mod oauth;
pub mod stub;
