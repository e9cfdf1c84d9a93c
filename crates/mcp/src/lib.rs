//! `fhirforge mcp`: an EHR's declared FHIR capabilities as Model Context Protocol tools.
//!
//! The tools come from the connector model (a CapabilityStatement or OpenAPI document read by
//! `fhirforge-parse`): `search_Patient` with one typed JSON-Schema property per declared search
//! parameter, `read_Patient`, history and declared operations, and, only with
//! [`Options::write`], the declared create/update/patch/delete. Every call goes through the
//! runtime client (auth, retries, errors) and the runtime's search encoding; results are
//! bounded and summarized; every call is logged without values.
//!
//! * [`tools`]: derivation, pure (model → names, descriptions, schemas);
//! * [`server`]: the `rmcp` handler and the stdio transport;
//! * [`http`]: streamable HTTP on loopback with a bearer token.
//!
//! ```
//! use fhirforge_mcp::tools::{Catalog, Options};
//! # let statement = br#"{"resourceType": "CapabilityStatement", "status": "active",
//! #   "date": "2026-01-01", "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
//! #   "rest": [{"mode": "server", "resource": [{"type": "Patient",
//! #     "interaction": [{"code": "read"}, {"code": "search-type"}],
//! #     "searchParam": [{"name": "birthdate", "type": "date"}]}]}]}"#;
//! let connector = fhirforge_parse::read_capability_statement(statement, None, &Default::default())?
//!     .connector;
//! let catalog = Catalog::new(connector, Options::default())?;
//! let names: Vec<&str> = catalog.tools().iter().map(|t| t.name.as_str()).collect();
//! assert_eq!(names, ["search_Patient", "read_Patient"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod args;
mod error;
pub mod exec;
pub mod http;
pub mod log;
pub mod server;
pub mod tools;

pub use error::Error;
pub use server::{Config, FhirMcp, Statement};
pub use tools::{Catalog, Options};
