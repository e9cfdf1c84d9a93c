//! Typed FHIR search values and their exact encoding.
//!
//! Generated connectors and the CLI build searches from these types; the client sends the
//! resulting [`SearchParams`] by GET (query string) or POST `_search` (form body). Everything
//! about how a search value looks on the wire lives here:
//!
//! * **Prefixes** ([`Prefix`], all nine) exist only on the ordered types [`Date`], [`Number`] and
//!   [`Quantity`]. Result parameters (`_count`, `_sort`, ...) have their own methods on
//!   [`SearchParams`] and never get a prefix: `_count=ge10` cannot be produced.
//! * **Ranges**: `Date::range(lower, upper)` (and `between`) encode as two AND-ed parameters,
//!   `ge|gt` then `le|lt`. A range whose lower end lies after its upper end is an error.
//! * **OR and AND**: `.or(other)` / `any_of(..)` join values with `,` inside one parameter;
//!   calling [`SearchParams::push`] again with the same name ANDs.
//! * **Modifiers** go into the name (`family:exact`, `code:not`, `subject:Patient`,
//!   `birthdate:missing`).
//! * **Escaping**: `\` `,` `$` `|` inside the caller's text are escaped once, by [`escape`];
//!   separators the encoder adds itself (`system|code`, `part$part`, `a,b`) are not.
//! * **Percent-encoding** happens once, at the very end: [`SearchParams::pairs`] returns the
//!   unencoded pairs for `reqwest`/`url` to encode, [`SearchParams::to_query_string`] encodes
//!   them itself (`application/x-www-form-urlencoded`, exactly what reqwest's `.query()` and
//!   `.form()` produce). Never do both.
//! * **Errors are deferred**: constructors never fail or panic. An invalid value (a bad date,
//!   `NaN`, a reversed range) is remembered; [`SearchParams::push`] records the first error with
//!   the parameter's name and [`SearchParams::pairs`] returns it as a [`SearchError`].
//!
//! # Example
//!
//! ```
//! use fhirforge_runtime::search::{Bound, Date, Quantity, SearchParams, Str, Token};
//!
//! let mut params = SearchParams::new();
//! params.push("family", Str::exact("O'Brien, Jr."));
//! params.push(
//!     "identifier",
//!     Token::system_code("urn:oid:1.2.36.146.595.217.0.1", "a|1")
//!         .or(Token::code("b")),
//! );
//! params.push("birthdate", Date::between("1970", "1980-06"));
//! params.push("value-quantity", Quantity::gt(5.4).with_unit("http://unitsofmeasure.org", "mg"));
//! params.push("_lastUpdated", Date::range(Bound::exclusive("2024-01-01T00:00:00Z"), Bound::Unbounded));
//! params.raw("_has:Observation:patient:code", "1234-5");
//! params.count(50);
//!
//! assert_eq!(
//!     params.pairs()?,
//!     [
//!         ("family:exact", r"O'Brien\, Jr."),
//!         ("identifier", r"urn:oid:1.2.36.146.595.217.0.1|a\|1,b"),
//!         ("birthdate", "ge1970"),
//!         ("birthdate", "le1980-06"),
//!         ("value-quantity", "gt5.4|http://unitsofmeasure.org|mg"),
//!         ("_lastUpdated", "gt2024-01-01T00:00:00Z"),
//!         ("_has:Observation:patient:code", "1234-5"),
//!         ("_count", "50"),
//!     ]
//!     .map(|(n, v)| (n.to_owned(), v.to_owned()))
//! );
//! assert!(params.to_query_string()?.starts_with("family%3Aexact=O%27Brien%5C%2C+Jr.&"));
//!
//! // Invalid values do not panic; the first error comes back with the parameter's name.
//! let mut bad = SearchParams::new();
//! bad.push("birthdate", Date::between("1980", "1970"));
//! let err = bad.pairs().unwrap_err();
//! assert_eq!(err.parameter(), "birthdate");
//! assert!(err.to_string().starts_with(r#"invalid value for search parameter "birthdate": "#));
//! # Ok::<(), fhirforge_runtime::search::SearchError>(())
//! ```

mod builder;
mod composite;
mod date;
mod escape;
mod number;
mod params;
mod plain;
mod prefix;
mod quantity;
mod reference;
mod string;
mod text;
mod token;

#[cfg(test)]
mod tests;

pub use builder::SearchBuilder;
pub use composite::{Composite, CompositePart, Special};
pub use date::{Date, DateValue};
pub use escape::{escape, split_unescaped, unescape};
pub use number::{Decimal, Number, NumberValue};
pub use params::{SearchParams, Summary, Total, RESULT_PARAMETERS};
pub use prefix::{Bound, Prefix};
pub use quantity::{Quantity, QuantityValue};
pub use reference::{Reference, Uri};
pub use string::Str;
pub use text::TextGrammar;
pub use token::Token;

use std::fmt;

/// A search value that was invalid: which parameter, and why.
///
/// Produced by [`SearchParams::pairs`] / [`SearchParams::to_query_string`] (with the parameter's
/// name) and by the `parse_*` helpers (without one, until [`with_parameter`](Self::with_parameter)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    parameter: String,
    reason: String,
}

impl SearchError {
    /// An error for `parameter` (the name as sent, with any modifier).
    pub fn new(parameter: impl Into<String>, reason: impl Into<String>) -> Self {
        SearchError {
            parameter: parameter.into(),
            reason: reason.into(),
        }
    }

    /// An error about a value whose parameter is not known yet.
    pub(crate) fn value(reason: impl Into<String>) -> Self {
        SearchError::new(String::new(), reason)
    }

    /// The same error, attributed to `parameter`.
    #[must_use]
    pub fn with_parameter(mut self, parameter: impl Into<String>) -> Self {
        self.parameter = parameter.into();
        self
    }

    /// The search parameter's name (empty when the value was parsed on its own).
    pub fn parameter(&self) -> &str {
        &self.parameter
    }

    /// Why the value is invalid.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.parameter.is_empty() {
            write!(f, "invalid search value: {}", self.reason)
        } else {
            write!(
                f,
                "invalid value for search parameter \"{}\": {}",
                self.parameter, self.reason
            )
        }
    }
}

impl std::error::Error for SearchError {}

/// A value that can be sent under a search parameter name.
///
/// It encodes itself into `(name, value)` pairs, not yet percent-encoded: usually one pair, two
/// for a range (AND), and the name gains the modifier (`family` → `family:exact`). Encoding fails
/// with the error the value deferred at construction.
pub trait SearchValue {
    /// The pairs to send for this value under `name`.
    ///
    /// # Errors
    ///
    /// The value is invalid (bad date, `NaN`, reversed range, empty OR list, ...).
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError>;
}

impl<T: SearchValue + ?Sized> SearchValue for &T {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        (**self).encode(name)
    }
}

/// `name` or `name:modifier`.
fn with_modifier(name: &str, modifier: Option<&str>) -> String {
    match modifier {
        Some(m) => format!("{name}:{m}"),
        None => name.to_owned(),
    }
}

/// Generates the nine prefix constructors, each calling `Self::with_prefix(Prefix::X, value)`.
macro_rules! prefix_constructors {
    ($arg:ty) => {
        /// `eq` prefix: equal to the value (written explicitly as `eq`).
        pub fn eq(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Eq, value)
        }
        /// `ne` prefix: not equal to the value.
        pub fn ne(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Ne, value)
        }
        /// `gt` prefix: greater than the value.
        pub fn gt(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Gt, value)
        }
        /// `lt` prefix: less than the value.
        pub fn lt(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Lt, value)
        }
        /// `ge` prefix: greater than or equal to the value.
        pub fn ge(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Ge, value)
        }
        /// `le` prefix: less than or equal to the value.
        pub fn le(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Le, value)
        }
        /// `sa` prefix: starts after the value.
        pub fn sa(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Sa, value)
        }
        /// `eb` prefix: ends before the value.
        pub fn eb(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Eb, value)
        }
        /// `ap` prefix: approximately the value.
        pub fn ap(value: $arg) -> Self {
            Self::with_prefix($crate::search::Prefix::Ap, value)
        }
    };
}
use prefix_constructors;

/// Encodes an [`prefix::Ordered`] value under `name`.
fn encode_ordered<V: prefix::OrderedValue>(
    inner: &prefix::Ordered<V>,
    name: &str,
) -> Result<Vec<(String, String)>, SearchError> {
    let pairs = inner
        .encode()
        .map_err(|reason| SearchError::new(name, reason))?;
    Ok(pairs
        .into_iter()
        .map(|(modifier, value)| (with_modifier(name, modifier), value))
        .collect())
}
