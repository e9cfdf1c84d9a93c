//! OpenAPI reader tests: the real documents in `specs/openapi`, the hand-written ones in
//! `specs/openapi-synthetic`, and hostile input.
//!
//! The FHIR-shaped documents are checked against an independent oracle: the raw document loaded
//! with `serde_json`/`serde_norway` straight into a `Value` (not through the reader's loader),
//! walked with string matching on path shapes, with the FHIR base written down by hand.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: an unwrap failing is the test failing"
)]

use fhirforge_model::{
    Connector, HttpMethod, ListStyle, ParamLocation, ResourceInteraction, SearchParamType,
    SimpleType,
};
use fhirforge_parse::openapi::{self, OpenApiParsed, Options, SpecVersion};
use fhirforge_parse::{Error, Limits};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

mod generated;
mod hostile;
mod real;
mod support;
mod synthetic;

use hostile::assert_clean;
use support::*;
