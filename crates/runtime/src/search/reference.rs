//! `reference` and `uri` search values.
//!
//! Chained parameters (`subject:Patient.name=peter`) and reverse chains (`_has:...`) are
//! expressed through the parameter *name*, which is passed through unchanged:
//! `params.push("subject:Patient.name", Str::from("peter"))`.

use super::escape::{escape, split_unescaped, unescape};
use super::plain::{plain_common, Plain};
use super::{SearchError, Token};

fn check_type(ty: &str) -> Result<(), String> {
    let mut chars = ty.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{ty:?} is not a resource type name (expected e.g. `Patient`)"
        ))
    }
}

fn non_empty(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(format!("the {what} must not be empty"))
    } else {
        Ok(())
    }
}

/// A `reference` search value.
///
/// | Constructor | Sent as |
/// |---|---|
/// | `Reference::id("123")` | `subject=123` |
/// | `Reference::typed("Patient", "123")` | `subject=Patient/123` |
/// | `Reference::url("http://other/fhir/Patient/123")` | `subject=http://other/fhir/Patient/123` |
/// | `Reference::canonical("http://x/vs", "1.0")` | `subject=http://x/vs\|1.0` |
/// | `Reference::target("Patient", "123")` | `subject:Patient=123` (the `:[type]` modifier) |
/// | `Reference::identifier(Token::system_code("s", "v"))` | `subject:identifier=s\|v` |
/// | `Reference::missing(true)` | `subject:missing=true` |
///
/// ```
/// use fhirforge_runtime::search::{Reference, SearchParams, Token};
/// let mut params = SearchParams::new();
/// params.push("subject", Reference::typed("Patient", "123").or(Reference::id("456")));
/// params.push("subject", Reference::identifier(Token::system_code("urn:mrn", "7|7")));
/// assert_eq!(
///     params.pairs().unwrap(),
///     [("subject", "Patient/123,456"), ("subject:identifier", r"urn:mrn|7\|7")]
///         .map(|(n, v)| (n.to_owned(), v.to_owned()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    inner: Plain,
}

impl Reference {
    fn build(modifier: Option<&str>, value: Result<String, String>) -> Self {
        Reference {
            inner: match value {
                Ok(v) => Plain::one(modifier, v),
                Err(reason) => Plain::invalid(reason),
            },
        }
    }

    /// A logical id of any target type: `123`.
    pub fn id(id: impl AsRef<str>) -> Self {
        let id = id.as_ref();
        Reference::build(None, non_empty("reference id", id).map(|()| escape(id)))
    }

    /// `Type/id`, e.g. `Patient/123`.
    pub fn typed(resource_type: impl AsRef<str>, id: impl AsRef<str>) -> Self {
        let (ty, id) = (resource_type.as_ref(), id.as_ref());
        Reference::build(
            None,
            check_type(ty)
                .and_then(|()| non_empty("reference id", id))
                .map(|()| format!("{ty}/{}", escape(id))),
        )
    }

    /// An absolute URL of the target.
    pub fn url(url: impl AsRef<str>) -> Self {
        let url = url.as_ref();
        Reference::build(None, non_empty("reference URL", url).map(|()| escape(url)))
    }

    /// A canonical reference with a version: `url|version`.
    pub fn canonical(url: impl AsRef<str>, version: impl AsRef<str>) -> Self {
        let (url, version) = (url.as_ref(), version.as_ref());
        Reference::build(
            None,
            non_empty("canonical URL", url)
                .and_then(|()| non_empty("canonical version", version))
                .map(|()| format!("{}|{}", escape(url), escape(version))),
        )
    }

    /// The `:[type]` modifier: `name:Patient=123` restricts the target type.
    pub fn target(resource_type: impl AsRef<str>, id: impl AsRef<str>) -> Self {
        let (ty, id) = (resource_type.as_ref(), id.as_ref());
        match check_type(ty).and_then(|()| non_empty("reference id", id)) {
            Ok(()) => Reference::build(Some(ty), Ok(escape(id))),
            Err(reason) => Reference::build(None, Err(reason)),
        }
    }

    /// `name:identifier=system|value`: match the reference's `identifier` with a plain token
    /// (no modifier, no OR list).
    pub fn identifier(identifier: Token) -> Self {
        Reference::build(Some("identifier"), identifier.plain_value())
    }

    /// The modifier this value puts on the name, if any.
    pub fn modifier(&self) -> Option<&str> {
        self.inner.modifier()
    }

    /// Parses CLI text, an OR list split at unescaped `,`: `Type/id` ([`typed`](Self::typed)),
    /// an absolute URL or URN ([`url`](Self::url)), `url|version`
    /// ([`canonical`](Self::canonical)), otherwise a plain [`id`](Self::id). Modifiers come
    /// from the parameter name and are not parsed here.
    ///
    /// # Errors
    ///
    /// An empty alternative, an invalid resource type before `/`, or more than one unescaped
    /// `|`.
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        let parsed = Reference::any_of(split_unescaped(text, ',').into_iter().map(|alt| {
            match split_unescaped(alt, '|').as_slice() {
                [url, version] => Reference::canonical(unescape(url), unescape(version)),
                [value] => {
                    let value = unescape(value);
                    if value.contains("://") || value.starts_with("urn:") {
                        Reference::url(value)
                    } else if let Some((ty, id)) = value.split_once('/') {
                        Reference::typed(ty, id)
                    } else {
                        Reference::id(value)
                    }
                }
                _ => Reference::build(
                    None,
                    Err(format!("{alt:?} has more than one unescaped `|`")),
                ),
            }
        }));
        if let Plain::Invalid(reason) = &parsed.inner {
            return Err(SearchError::value(reason.clone()));
        }
        Ok(parsed)
    }

    pub(crate) fn inner(&self) -> &Plain {
        &self.inner
    }
}

plain_common!(Reference);

/// A `uri` search value, optionally with `:above` / `:below`.
///
/// ```
/// use fhirforge_runtime::search::{SearchParams, Uri};
/// let mut params = SearchParams::new();
/// params.push("url", Uri::new("http://acme.org/fhir/ValueSet/123"));
/// params.push("url", Uri::new("http://acme.org/fhir/").below());
/// params.push("url", Uri::canonical("http://acme.org/fhir/ValueSet/123", "2.0"));
/// assert_eq!(
///     params.pairs().unwrap(),
///     [
///         ("url", "http://acme.org/fhir/ValueSet/123"),
///         ("url:below", "http://acme.org/fhir/"),
///         ("url", "http://acme.org/fhir/ValueSet/123|2.0"),
///     ]
///     .map(|(n, v)| (n.to_owned(), v.to_owned()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    inner: Plain,
}

impl Uri {
    /// A URI, matched exactly.
    pub fn new(uri: impl AsRef<str>) -> Self {
        let uri = uri.as_ref();
        Uri {
            inner: match non_empty("uri", uri) {
                Ok(()) => Plain::one(None, escape(uri)),
                Err(reason) => Plain::invalid(reason),
            },
        }
    }

    /// A canonical URL with a version: `url|version`.
    pub fn canonical(url: impl AsRef<str>, version: impl AsRef<str>) -> Self {
        let (url, version) = (url.as_ref(), version.as_ref());
        Uri {
            inner: match non_empty("canonical URL", url)
                .and_then(|()| non_empty("canonical version", version))
            {
                Ok(()) => Plain::one(None, format!("{}|{}", escape(url), escape(version))),
                Err(reason) => Plain::invalid(reason),
            },
        }
    }

    /// `name:above=uri`: the stored URI is a prefix of this one.
    #[must_use]
    pub fn above(self) -> Self {
        Uri {
            inner: self.inner.set_modifier("above"),
        }
    }

    /// `name:below=uri`: this URI is a prefix of the stored one.
    #[must_use]
    pub fn below(self) -> Self {
        Uri {
            inner: self.inner.set_modifier("below"),
        }
    }

    /// The modifier this value puts on the name, if any.
    pub fn modifier(&self) -> Option<&str> {
        self.inner.modifier()
    }

    pub(crate) fn inner(&self) -> &Plain {
        &self.inner
    }
}

impl From<&str> for Uri {
    fn from(value: &str) -> Self {
        Uri::new(value)
    }
}

impl From<String> for Uri {
    fn from(value: String) -> Self {
        Uri::new(value)
    }
}

plain_common!(Uri);
