//! `composite` (`part$part`) and `special` search values.

use super::escape::escape;
use super::plain::{plain_common, Plain};
use super::prefix::OrderedValue;
use super::{DateValue, NumberValue, QuantityValue, Reference, Str, Token, Uri};

/// One part of a [`Composite`]: a single value without modifier (and without OR).
///
/// Built with `.into()` from [`Token`], [`Str`], [`Reference`], [`Uri`], [`DateValue`],
/// [`NumberValue`], [`QuantityValue`] (prefixes allowed, as in `code$lt60`), or from text
/// (`&str` / `String`, FHIR-escaped like a string value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositePart {
    value: Result<String, String>,
}

impl From<&str> for CompositePart {
    fn from(value: &str) -> Self {
        CompositePart {
            value: if value.is_empty() {
                Err("a composite part must not be empty".to_owned())
            } else {
                Ok(escape(value))
            },
        }
    }
}

impl From<String> for CompositePart {
    fn from(value: String) -> Self {
        CompositePart::from(value.as_str())
    }
}

macro_rules! part_from_plain {
    ($($t:ident => $what:literal),*) => {$(
        impl From<$t> for CompositePart {
            fn from(value: $t) -> Self {
                CompositePart { value: value.inner().single($what) }
            }
        }
    )*};
}
part_from_plain!(Token => "token", Str => "string", Reference => "reference", Uri => "uri");

macro_rules! part_from_ordered {
    ($($t:ident),*) => {$(
        impl From<$t> for CompositePart {
            fn from(value: $t) -> Self {
                CompositePart { value: value.single().and_then(OrderedValue::encode_one) }
            }
        }
    )*};
}
part_from_ordered!(DateValue, NumberValue, QuantityValue);

/// A `composite` search value: parts joined with `$`, e.g.
/// `code-value-quantity=http://loinc.org|8480-6$lt60`.
///
/// ```
/// use fhirforge_runtime::search::{Composite, QuantityValue, SearchParams, Token};
/// let mut params = SearchParams::new();
/// params.push(
///     "component-code-value-quantity",
///     Composite::new([
///         Token::system_code("http://loinc.org", "8480-6").into(),
///         QuantityValue::lt(60).into(),
///     ]),
/// );
/// params.push("characteristic-value", Composite::new(["a$b".into(), "c".into()]));
/// assert_eq!(
///     params.pairs().unwrap(),
///     [
///         ("component-code-value-quantity", "http://loinc.org|8480-6$lt60"),
///         ("characteristic-value", r"a\$b$c"),
///     ]
///     .map(|(n, v)| (n.to_owned(), v.to_owned()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composite {
    inner: Plain,
}

impl Composite {
    /// Joins `parts` with `$`. At least two parts are needed.
    ///
    /// Parts usually differ in type, so convert each with `.into()`.
    pub fn new(parts: impl IntoIterator<Item = CompositePart>) -> Self {
        let parts: Result<Vec<String>, String> = parts.into_iter().map(|p| p.value).collect();
        Composite {
            inner: match parts {
                Ok(parts) if parts.len() < 2 => Plain::invalid(format!(
                    "a composite value needs at least two parts, got {}",
                    parts.len()
                )),
                Ok(parts) => Plain::one(None, parts.join("$")),
                Err(reason) => Plain::invalid(format!("composite part: {reason}")),
            },
        }
    }
}

plain_common!(Composite);

/// A `special` search value (e.g. `near=-72.7|42.2|10|km`), sent verbatim: the caller's text
/// is not escaped because each special parameter defines its own syntax.
///
/// ```
/// use fhirforge_runtime::search::{SearchParams, Special};
/// let mut params = SearchParams::new();
/// params.push("near", Special::new("-83.69|42.25|11.2|km"));
/// assert_eq!(params.pairs().unwrap()[0].1, "-83.69|42.25|11.2|km");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Special {
    inner: Plain,
}

impl Special {
    /// The value exactly as given.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        Special {
            inner: if raw.is_empty() {
                Plain::invalid("a special value must not be empty")
            } else {
                Plain::one(None, raw)
            },
        }
    }
}

plain_common!(Special);
