//! `number` search values and the [`Decimal`] literal shared with quantities.
//!
//! The precision and range rules are documented on [`Number`].

use std::cmp::Ordering;

use super::prefix::{parse_range_text, Bound, Ordered, OrderedValue};
use super::{encode_ordered, prefix_constructors, Prefix, SearchError, SearchValue};

/// A FHIR decimal as text, e.g. `5.40` or `-1e3`. Built from integers, floats or strings.
///
/// ```
/// use fhirforge_runtime::search::Decimal;
/// assert_eq!(Decimal::from(5.40).as_str(), Some("5.4"));
/// assert_eq!(Decimal::from("5.40").as_str(), Some("5.40"));
/// assert_eq!(Decimal::from(-12_i64).as_str(), Some("-12"));
/// assert!(Decimal::from(f64::NAN).validate().is_err());
/// assert!(Decimal::from("1,5").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    text: Result<String, String>,
}

impl Decimal {
    /// Parses a decimal string, keeping its text.
    ///
    /// # Errors
    ///
    /// The text does not match the FHIR decimal grammar.
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        let d = Decimal::from(text);
        d.validate()?;
        Ok(d)
    }

    /// The text to send, or `None` when the value is invalid.
    pub fn as_str(&self) -> Option<&str> {
        self.text.as_deref().ok()
    }

    /// Checks the value now instead of at encoding time.
    ///
    /// # Errors
    ///
    /// Not a FHIR decimal (NaN, infinity, malformed text).
    pub fn validate(&self) -> Result<(), SearchError> {
        self.text
            .as_ref()
            .map(|_| ())
            .map_err(|reason| SearchError::value(reason.clone()))
    }

    pub(crate) fn literal(&self) -> Result<String, String> {
        self.text.clone()
    }

    /// Numeric comparison of two valid decimals (via `f64`, enough to spot reversed ranges).
    pub(crate) fn compare(&self, other: &Decimal) -> Option<Ordering> {
        let a: f64 = self.text.as_ref().ok()?.parse().ok()?;
        let b: f64 = other.text.as_ref().ok()?.parse().ok()?;
        a.partial_cmp(&b)
    }
}

fn check_decimal(text: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "{text:?} is not a FHIR number (expected digits with an optional `-`, `.fraction` \
             and exponent, e.g. 5, -0.25, 1.5e3)"
        )
    };
    let b = text.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return Err(bad());
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == from {
            return Err(bad());
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == from {
            return Err(bad());
        }
    }
    if i != b.len() {
        return Err(bad());
    }
    Ok(text.to_owned())
}

fn float_text(v: f64) -> Result<String, String> {
    if v.is_finite() {
        Ok(format!("{v}"))
    } else {
        Err(format!(
            "{v} is not a FHIR number (NaN and infinities cannot be searched)"
        ))
    }
}

impl From<&str> for Decimal {
    fn from(value: &str) -> Self {
        Decimal {
            text: check_decimal(value),
        }
    }
}

impl From<String> for Decimal {
    fn from(value: String) -> Self {
        Decimal::from(value.as_str())
    }
}

impl From<&String> for Decimal {
    fn from(value: &String) -> Self {
        Decimal::from(value.as_str())
    }
}

impl From<f64> for Decimal {
    fn from(value: f64) -> Self {
        Decimal {
            text: float_text(value),
        }
    }
}

impl From<f32> for Decimal {
    fn from(value: f32) -> Self {
        // f32's own shortest form: 0.1f32 → "0.1", not 0.10000000149011612.
        Decimal {
            text: if value.is_finite() {
                Ok(format!("{value}"))
            } else {
                float_text(f64::from(value))
            },
        }
    }
}

macro_rules! decimal_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Decimal {
            fn from(value: $t) -> Self {
                Decimal { text: Ok(value.to_string()) }
            }
        }
    )*};
}
decimal_from_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// Implements `From<T>` for every type a [`Decimal`] can be built from.
macro_rules! from_decimal_sources {
    ($target:ty) => {
        $crate::search::number::from_decimal_sources!(
            @each $target; i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize,
            f32, f64, &str, String, &String, $crate::search::Decimal
        );
    };
    (@each $target:ty; $($t:ty),*) => {$(
        impl From<$t> for $target {
            fn from(value: $t) -> Self {
                <$target>::new(value)
            }
        }
    )*};
}
pub(crate) use from_decimal_sources;

/// One number with an optional prefix: the unit OR lists and ranges are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberAtom {
    prefix: Option<Prefix>,
    number: Decimal,
}

impl NumberAtom {
    fn parse(text: &str) -> Result<Self, SearchError> {
        let (prefix, rest) = Prefix::split(text);
        Ok(NumberAtom {
            prefix,
            number: Decimal::parse(rest)?,
        })
    }
}

impl OrderedValue for NumberAtom {
    fn prefix(&self) -> Option<Prefix> {
        self.prefix
    }

    fn literal(&self) -> Result<String, String> {
        self.number.literal()
    }

    fn check_range(lower: &Bound<Self>, upper: &Bound<Self>) -> Result<(), String> {
        check_number_range(
            &lower.clone().map(|v| v.number),
            &upper.clone().map(|v| v.number),
        )
    }
}

/// A `number` value searched **by value only**: one number with an optional prefix (e.g.
/// `gt5.4`), several OR-ed, or `:missing`. [`Number`] adds ranges.
///
/// ```
/// use fhirforge_runtime::search::{NumberValue, Prefix, SearchParams};
/// let v = NumberValue::gt("5.40");
/// assert_eq!(v.prefix(), Some(Prefix::Gt));
/// assert_eq!(v.number().and_then(|d| d.as_str()), Some("5.40"));
/// let mut params = SearchParams::new();
/// params.push("probability", NumberValue::lt(0.2).or(NumberValue::gt(0.8)));
/// assert_eq!(params.pairs().unwrap()[0].1, "lt0.2,gt0.8");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberValue {
    inner: Ordered<NumberAtom>,
}

impl NumberValue {
    fn atom(prefix: Option<Prefix>, value: impl Into<Decimal>) -> Self {
        NumberValue {
            inner: Ordered::Any(vec![NumberAtom {
                prefix,
                number: value.into(),
            }]),
        }
    }

    /// A number without prefix.
    pub fn new(value: impl Into<Decimal>) -> Self {
        NumberValue::atom(None, value)
    }

    /// A number with `prefix`.
    pub fn with_prefix(prefix: Prefix, value: impl Into<Decimal>) -> Self {
        NumberValue::atom(Some(prefix), value)
    }

    prefix_constructors!(impl Into<Decimal>);

    /// `:missing=true|false`.
    pub fn missing(missing: bool) -> Self {
        NumberValue {
            inner: Ordered::Missing(missing),
        }
    }

    /// OR: this value or `other`. `:missing` cannot be OR-ed.
    #[must_use]
    pub fn or(self, other: impl Into<NumberValue>) -> Self {
        NumberValue {
            inner: self.inner.or(other.into().inner),
        }
    }

    /// OR over all `values`; an empty list is an error at encoding time.
    pub fn any_of<T: Into<NumberValue>>(values: impl IntoIterator<Item = T>) -> Self {
        NumberValue {
            inner: Ordered::any_of(values.into_iter().map(|v| v.into().inner)),
        }
    }

    /// Parses CLI text such as `ge10`, `-2.5e3` or an OR list `lt1,gt9` (prefix optional).
    ///
    /// # Errors
    ///
    /// Unknown prefix or not a FHIR decimal.
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        Ok(NumberValue {
            inner: Ordered::Any(
                text.split(',')
                    .map(NumberAtom::parse)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// The prefix of a single value.
    pub fn prefix(&self) -> Option<Prefix> {
        self.inner.single().ok()?.prefix
    }

    /// The number of a single value (`None` for OR lists and `:missing`).
    pub fn number(&self) -> Option<&Decimal> {
        Some(&self.inner.single().ok()?.number)
    }

    pub(crate) fn single(&self) -> Result<&NumberAtom, String> {
        self.inner.single()
    }
}

from_decimal_sources!(NumberValue);

/// Shared by numbers and quantities: lower must not exceed upper.
pub(crate) fn check_number_range(
    lower: &Bound<Decimal>,
    upper: &Bound<Decimal>,
) -> Result<(), String> {
    let (Some(lo), Some(hi)) = (lower.value(), upper.value()) else {
        return Ok(());
    };
    let reversed = match lo.compare(hi) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => lower.is_exclusive() || upper.is_exclusive(),
        _ => false,
    };
    if reversed {
        return Err(format!(
            "the range {}{}..{}{} selects nothing: its lower end is not below its upper end",
            if lower.is_exclusive() { "gt" } else { "ge" },
            lo.as_str().unwrap_or_default(),
            if upper.is_exclusive() { "lt" } else { "le" },
            hi.as_str().unwrap_or_default(),
        ));
    }
    Ok(())
}

/// A `number` search value: prefixed numbers OR-ed, a range, or `:missing`.
///
/// FHIR gives a number's precision a meaning (`100` matches 99.5 to 100.5, `100.00` matches
/// 99.995 to 100.005), so the number is kept as text exactly as the caller wrote it. `&str`
/// values are validated against the FHIR decimal grammar
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Integers are written in full. `f64` values
/// are written in Rust's shortest round-trip form (`0.1` → `0.1`, `5.0` → `5`), so pass a string
/// such as `"5.0"` to send a precision an `f64` cannot carry; NaN and infinities are errors.
///
/// A range is rejected when its lower end is numerically above its upper end, or equal to it
/// with either end exclusive (the implicit precision ranges are not considered).
///
/// # Example
///
/// ```
/// use fhirforge_runtime::search::{Number, SearchParams};
/// let mut params = SearchParams::new();
/// params.push("probability", Number::between("0.8", 1).or(Number::eq(0)).or(Number::ap(5)));
/// assert!(params.pairs().is_err()); // a range cannot be OR-ed
///
/// let mut params = SearchParams::new();
/// params.push("probability", Number::gt("0.80"));
/// params.push("length", Number::between(10, 20.5));
/// assert_eq!(params.to_query_string().unwrap(), "probability=gt0.80&length=ge10&length=le20.5");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    inner: Ordered<NumberAtom>,
}

impl Number {
    /// A number without prefix.
    pub fn new(value: impl Into<Decimal>) -> Self {
        NumberValue::new(value).into()
    }

    /// A number with `prefix`.
    pub fn with_prefix(prefix: Prefix, value: impl Into<Decimal>) -> Self {
        NumberValue::with_prefix(prefix, value).into()
    }

    prefix_constructors!(impl Into<Decimal>);

    /// A range; each end inclusive, exclusive or open. A reversed or empty range is reported
    /// when encoding.
    pub fn range(lower: Bound<NumberValue>, upper: Bound<NumberValue>) -> Self {
        Number {
            inner: Ordered::range_of(lower.map(|v| v.inner), upper.map(|v| v.inner)),
        }
    }

    /// `lower <= n <= upper`: `ge{lower}&le{upper}`.
    pub fn between(lower: impl Into<NumberValue>, upper: impl Into<NumberValue>) -> Self {
        Number::range(
            Bound::Inclusive(lower.into()),
            Bound::Inclusive(upper.into()),
        )
    }

    /// `:missing=true|false`.
    pub fn missing(missing: bool) -> Self {
        Number {
            inner: Ordered::Missing(missing),
        }
    }

    /// OR: this value or `other`. Ranges and `:missing` cannot be OR-ed.
    #[must_use]
    pub fn or(self, other: impl Into<Number>) -> Self {
        Number {
            inner: self.inner.or(other.into().inner),
        }
    }

    /// OR over all `values`; an empty list is an error at encoding time.
    pub fn any_of<T: Into<Number>>(values: impl IntoIterator<Item = T>) -> Self {
        Number {
            inner: Ordered::any_of(values.into_iter().map(|v| v.into().inner)),
        }
    }

    /// Parses CLI text: `ge10`, or an OR list `lt1,gt9`.
    ///
    /// # Errors
    ///
    /// Unknown prefix or invalid number in any alternative.
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        NumberValue::parse_prefixed(text).map(Number::from)
    }

    /// Parses CLI range text: `10..20` (inclusive), `10..` / `..20`, `10..<20`, `10<..20`.
    ///
    /// # Errors
    ///
    /// Not a range, an invalid number, or a reversed / empty range.
    pub fn parse_range(text: &str) -> Result<Self, SearchError> {
        let (lower, upper) =
            parse_range_text(text, |side| Ok(NumberValue::new(Decimal::parse(side)?)))?;
        let number = Number::range(lower, upper);
        if let Ordered::Invalid(reason) = &number.inner {
            return Err(SearchError::value(reason.clone()));
        }
        Ok(number)
    }
}

impl From<NumberValue> for Number {
    fn from(value: NumberValue) -> Self {
        Number { inner: value.inner }
    }
}

from_decimal_sources!(Number);

impl SearchValue for Number {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        encode_ordered(&self.inner, name)
    }
}

impl SearchValue for NumberValue {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        encode_ordered(&self.inner, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_grammar() {
        for ok in [
            "0", "-0", "5", "5.40", "-12.5", "1e3", "1E-3", "1.5e+10", "100",
        ] {
            assert_eq!(Decimal::from(ok).as_str(), Some(ok), "{ok}");
        }
        for bad in [
            "", "-", "+5", "05", "5.", ".5", "1e", "1,5", " 5", "5 ", "NaN", "inf", "0x10", "1e3.5",
        ] {
            let err = Decimal::from(bad).validate().expect_err(bad);
            assert!(err.reason().contains("is not a FHIR number"), "{err}");
        }
    }

    #[test]
    fn decimal_sources() {
        assert_eq!(Decimal::from(0.1).as_str(), Some("0.1"));
        assert_eq!(Decimal::from(0.1f32).as_str(), Some("0.1"));
        assert_eq!(Decimal::from(5.0).as_str(), Some("5"));
        assert_eq!(Decimal::from(-0.0).as_str(), Some("-0"));
        assert_eq!(
            Decimal::from(u64::MAX).as_str(),
            Some("18446744073709551615")
        );
        assert_eq!(Decimal::from(1e-7).as_str(), Some("0.0000001"));
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(Decimal::from(v).validate().is_err());
        }
        assert!(Decimal::from(f32::NAN).validate().is_err());
    }
}
