//! Send: the search goes out through the runtime client the studio was given (with the
//! profile's auth, held here on the server side), and the page gets a summary it can show
//! without interpreting FHIR itself.

use fhirforge_runtime::{Bundle, Client, Error as RuntimeError, OperationOutcome};
use serde::Serialize;
use serde_json::Value;

/// A search's result as the page shows it.
#[derive(Debug, Default, Serialize)]
pub(crate) struct SendResult {
    /// The HTTP status, when a response came back.
    pub(crate) status: Option<u16>,
    /// The failure in words (transport, server error, bad Bundle), when it failed.
    pub(crate) error: Option<String>,
    /// The OperationOutcome's issues in words: from an error response, or from the Bundle.
    pub(crate) outcome: Vec<String>,
    /// The matches (`search.mode = match`).
    pub(crate) matches: Vec<Value>,
    /// Table rows for the matches: id and a few meaningful fields.
    pub(crate) rows: Vec<Row>,
    /// `_include`d and `_revinclude`d resources, apart.
    pub(crate) includes: Vec<Value>,
    /// `Bundle.total` when the server gave one.
    pub(crate) total: Option<u64>,
    /// The next page's link (sent back to fetch it).
    pub(crate) next: Option<String>,
    /// The Bundle's `self` link: the search as the server read it.
    pub(crate) self_link: Option<String>,
}

/// One table row.
#[derive(Debug, Serialize)]
pub(crate) struct Row {
    pub(crate) resource_type: String,
    pub(crate) id: String,
    pub(crate) summary: String,
}

/// A short summary of a resource: the first meaningful fields FHIR resources commonly carry.
fn summarize(resource: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(name) = resource.pointer("/name/0") {
        let family = name.get("family").and_then(Value::as_str).unwrap_or("");
        let given: Vec<&str> = name
            .get("given")
            .and_then(Value::as_array)
            .map(|g| g.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let text = name.get("text").and_then(Value::as_str);
        let full = text.map_or_else(|| format!("{} {family}", given.join(" ")), str::to_owned);
        if !full.trim().is_empty() {
            parts.push(full.trim().to_owned());
        }
    } else if let Some(name) = resource.get("name").and_then(Value::as_str) {
        parts.push(name.to_owned());
    }
    for key in ["birthDate", "gender", "status", "effectiveDateTime", "date"] {
        if let Some(v) = resource.get(key).and_then(Value::as_str) {
            parts.push(format!("{key}: {v}"));
        }
    }
    if let Some(text) = resource.pointer("/code/text").and_then(Value::as_str) {
        parts.push(text.to_owned());
    }
    parts.join(" · ")
}

pub(crate) fn outcome_lines(outcome: &OperationOutcome) -> Vec<String> {
    outcome
        .issue
        .iter()
        .map(|i| {
            let text = i
                .details_text()
                .or(i.diagnostics.as_deref())
                .unwrap_or("(no details)");
            format!("{} ({}): {text}", i.severity, i.code)
        })
        .collect()
}

fn from_bundle(bundle: &Bundle) -> SendResult {
    let matches: Vec<Value> = bundle.matches().cloned().collect();
    let rows = matches
        .iter()
        .map(|r| Row {
            resource_type: r
                .get("resourceType")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            id: r.get("id").and_then(Value::as_str).unwrap_or("").to_owned(),
            summary: summarize(r),
        })
        .collect();
    SendResult {
        status: Some(200),
        outcome: bundle.outcomes().iter().flat_map(outcome_lines).collect(),
        rows,
        matches,
        includes: bundle.includes().cloned().collect(),
        total: bundle.total(),
        next: bundle.next_link().map(str::to_owned),
        self_link: bundle.link("self").map(str::to_owned),
        error: None,
    }
}

fn from_error(e: &RuntimeError) -> SendResult {
    SendResult {
        status: e.status().map(|s| s.as_u16()),
        outcome: e.operation_outcome().map(outcome_lines).unwrap_or_default(),
        error: Some(e.to_string()),
        ..SendResult::default()
    }
}

/// Sends the first page of a search.
pub(crate) async fn first_page(
    client: &Client,
    resource: &str,
    params: fhirforge_runtime::search::SearchParams,
) -> SendResult {
    match client.search(resource, params).send().await {
        Ok(bundle) => from_bundle(&bundle),
        Err(e) => from_error(&e),
    }
}

/// Fetches a later page by the link the server gave (same origin only, as the runtime checks).
pub(crate) async fn next_page(client: &Client, link: &str) -> SendResult {
    match client.fetch_page(link, false).await {
        Ok(bundle) => from_bundle(&bundle),
        Err(e) => from_error(&e),
    }
}
