//! `string` search values: default (starts with, case- and accent-insensitive), `:exact`,
//! `:contains`, `:text`.

use super::escape::{escape, split_unescaped, unescape};
use super::plain::{plain_common, Plain};
use super::SearchError;

/// A `string` search value. The text is FHIR-escaped (`,` `$` `|` `\`).
///
/// ```
/// use fhirforge_runtime::search::{SearchParams, Str};
/// let mut params = SearchParams::new();
/// params.push("family", Str::from("Sm"));
/// params.push("given", Str::exact("Anne, Marie").or(Str::exact("Jo")));
/// params.push("address", Str::contains("Main"));
/// assert_eq!(
///     params.pairs().unwrap(),
///     [("family", "Sm"), ("given:exact", r"Anne\, Marie,Jo"), ("address:contains", "Main")]
///         .map(|(n, v)| (n.to_owned(), v.to_owned()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    inner: Plain,
}

impl Str {
    fn build(modifier: Option<&str>, value: &str) -> Self {
        Str {
            inner: if value.is_empty() {
                // Servers ignore an empty parameter, so the search would match everything.
                Plain::invalid("a string value must not be empty (the server would ignore it)")
            } else {
                Plain::one(modifier, escape(value))
            },
        }
    }

    /// Default string match (the field starts with `value`, ignoring case and accents).
    pub fn new(value: impl AsRef<str>) -> Self {
        Str::build(None, value.as_ref())
    }

    /// `name:exact=value`: whole, case- and accent-sensitive match.
    pub fn exact(value: impl AsRef<str>) -> Self {
        Str::build(Some("exact"), value.as_ref())
    }

    /// `name:contains=value`: the value anywhere in the field.
    pub fn contains(value: impl AsRef<str>) -> Self {
        Str::build(Some("contains"), value.as_ref())
    }

    /// `name:text=value`: the server's text search on the field.
    pub fn text(value: impl AsRef<str>) -> Self {
        Str::build(Some("text"), value.as_ref())
    }

    /// The modifier this value puts on the name (`exact`, `contains`, `text`, `missing`), if any.
    pub fn modifier(&self) -> Option<&str> {
        self.inner.modifier()
    }

    /// Parses CLI text: an OR list split at unescaped `,`, each part unescaped. The modifier
    /// comes from the parameter name and is not parsed here.
    ///
    /// # Errors
    ///
    /// An empty alternative (`""`, `a,,b`).
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        let parsed = Str::any_of(
            split_unescaped(text, ',')
                .into_iter()
                .map(|part| Str::new(unescape(part))),
        );
        if let Plain::Invalid(reason) = &parsed.inner {
            return Err(SearchError::value(reason.clone()));
        }
        Ok(parsed)
    }

    pub(crate) fn inner(&self) -> &Plain {
        &self.inner
    }
}

impl From<&str> for Str {
    fn from(value: &str) -> Self {
        Str::new(value)
    }
}

impl From<String> for Str {
    fn from(value: String) -> Self {
        Str::new(value)
    }
}

impl From<&String> for Str {
    fn from(value: &String) -> Self {
        Str::new(value)
    }
}

plain_common!(Str);
