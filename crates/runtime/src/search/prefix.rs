//! Comparison prefixes and range bounds for the ordered types (date, number, quantity).

use std::fmt;
use std::str::FromStr;

use super::SearchError;

/// A FHIR search comparison prefix. Only date, number and quantity values take one.
///
/// ```
/// use fhirforge_runtime::search::Prefix;
/// assert_eq!(Prefix::Ge.as_str(), "ge");
/// assert_eq!("sa".parse::<Prefix>().unwrap(), Prefix::Sa);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Prefix {
    /// `eq`: the value equals the parameter (the server's default when no prefix is sent).
    Eq,
    /// `ne`: the value is not equal to the parameter.
    Ne,
    /// `gt`: the value is greater than the parameter.
    Gt,
    /// `lt`: the value is less than the parameter.
    Lt,
    /// `ge`: the value is greater than or equal to the parameter.
    Ge,
    /// `le`: the value is less than or equal to the parameter.
    Le,
    /// `sa`: the value starts after the parameter.
    Sa,
    /// `eb`: the value ends before the parameter.
    Eb,
    /// `ap`: the value is approximately the parameter (the server chooses how close).
    Ap,
}

impl Prefix {
    /// All nine prefixes, in the order the FHIR specification lists them.
    pub const ALL: [Prefix; 9] = [
        Prefix::Eq,
        Prefix::Ne,
        Prefix::Gt,
        Prefix::Lt,
        Prefix::Ge,
        Prefix::Le,
        Prefix::Sa,
        Prefix::Eb,
        Prefix::Ap,
    ];

    /// The two-letter form used on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Prefix::Eq => "eq",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
            Prefix::Ap => "ap",
        }
    }

    /// Splits a leading prefix off `text` (`"ge1970"` → `(Some(Ge), "1970")`).
    ///
    /// Only the nine lowercase prefixes are recognised; anything else is left in the value.
    pub fn split(text: &str) -> (Option<Prefix>, &str) {
        if let (Some(head), Some(rest)) = (text.get(..2), text.get(2..)) {
            if let Ok(prefix) = head.parse::<Prefix>() {
                return (Some(prefix), rest);
            }
        }
        (None, text)
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Prefix {
    type Err = SearchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Prefix::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                SearchError::value(format!(
                    "unknown prefix {s:?} (expected one of eq, ne, gt, lt, ge, le, sa, eb, ap)"
                ))
            })
    }
}

/// One end of a range (see `Date::range`, `Number::range`, `Quantity::range`).
///
/// The lower end encodes as `ge` (inclusive) or `gt` (exclusive), the upper end as `le` or `lt`;
/// an unbounded end sends nothing.
///
/// ```
/// use fhirforge_runtime::search::{Bound, Date, SearchParams};
/// let mut params = SearchParams::new();
/// params.push("birthdate", Date::range(Bound::inclusive("1970"), Bound::Unbounded));
/// assert_eq!(params.to_query_string().unwrap(), "birthdate=ge1970");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound<T> {
    /// The end is part of the range (`ge` / `le`).
    Inclusive(T),
    /// The end is not part of the range (`gt` / `lt`).
    Exclusive(T),
    /// No limit on this side.
    Unbounded,
}

impl<T> Bound<T> {
    /// `Bound::Inclusive(value.into())`, so literals need no explicit conversion.
    pub fn inclusive(value: impl Into<T>) -> Self {
        Bound::Inclusive(value.into())
    }

    /// `Bound::Exclusive(value.into())`.
    pub fn exclusive(value: impl Into<T>) -> Self {
        Bound::Exclusive(value.into())
    }

    /// The value at this end, if any.
    pub fn value(&self) -> Option<&T> {
        match self {
            Bound::Inclusive(v) | Bound::Exclusive(v) => Some(v),
            Bound::Unbounded => None,
        }
    }

    /// Whether this end is exclusive.
    pub fn is_exclusive(&self) -> bool {
        matches!(self, Bound::Exclusive(_))
    }

    /// Applies `f` to the value at this end.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Bound<U> {
        match self {
            Bound::Inclusive(v) => Bound::Inclusive(f(v)),
            Bound::Exclusive(v) => Bound::Exclusive(f(v)),
            Bound::Unbounded => Bound::Unbounded,
        }
    }
}

/// What a single ordered value (date, number or quantity) must provide to share the
/// prefix / OR / range machinery in [`Ordered`].
pub(crate) trait OrderedValue: Clone {
    /// The prefix, if any.
    fn prefix(&self) -> Option<Prefix>;
    /// The encoded value without prefix (already FHIR-escaped), or why it is invalid.
    fn literal(&self) -> Result<String, String>;
    /// Checks lower <= upper; both are valid values.
    fn check_range(lower: &Bound<Self>, upper: &Bound<Self>) -> Result<(), String>;

    /// `prefix + literal`.
    fn encode_one(&self) -> Result<String, String> {
        let literal = self.literal()?;
        Ok(match self.prefix() {
            Some(p) => format!("{p}{literal}"),
            None => literal,
        })
    }
}

/// Shared representation of `Date`, `Number` and `Quantity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ordered<V> {
    /// One or more values OR-ed with `,`.
    Any(Vec<V>),
    /// A range, encoded as two AND-ed parameters.
    Range { lower: Bound<V>, upper: Bound<V> },
    /// `:missing=true|false`.
    Missing(bool),
    /// Deferred construction error.
    Invalid(String),
}

impl<V: OrderedValue> Ordered<V> {
    pub(crate) fn range(lower: Bound<V>, upper: Bound<V>) -> Self {
        match Self::check_range(&lower, &upper) {
            Ok(()) => Ordered::Range { lower, upper },
            Err(reason) => Ordered::Invalid(reason),
        }
    }

    fn check_range(lower: &Bound<V>, upper: &Bound<V>) -> Result<(), String> {
        if lower.value().is_none() && upper.value().is_none() {
            return Err("a range needs at least one bound".to_owned());
        }
        for (side, bound) in [("lower", lower), ("upper", upper)] {
            if let Some(v) = bound.value() {
                if let Some(p) = v.prefix() {
                    return Err(format!(
                        "the {side} bound of a range must not carry a prefix (got `{p}`); \
                         the range chooses ge/gt and le/lt itself"
                    ));
                }
                v.literal()
                    .map_err(|reason| format!("{side} bound: {reason}"))?;
            }
        }
        V::check_range(lower, upper)
    }

    pub(crate) fn any_of(values: impl IntoIterator<Item = Self>) -> Self {
        let mut iter = values.into_iter();
        match iter.next() {
            None => Ordered::Invalid("an OR list needs at least one value".to_owned()),
            Some(first) => iter.fold(first, Ordered::or),
        }
    }

    pub(crate) fn or(self, other: Self) -> Self {
        match (self, other) {
            (Ordered::Invalid(r), _) | (_, Ordered::Invalid(r)) => Ordered::Invalid(r),
            (Ordered::Any(mut a), Ordered::Any(b)) => {
                a.extend(b);
                Ordered::Any(a)
            }
            (Ordered::Range { .. }, _) | (_, Ordered::Range { .. }) => Ordered::Invalid(
                "a range is two AND-ed parameters and cannot be OR-ed with another value"
                    .to_owned(),
            ),
            (Ordered::Missing(_), _) | (_, Ordered::Missing(_)) => {
                Ordered::Invalid("`:missing` cannot be OR-ed with another value".to_owned())
            }
        }
    }

    /// A range from two bounds given as OR-capable value types, each of which must hold
    /// exactly one value.
    pub(crate) fn range_of(lower: Bound<Ordered<V>>, upper: Bound<Ordered<V>>) -> Self {
        let single = |side: &str, b: Bound<Ordered<V>>| -> Result<Bound<V>, String> {
            match b {
                Bound::Inclusive(v) => v.into_single().map(Bound::Inclusive),
                Bound::Exclusive(v) => v.into_single().map(Bound::Exclusive),
                Bound::Unbounded => Ok(Bound::Unbounded),
            }
            .map_err(|reason| format!("{side} bound: {reason}"))
        };
        match (single("lower", lower), single("upper", upper)) {
            (Ok(lower), Ok(upper)) => Ordered::range(lower, upper),
            (Err(reason), _) | (_, Err(reason)) => Ordered::Invalid(reason),
        }
    }

    /// The one value this holds (not an OR list, range or `:missing`).
    pub(crate) fn single(&self) -> Result<&V, String> {
        match self {
            Ordered::Any(values) if values.len() == 1 => Ok(&values[0]),
            Ordered::Any(_) => Err("expected a single value, not an OR list".to_owned()),
            Ordered::Range { .. } => Err("expected a single value, not a range".to_owned()),
            Ordered::Missing(_) => Err("expected a single value, not `:missing`".to_owned()),
            Ordered::Invalid(reason) => Err(reason.clone()),
        }
    }

    fn into_single(self) -> Result<V, String> {
        self.single()?;
        match self {
            Ordered::Any(mut values) => Ok(values.remove(0)),
            _ => Err("expected a single value".to_owned()),
        }
    }

    pub(crate) fn map_values(self, f: impl Fn(V) -> V) -> Self {
        match self {
            Ordered::Any(values) => Ordered::Any(values.into_iter().map(f).collect()),
            Ordered::Range { lower, upper } => Ordered::range(lower.map(&f), upper.map(&f)),
            other => other,
        }
    }

    /// `(modifier suffix, value)` pairs; the caller puts them under its parameter name.
    pub(crate) fn encode(&self) -> Result<Vec<(Option<&'static str>, String)>, String> {
        match self {
            Ordered::Invalid(reason) => Err(reason.clone()),
            Ordered::Missing(b) => Ok(vec![(Some("missing"), b.to_string())]),
            Ordered::Any(values) => {
                let mut out = String::new();
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&v.encode_one()?);
                }
                Ok(vec![(None, out)])
            }
            Ordered::Range { lower, upper } => {
                let mut out = Vec::with_capacity(2);
                match lower {
                    Bound::Inclusive(v) => out.push((None, format!("ge{}", v.literal()?))),
                    Bound::Exclusive(v) => out.push((None, format!("gt{}", v.literal()?))),
                    Bound::Unbounded => {}
                }
                match upper {
                    Bound::Inclusive(v) => out.push((None, format!("le{}", v.literal()?))),
                    Bound::Exclusive(v) => out.push((None, format!("lt{}", v.literal()?))),
                    Bound::Unbounded => {}
                }
                Ok(out)
            }
        }
    }
}

/// Parses CLI range text: `lo..hi` (both inclusive), `lo..<hi` (upper exclusive), `lo<..hi`
/// (lower exclusive), `lo<..<hi`; either side may be empty (unbounded).
///
/// `parse_side` parses one non-empty side. Every `..` in `text` is tried as the split point (a
/// quantity's system URL may contain `..`), and the text is accepted if exactly one split point
/// parses.
pub(crate) fn parse_range_text<V>(
    text: &str,
    parse_side: impl Fn(&str) -> Result<V, SearchError>,
) -> Result<(Bound<V>, Bound<V>), SearchError> {
    let mut found = Vec::new();
    let mut last_error = None;
    for (at, _) in text.match_indices("..") {
        let (left, right) = (&text[..at], &text[at + 2..]);
        let (left, lower_exclusive) = match left.strip_suffix('<') {
            Some(l) => (l, true),
            None => (left, false),
        };
        let (right, upper_exclusive) = match right.strip_prefix('<') {
            Some(r) => (r, true),
            None => (right, false),
        };
        let side = |s: &str, exclusive: bool| -> Result<Bound<V>, SearchError> {
            if s.is_empty() {
                if exclusive {
                    return Err(SearchError::value("`<` needs a value next to it"));
                }
                return Ok(Bound::Unbounded);
            }
            let v = parse_side(s)?;
            Ok(if exclusive {
                Bound::Exclusive(v)
            } else {
                Bound::Inclusive(v)
            })
        };
        match (side(left, lower_exclusive), side(right, upper_exclusive)) {
            (Ok(lower), Ok(upper)) => found.push((lower, upper)),
            (Err(e), _) | (_, Err(e)) => last_error = Some(e),
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(last_error.unwrap_or_else(|| {
            SearchError::value(format!(
                "{text:?} is not a range (expected `lo..hi`, `lo..`, `..hi`, `lo..<hi` or `lo<..hi`)"
            ))
        })),
        _ => Err(SearchError::value(format!(
            "{text:?} is ambiguous: it can be split at more than one `..`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trips() {
        for p in Prefix::ALL {
            assert_eq!(p.as_str().parse::<Prefix>().ok(), Some(p));
            assert_eq!(Prefix::split(&format!("{p}12")), (Some(p), "12"));
        }
        assert!("GE".parse::<Prefix>().is_err());
        assert_eq!(Prefix::split("1970"), (None, "1970"));
        assert_eq!(Prefix::split("g"), (None, "g"));
        assert_eq!(Prefix::split("gé"), (None, "gé"));
    }
}
