//! The fhirforge connector model: plain data describing what one EHR's FHIR API offers.
//!
//! Everything downstream of the readers (the generator, the CLI's checks, capability diffs) reads
//! this one shape. It is built by `fhirforge-parse` from a CapabilityStatement (or a DSTU2
//! `Conformance`, or an OpenAPI document) and holds no I/O of its own.
//!
//! Two rules shape every type here:
//!
//! * **Both names are kept.** Every element that becomes a Rust item carries its wire name exactly
//!   as the spec says it (`general-practitioner`) beside a sanitized Rust name
//!   (`general_practitioner`). [`names::assign`] fills every Rust name in one pass (each reader
//!   calls it last); the generator reads these names and only re-checks them with
//!   [`names::check`], so `inspect --json` and the generated code always agree.
//! * **Order is deterministic.** Only `Vec`s in a canonical order are used, never hash maps, so
//!   the same spec always produces the same JSON and the same generated code.
//!
//! ```
//! use fhirforge_model::{SearchParamType, names};
//!
//! assert!(SearchParamType::Date.supports_range());
//! assert_eq!(names::snake_ident("general-practitioner"), "general_practitioner");
//! assert_eq!(names::snake_ident("type"), "type_");
//! ```
#![deny(missing_docs)]

pub mod diff;
pub mod names;
pub mod redact;
pub mod suggest;

mod connector;
mod export;
mod generic;
mod interaction;
mod search;
mod security;

pub use connector::{
    ConditionalDelete, ConditionalRead, Connector, FhirRelease, Operation, Resource, Software,
    SourceKind, SystemCapabilities, Versioning,
};
pub use export::ExportLevel;
pub use generic::{
    GenericBody, GenericOperation, GenericParam, HttpMethod, ListStyle, ParamLocation, SimpleType,
};
pub use interaction::{ResourceInteraction, SystemInteraction};
pub use search::{SearchParam, SearchParamType, RESULT_PARAMETERS};
pub use security::{OAuthEndpoints, Security};
