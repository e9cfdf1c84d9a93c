//! A read-only view over a FHIR `Bundle` (search results, history, batch/transaction responses).

use serde_json::Value;

use crate::error::Error;
use crate::outcome::OperationOutcome;

/// A FHIR `Bundle`, kept as JSON, with accessors for the parts clients need.
///
/// In a `searchset`, entries are split by `entry.search.mode`: [`matches`](Self::matches)
/// (`match`, or no mode), [`includes`](Self::includes) (`_include`/`_revinclude` results) and
/// [`outcomes`](Self::outcomes) (OperationOutcome warnings the server put inside the results,
/// such as Epic's 4119).
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    json: Value,
}

/// Where a searchset entry came from (`entry.search.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// A resource that matched the search (also entries without a mode).
    Match,
    /// A resource added by `_include` or `_revinclude`.
    Include,
    /// An `OperationOutcome` about the search.
    Outcome,
}

impl Bundle {
    /// Wraps JSON that must be a `Bundle`.
    ///
    /// # Errors
    /// [`Error::Decode`] when `json` is not an object with `resourceType` `Bundle`, or when
    /// `entry` is present but not an array.
    pub fn from_json(json: Value) -> Result<Self, Error> {
        match json.get("resourceType").and_then(Value::as_str) {
            Some("Bundle") => {}
            Some(other) => {
                return Err(Error::decode(
                    "Bundle",
                    "resourceType",
                    format!("expected Bundle, got {other}"),
                ))
            }
            None => return Err(Error::decode("Bundle", ".", "no resourceType")),
        }
        if let Some(entry) = json.get("entry") {
            if !entry.is_array() {
                return Err(Error::decode("Bundle", "entry", "not an array"));
            }
        }
        if let Some(link) = json.get("link") {
            if !link.is_array() {
                return Err(Error::decode("Bundle", "link", "not an array"));
            }
        }
        Ok(Self { json })
    }

    /// `Bundle.type` (`searchset`, `history`, `batch-response`, ...).
    pub fn bundle_type(&self) -> Option<&str> {
        self.json.get("type").and_then(Value::as_str)
    }

    /// `Bundle.total`, when the server reported it.
    pub fn total(&self) -> Option<u64> {
        self.json.get("total").and_then(Value::as_u64)
    }

    /// Every `Bundle.entry`, in order.
    pub fn entries(&self) -> &[Value] {
        self.json
            .get("entry")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    /// The search mode of an entry.
    pub fn search_mode(entry: &Value) -> SearchMode {
        // Plain `get` chains, not `Value::pointer`: this runs for every entry of every page and
        // `pointer` allocates per path segment.
        let mode = entry
            .get("search")
            .and_then(|s| s.get("mode"))
            .and_then(Value::as_str);
        match mode {
            Some("include") => SearchMode::Include,
            Some("outcome") => SearchMode::Outcome,
            Some(_) => SearchMode::Match,
            None => {
                // Some servers send OperationOutcome entries without a mode.
                let resource_type = entry
                    .get("resource")
                    .and_then(|r| r.get("resourceType"))
                    .and_then(Value::as_str);
                if resource_type == Some("OperationOutcome") {
                    SearchMode::Outcome
                } else {
                    SearchMode::Match
                }
            }
        }
    }

    fn resources_with(&self, mode: SearchMode) -> impl Iterator<Item = &Value> {
        self.entries()
            .iter()
            .filter(move |e| Self::search_mode(e) == mode)
            .filter_map(|e| e.get("resource"))
    }

    /// The resources that matched the search.
    pub fn matches(&self) -> impl Iterator<Item = &Value> {
        self.resources_with(SearchMode::Match)
    }

    /// The resources added by `_include` / `_revinclude`.
    pub fn includes(&self) -> impl Iterator<Item = &Value> {
        self.resources_with(SearchMode::Include)
    }

    /// The `OperationOutcome`s the server put among the results.
    pub fn outcomes(&self) -> Vec<OperationOutcome> {
        self.resources_with(SearchMode::Outcome)
            .filter_map(OperationOutcome::from_json)
            .collect()
    }

    /// The URL of the link with relation `rel` (`self`, `next`, `previous`, ...), as sent.
    pub fn link(&self, rel: &str) -> Option<&str> {
        self.json
            .get("link")?
            .as_array()?
            .iter()
            .find(|l| l.get("relation").and_then(Value::as_str) == Some(rel))?
            .get("url")?
            .as_str()
    }

    /// The `next` link, as sent (relative or absolute).
    pub fn next_link(&self) -> Option<&str> {
        self.link("next")
    }

    /// The JSON.
    pub fn as_json(&self) -> &Value {
        &self.json
    }

    /// The JSON, owned.
    pub fn into_json(self) -> Value {
        self.json
    }

    /// The matched resources, owned.
    pub fn into_matches(self) -> Vec<Value> {
        self.into_match_iter().collect()
    }

    /// The matched resources, owned, taken out one at a time (no second buffer).
    pub fn into_match_iter(self) -> impl Iterator<Item = Value> + Send + 'static {
        let entries = match self.json {
            Value::Object(mut map) => match map.remove("entry") {
                Some(Value::Array(entries)) => entries,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        entries
            .into_iter()
            .filter(|e| Self::search_mode(e) == SearchMode::Match)
            .filter_map(|e| match e {
                Value::Object(mut e) => e.remove("resource"),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Bundle {
        Bundle::from_json(json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "total": 2,
            "link": [
                {"relation": "self", "url": "http://h/Patient?name=a"},
                {"relation": "next", "url": "Patient?_cursor=2"}
            ],
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "a"}, "search": {"mode": "match"}},
                {"resource": {"resourceType": "Organization", "id": "o"}, "search": {"mode": "include"}},
                {"resource": {"resourceType": "Patient", "id": "b"}},
                {"resource": {"resourceType": "OperationOutcome", "issue": [
                    {"severity": "warning", "code": "processing", "details": {"coding": [{"code": "4119"}]}}
                ]}, "search": {"mode": "outcome"}}
            ]
        }))
        .expect("a bundle")
    }

    #[test]
    fn splits_entries_by_search_mode() {
        let b = sample();
        let ids = |it: &mut dyn Iterator<Item = &Value>| -> Vec<String> {
            it.map(|r| r["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(ids(&mut b.matches()), ["a", "b"]);
        assert_eq!(ids(&mut b.includes()), ["o"]);
        let outcomes = b.outcomes();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].issue[0].details_text(), Some("4119"));
        assert_eq!(b.total(), Some(2));
        assert_eq!(b.bundle_type(), Some("searchset"));
        assert_eq!(b.next_link(), Some("Patient?_cursor=2"));
        assert_eq!(b.link("previous"), None);
        let owned: Vec<_> = b
            .into_matches()
            .into_iter()
            .map(|r| r["id"].clone())
            .collect();
        assert_eq!(owned, [json!("a"), json!("b")]);
    }

    #[test]
    fn rejects_what_is_not_a_bundle() {
        for bad in [
            json!({"resourceType": "Patient"}),
            json!({"type": "searchset"}),
            json!([]),
            json!({"resourceType": "Bundle", "entry": {}}),
        ] {
            let err = Bundle::from_json(bad.clone()).expect_err("not a bundle");
            assert!(matches!(err, Error::Decode(_)), "{bad}: {err}");
        }
    }
}
