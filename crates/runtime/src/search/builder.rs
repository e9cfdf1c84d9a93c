//! The one search-builder trait: every method a search has whatever the resource type, written
//! once here instead of in every generated `Search` type.

use std::future::Future;

use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{SearchParams, SearchValue, Summary, Total};
use crate::bundle::Bundle;
use crate::error::Error;
use crate::paging::SearchRequest;

/// The methods every search has: result parameters (`_count`, `_sort`, ...), undeclared
/// parameters, POST, page limits, and sending.
///
/// A generated connector's `patient::Search` holds a [`SearchRequest`] and implements the two
/// required methods; its own methods are the declared search parameters only. Bring the trait
/// into scope with the connector's `prelude` (or `use fhirforge_runtime::search::SearchBuilder`).
///
/// ```no_run
/// # async fn demo(client: fhirforge_runtime::Client) -> Result<(), fhirforge_runtime::Error> {
/// use fhirforge_runtime::search::{SearchBuilder, SearchParams, Str};
/// use futures::TryStreamExt;
///
/// let names: Vec<serde_json::Value> = client
///     .search("Patient", SearchParams::new())
///     .push("family", Str::exact("Smith"))
///     .count(50)
///     .max_resources(200)
///     .resources()
///     .try_collect()
///     .await?;
/// # let _ = names; Ok(()) }
/// ```
pub trait SearchBuilder: Sized {
    /// Wraps a runtime request (the generated `Search` types are newtypes around it).
    fn from_request(request: SearchRequest) -> Self;

    /// The runtime request as built so far.
    fn into_request(self) -> SearchRequest;

    /// Changes the underlying request.
    fn map_request(self, f: impl FnOnce(SearchRequest) -> SearchRequest) -> Self {
        Self::from_request(f(self.into_request()))
    }

    /// Changes the parameters.
    fn map_params(self, f: impl FnOnce(&mut SearchParams)) -> Self {
        self.map_request(|mut r| {
            f(r.params_mut());
            r
        })
    }

    /// Adds a typed value under `name` (`family:exact` and other modifiers come from the
    /// value). Calling again with the same name ANDs.
    fn push(self, name: &str, value: impl SearchValue) -> Self {
        self.map_params(|p| p.push(name, value))
    }

    /// Adds a parameter as given: a modifier (`name:exact`), a prefix, a chain or a vendor
    /// parameter. The value is sent as written (already escaped); it is percent-encoded once.
    fn param(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.map_params(|p| p.raw(name, value))
    }

    /// Sets `_count`: the page size the server should use.
    fn count(self, n: u32) -> Self {
        self.map_params(|p| p.count(n))
    }

    /// Sets `_sort` (`"-date,name"`).
    fn sort(self, spec: impl Into<String>) -> Self {
        self.map_params(|p| p.sort(spec))
    }

    /// Sets `_elements`: only these elements (plus mandatory ones) in each match.
    fn elements<S: Into<String>>(self, elements: impl IntoIterator<Item = S>) -> Self {
        self.map_params(|p| p.elements(elements))
    }

    /// Sets `_summary`.
    fn summary(self, summary: Summary) -> Self {
        self.map_params(|p| p.summary(summary))
    }

    /// Sets `_total`: whether and how precisely the server counts all matches.
    fn total(self, total: Total) -> Self {
        self.map_params(|p| p.total(total))
    }

    /// Adds `_include` with a value as sent on the wire (generated `include` methods take the
    /// declared values as an enum).
    fn include_raw(self, value: impl Into<String>) -> Self {
        self.map_params(|p| p.include(value))
    }

    /// Adds `_revinclude` with a value as sent on the wire.
    fn rev_include_raw(self, value: impl Into<String>) -> Self {
        self.map_params(|p| p.rev_include(value))
    }

    /// `true`: send as `POST [type]/_search` with a form body; `false`: always GET (default:
    /// GET unless the URL is too long).
    fn post(self, post: bool) -> Self {
        self.map_request(|r| SearchRequest::post(r, post))
    }

    /// Stop after this many pages.
    fn max_pages(self, pages: usize) -> Self {
        self.map_request(|r| SearchRequest::max_pages(r, pages))
    }

    /// Stop after this many matched resources.
    fn max_resources(self, resources: usize) -> Self {
        self.map_request(|r| SearchRequest::max_resources(r, resources))
    }

    /// Sends the search and returns the first page.
    ///
    /// # Errors
    /// [`Error::Search`] for an invalid value (nothing is sent), or any other [`Error`] from the
    /// request.
    fn send(self) -> impl Future<Output = Result<Bundle, Error>> + Send + 'static {
        let request = self.into_request();
        // Explicit: with this trait in scope, `request.send()` would name this method again.
        async move { SearchRequest::send(&request).await }
    }

    /// Every page, fetched lazily by following `next` links (see [`SearchRequest::pages`]).
    fn pages(self) -> impl Stream<Item = Result<Bundle, Error>> + Send + 'static {
        SearchRequest::pages(self.into_request())
    }

    /// Every matching resource across all pages (included resources are not yielded).
    fn resources(self) -> impl Stream<Item = Result<Value, Error>> + Send + 'static {
        SearchRequest::resources(self.into_request())
    }

    /// Every matching resource, decoded as `T` (any `DeserializeOwned`: the caller's own struct
    /// or a FHIR model crate's type). A match that is not a `T` ends the stream with
    /// [`Error::Decode`].
    fn resources_as<T: DeserializeOwned + Send + 'static>(
        self,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        self.resources()
            .and_then(|value| async move { crate::write::from_value(value, "resource") })
    }
}

impl SearchBuilder for SearchRequest {
    fn from_request(request: SearchRequest) -> Self {
        request
    }

    fn into_request(self) -> SearchRequest {
        self
    }
}
