//! [`SearchParams`]: the ordered list of `(name, value)` pairs a search sends.

use std::fmt;

use url::form_urlencoded;

use super::{SearchError, SearchValue};

/// Parameters that control the result rather than select resources. They have their own
/// methods (or go through [`SearchParams::raw`]) and never take a typed (prefixable) value:
/// `_count=ge10` cannot be produced.
///
/// The runtime cannot depend on the model, so this mirrors `fhirforge_model::RESULT_PARAMETERS`
/// (the list the generator and the CLI read); the CLI's `names` test asserts the two are equal,
/// so a declared parameter never gets a generated method that is refused here at send time.
pub const RESULT_PARAMETERS: &[&str] = &[
    "_count",
    "_offset",
    "_sort",
    "_include",
    "_revinclude",
    "_summary",
    "_total",
    "_elements",
    "_contained",
    "_containedType",
    "_format",
    "_pretty",
    "_graph",
    "_maxresults",
];

/// `_summary` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Summary {
    /// `true`: only the elements marked as summary.
    True,
    /// `text`: text, id, meta and mandatory elements.
    Text,
    /// `data`: everything but the narrative.
    Data,
    /// `count`: only the total, no resources.
    Count,
    /// `false`: everything.
    False,
}

impl Summary {
    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Summary::True => "true",
            Summary::Text => "text",
            Summary::Data => "data",
            Summary::Count => "count",
            Summary::False => "false",
        }
    }
}

/// `_total` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Total {
    /// `none`: no total needed.
    None,
    /// `estimate`: a rough total is enough.
    Estimate,
    /// `accurate`: an exact total (hfs only fills `Bundle.total` with this).
    Accurate,
}

impl Total {
    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Total::None => "none",
            Total::Estimate => "estimate",
            Total::Accurate => "accurate",
        }
    }
}

/// An ordered list of search `(name, value)` pairs, not yet percent-encoded.
///
/// Typed values go through [`push`](Self::push) (call it again with the same name to AND);
/// anything the spec did not declare goes through [`raw`](Self::raw). The first invalid value is
/// remembered and returned by [`pairs`](Self::pairs) and
/// [`to_query_string`](Self::to_query_string).
///
/// `Debug` prints parameter names only: values carry patient data.
///
/// ```
/// use fhirforge_runtime::search::{Date, SearchParams, Summary};
/// let mut params = SearchParams::new();
/// params.push("birthdate", Date::ge("1970-01-01"));
/// params.push("birthdate", Date::lt("1980"));
/// params.raw("name", "a=b&c,d");
/// params.sort("-birthdate,family");
/// params.summary(Summary::Data);
/// assert_eq!(
///     params.to_query_string().unwrap(),
///     "birthdate=ge1970-01-01&birthdate=lt1980&name=a%3Db%26c%2Cd&_sort=-birthdate%2Cfamily&_summary=data"
/// );
/// assert_eq!(format!("{params:?}"), r#"SearchParams { names: ["birthdate", "birthdate", "name", "_sort", "_summary"], error: None }"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pairs: Vec<(String, String)>,
    error: Option<SearchError>,
}

impl fmt::Debug for SearchParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchParams")
            .field(
                "names",
                &self.pairs.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("error", &self.error.as_ref().map(SearchError::parameter))
            .finish()
    }
}

impl SearchParams {
    /// No parameters.
    pub fn new() -> Self {
        SearchParams::default()
    }

    fn fail(&mut self, error: SearchError) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Adds a typed value under `name` (which may carry a chain, e.g. `subject:Patient.name`;
    /// the value adds its own modifier). Calling it again with the same name ANDs.
    ///
    /// An invalid value is recorded and returned by [`pairs`](Self::pairs); the parameters
    /// added so far stay. Result parameters (`_count`, `_sort`, ...) are refused here: use their
    /// own methods or [`raw`](Self::raw).
    pub fn push(&mut self, name: &str, value: impl SearchValue) {
        if name.is_empty() {
            return self.fail(SearchError::new(name, "the parameter name is empty"));
        }
        let base = name.split(':').next().unwrap_or(name);
        if RESULT_PARAMETERS.contains(&base) {
            return self.fail(SearchError::new(
                name,
                format!(
                    "`{base}` is a result parameter, not a search value; use its own method \
                     on SearchParams (count, sort, include, ...) or `raw`"
                ),
            ));
        }
        match value.encode(name) {
            Ok(pairs) => self.pairs.extend(pairs),
            Err(e) => self.fail(e),
        }
    }

    /// Adds `name=value` exactly as given: no FHIR escaping, no validation. Use it for vendor
    /// parameters, prefixes or modifiers the spec did not declare. The value may contain `=`,
    /// `&` and `,`; it is percent-encoded once like every other value.
    pub fn raw(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        if name.is_empty() {
            return self.fail(SearchError::new(name, "the parameter name is empty"));
        }
        self.pairs.push((name, value.into()));
    }

    /// Replaces every `name` pair with one `name=value`, keeping the position of the first.
    fn set(&mut self, name: &str, value: String) {
        match self.pairs.iter().position(|(n, _)| n == name) {
            Some(at) => {
                self.pairs[at].1 = value;
                let mut index = 0;
                self.pairs.retain(|(n, _)| {
                    index += 1;
                    index - 1 == at || n != name
                });
            }
            None => self.pairs.push((name.to_owned(), value)),
        }
    }

    /// `_count=n`: page size. Calling it again replaces the value; never prefixed.
    pub fn count(&mut self, n: u32) {
        self.set("_count", n.to_string());
    }

    /// `_sort=spec`, e.g. `-date,name` (`-` for descending). Replaces an earlier `_sort`.
    pub fn sort(&mut self, spec: impl Into<String>) {
        self.set("_sort", spec.into());
    }

    /// `_include=value`, e.g. `Observation:patient` or `Observation:subject:Patient`.
    /// Each call adds one more.
    pub fn include(&mut self, value: impl Into<String>) {
        self.pairs.push(("_include".to_owned(), value.into()));
    }

    /// `_include:iterate=value`: also include from included resources.
    pub fn include_iterate(&mut self, value: impl Into<String>) {
        self.pairs
            .push(("_include:iterate".to_owned(), value.into()));
    }

    /// `_revinclude=value`, e.g. `Provenance:target`. Each call adds one more.
    pub fn rev_include(&mut self, value: impl Into<String>) {
        self.pairs.push(("_revinclude".to_owned(), value.into()));
    }

    /// `_revinclude:iterate=value`.
    pub fn rev_include_iterate(&mut self, value: impl Into<String>) {
        self.pairs
            .push(("_revinclude:iterate".to_owned(), value.into()));
    }

    /// `_elements=a,b,c`: only these elements (plus mandatory ones). Replaces an earlier one.
    pub fn elements<S: Into<String>>(&mut self, elements: impl IntoIterator<Item = S>) {
        let list: Vec<String> = elements.into_iter().map(Into::into).collect();
        if list.is_empty() || list.iter().any(String::is_empty) {
            return self.fail(SearchError::new(
                "_elements",
                "needs at least one element name, none of them empty",
            ));
        }
        self.set("_elements", list.join(","));
    }

    /// `_summary=...`. Replaces an earlier one.
    pub fn summary(&mut self, summary: Summary) {
        self.set("_summary", summary.as_str().to_owned());
    }

    /// `_total=...`. Replaces an earlier one.
    pub fn total(&mut self, total: Total) {
        self.set("_total", total.as_str().to_owned());
    }

    /// The first invalid value recorded, if any.
    pub fn error(&self) -> Option<&SearchError> {
        self.error.as_ref()
    }

    /// Whether no parameter was added.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pairs, not percent-encoded: give them to `reqwest`'s `.query()` / `.form()` or
    /// `url`'s `query_pairs_mut()`, which percent-encode them once.
    ///
    /// # Errors
    ///
    /// The first invalid value pushed, with its parameter name.
    pub fn pairs(&self) -> Result<Vec<(String, String)>, SearchError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(self.pairs.clone()),
        }
    }

    /// The pairs percent-encoded once as `application/x-www-form-urlencoded` (the same bytes
    /// reqwest sends for `.query(&pairs)` and `.form(&pairs)`), without a leading `?`.
    ///
    /// # Errors
    ///
    /// The first invalid value pushed, with its parameter name.
    pub fn to_query_string(&self) -> Result<String, SearchError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        Ok(form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.pairs)
            .finish())
    }

    /// Parses a query string (with or without a leading `?`) back into raw pairs, undoing the
    /// percent-encoding once (`+` is a space). FHIR escapes (`\,`) stay in the values. Invalid
    /// UTF-8 after decoding becomes U+FFFD.
    pub fn from_query(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        SearchParams {
            pairs: form_urlencoded::parse(query.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect(),
            error: None,
        }
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for SearchParams {
    /// Raw pairs, as with [`SearchParams::raw`].
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut params = SearchParams::new();
        for (n, v) in iter {
            params.raw(n, v);
        }
        params
    }
}
