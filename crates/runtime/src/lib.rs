//! The async FHIR R4 client runtime behind fhirforge-generated connectors.
//!
//! Generated connectors hold names, types and docs; everything that behaves the same for every
//! EHR lives here:
//!
//! * [`Client`]: configuration ([`ClientBuilder`]: auth, timeouts, user agent, [`RetryPolicy`],
//!   maximum response size, default headers, an injectable `reqwest::Client`) and every RESTful
//!   interaction: capabilities, read, vread, create (conditional with `If-None-Exist`), update
//!   (`If-Match`, conditional), JSON Patch, delete (conditional), history, search by GET or POST
//!   `_search`, batch, transaction and `$operations`; [`Client::request`] for non-FHIR routes
//!   of OpenAPI-described APIs ([`generic`]).
//! * [`search`]: typed search values with the exact FHIR encoding.
//! * [`Bundle`]: a view splitting search results into matches, includes and outcomes;
//!   [`SearchRequest::pages`] and [`SearchRequest::resources`] page lazily as `Stream`s,
//!   refusing `next` links to other origins, and a [`PageCursor`] resumes a paged read later.
//! * [`bulk`]: Bulk Data `$export` at system, `Patient` and `Group` level: kick-off, polling,
//!   the manifest, and streamed, resumable, checked downloads with the token kept on the
//!   FHIR server's origin.
//! * [`Error`]: one `#[non_exhaustive]` enum with the server's [`OperationOutcome`], split by
//!   whether the request was sent; no secret ever reaches it.
//! * Retries repeat only what is safe to repeat (see [`RetryPolicy`]); time is injected through
//!   [`time::Clock`] and [`time::Sleep`].
//! * Logs go through `tracing`: method, path, status and latency, with query values hidden unless
//!   [`ClientBuilder::log_query_values`] is set; never bodies or `Authorization`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fhirforge_runtime::Error> {
//! use fhirforge_runtime::search::SearchParams;
//! use fhirforge_runtime::Client;
//! use futures::TryStreamExt;
//!
//! let client = Client::builder("http://127.0.0.1:8080").build()?;
//! let mut params = SearchParams::new();
//! params.raw("family", "Smith");
//! params.count(50);
//! let patients: Vec<serde_json::Value> = client
//!     .search("Patient", params)
//!     .max_resources(500)
//!     .resources()
//!     .try_collect()
//!     .await?;
//! # let _ = patients; Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod auth;
pub mod body;
pub mod bulk;
pub mod generic;
pub mod id;
pub mod search;
pub mod time;

mod bundle;
mod client;
mod error;
mod interactions;
mod outcome;
mod paging;
mod retry;
mod write;

pub use bundle::{Bundle, SearchMode};
pub use client::{Client, ClientBuilder};
pub use error::{DecodeError, Error, ErrorBody, TransportError};
pub use interactions::{Return, Scope, WriteOptions, WriteResponse};
pub use outcome::{Issue, OperationOutcome};
pub use paging::{PageCursor, SearchRequest};
pub use retry::RetryPolicy;
pub use write::{BoxFuture, OperationRequest, WriteRequest};

// Re-exported so generated connectors (and their users) need no dependency of their own for
// JSON values, typed results and streams.
pub use futures;
pub use serde::de::DeserializeOwned;
pub use serde_json;
