//! The runtime's one integration test binary.
//!
//! * `stub_faults`: faults only an in-process stub can produce (429, dropped connections,
//!   oversized or malformed bodies, cross-origin links); every test name starts with `stub_`.
//! * `stub_bulk`: Bulk Data export faults (polling waits, failed jobs, the token and other
//!   origins, cut downloads, bad lines, expiring tokens, interrupt and resume).
//! * `stub_wire`: what the client puts on the wire (headers, bodies, POST `_search`, logs),
//!   checked on the stub's recorded requests.
//! * `auth`: authentication end to end: oidc-provider + hfs behind the testkit auth gate.
//! * `hfs_crud`, `hfs_search`: end to end against a real FHIR server (hfs), one fresh
//!   in-memory instance per test.
//! * `hfs_bulk`: Bulk Data `$export` end to end against hfs: one seeded server, every export
//!   compared by resource id with what the seed implies.

mod auth;
mod common;
mod generic;
mod hfs_bulk;
mod hfs_crud;
mod hfs_search;
mod stub_bulk;
mod stub_faults;
mod stub_wire;
