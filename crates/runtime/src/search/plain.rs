//! Shared representation of the unordered value types (token, string, reference, uri,
//! composite, special): one optional modifier and one or more already-escaped values OR-ed.

use super::{with_modifier, SearchError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plain {
    Values {
        modifier: Option<String>,
        /// Encoded (FHIR-escaped) alternatives, joined with `,` on the wire.
        values: Vec<String>,
    },
    Invalid(String),
}

impl Plain {
    pub(crate) fn one(modifier: Option<&str>, value: String) -> Self {
        Plain::Values {
            modifier: modifier.map(str::to_owned),
            values: vec![value],
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Plain::Invalid(reason.into())
    }

    pub(crate) fn missing(missing: bool) -> Self {
        Plain::one(Some("missing"), missing.to_string())
    }

    /// The modifier, when valid.
    pub(crate) fn modifier(&self) -> Option<&str> {
        match self {
            Plain::Values { modifier, .. } => modifier.as_deref(),
            Plain::Invalid(_) => None,
        }
    }

    /// Replaces the modifier; only allowed when there is none yet.
    pub(crate) fn set_modifier(self, new: &str) -> Self {
        match self {
            Plain::Values {
                modifier: None,
                values,
            } => Plain::Values {
                modifier: Some(new.to_owned()),
                values,
            },
            Plain::Values {
                modifier: Some(old),
                ..
            } => Plain::Invalid(format!(
                "cannot apply `:{new}`: the value already has the modifier `:{old}`"
            )),
            invalid @ Plain::Invalid(_) => invalid,
        }
    }

    pub(crate) fn or(self, other: Plain) -> Self {
        match (self, other) {
            (Plain::Invalid(r), _) | (_, Plain::Invalid(r)) => Plain::Invalid(r),
            (
                Plain::Values {
                    modifier: m1,
                    values: mut v1,
                },
                Plain::Values {
                    modifier: m2,
                    values: v2,
                },
            ) => {
                if m1.as_deref() == Some("missing") || m2.as_deref() == Some("missing") {
                    return Plain::Invalid(
                        "`:missing` cannot be OR-ed with another value".to_owned(),
                    );
                }
                if m1 != m2 {
                    return Plain::Invalid(format!(
                        "values OR-ed together must share one modifier (got {} and {})",
                        describe(m1.as_deref()),
                        describe(m2.as_deref())
                    ));
                }
                v1.extend(v2);
                Plain::Values {
                    modifier: m1,
                    values: v1,
                }
            }
        }
    }

    pub(crate) fn any_of(values: impl IntoIterator<Item = Plain>) -> Self {
        let mut iter = values.into_iter();
        match iter.next() {
            None => Plain::Invalid("an OR list needs at least one value".to_owned()),
            Some(first) => iter.fold(first, Plain::or),
        }
    }

    /// The single, unmodified value, for a composite part.
    pub(crate) fn single(&self, what: &str) -> Result<String, String> {
        match self {
            Plain::Invalid(r) => Err(r.clone()),
            Plain::Values {
                modifier: Some(m), ..
            } => Err(format!(
                "a composite part cannot carry a modifier (`:{m}` on a {what})"
            )),
            Plain::Values { values, .. } if values.len() != 1 => Err(format!(
                "a composite part must be a single {what}, not an OR list"
            )),
            Plain::Values { values, .. } => Ok(values.concat()),
        }
    }

    pub(crate) fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        match self {
            Plain::Invalid(reason) => Err(SearchError::new(name, reason.clone())),
            Plain::Values { modifier, values } => Ok(vec![(
                with_modifier(name, modifier.as_deref()),
                values.join(","),
            )]),
        }
    }
}

fn describe(modifier: Option<&str>) -> String {
    match modifier {
        Some(m) => format!("`:{m}`"),
        None => "no modifier".to_owned(),
    }
}

/// Implements the common API (`missing`, `or`, `any_of`, `SearchValue`) for a wrapper
/// `struct $t { inner: Plain }`.
macro_rules! plain_common {
    ($t:ident) => {
        impl $t {
            /// `:missing=true` (the element is absent) or `:missing=false` (present).
            pub fn missing(missing: bool) -> Self {
                $t {
                    inner: $crate::search::plain::Plain::missing(missing),
                }
            }

            /// OR: this value or `other` (joined with `,`). Both must have the same modifier.
            #[must_use]
            pub fn or(self, other: impl Into<$t>) -> Self {
                $t {
                    inner: self.inner.or(other.into().inner),
                }
            }

            /// OR over all `values`; an empty list is an error at encoding time.
            pub fn any_of<T: Into<$t>>(values: impl IntoIterator<Item = T>) -> Self {
                $t {
                    inner: $crate::search::plain::Plain::any_of(
                        values.into_iter().map(|v| v.into().inner),
                    ),
                }
            }
        }

        impl $crate::search::SearchValue for $t {
            fn encode(
                &self,
                name: &str,
            ) -> Result<Vec<(String, String)>, $crate::search::SearchError> {
                self.inner.encode(name)
            }
        }
    };
}
pub(crate) use plain_common;
