//! `quantity` search values: `[prefix]number|system|code`, `[prefix]number||code` or a plain
//! `[prefix]number`.
//!
//! The precision and range rules are documented on [`Quantity`].

use super::escape::{escape, split_unescaped, unescape};
use super::number::{check_number_range, from_decimal_sources};
use super::prefix::{parse_range_text, Bound, Ordered, OrderedValue};
use super::{encode_ordered, prefix_constructors, Decimal, Prefix, SearchError, SearchValue};

/// The unit part of a quantity: `|system|code` or `||code`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unit {
    system: Option<String>,
    code: String,
}

/// One quantity with an optional prefix: the unit OR lists and ranges are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QuantityAtom {
    prefix: Option<Prefix>,
    number: Decimal,
    unit: Result<Option<Unit>, String>,
}

impl QuantityAtom {
    fn with_unit(mut self, system: &str, code: &str) -> Self {
        self.unit = if system.is_empty() || code.is_empty() {
            Err(
                "a quantity unit needs a non-empty system and code (use `with_code` for `||code`)"
                    .to_owned(),
            )
        } else {
            Ok(Some(Unit {
                system: Some(system.to_owned()),
                code: code.to_owned(),
            }))
        };
        self
    }

    fn with_code(mut self, code: &str) -> Self {
        self.unit = if code.is_empty() {
            Err("a quantity unit code must not be empty".to_owned())
        } else {
            Ok(Some(Unit {
                system: None,
                code: code.to_owned(),
            }))
        };
        self
    }

    /// `ge5.4|system|code`, `5||code` or `5`; validated.
    fn parse(text: &str) -> Result<Self, SearchError> {
        let (prefix, rest) = Prefix::split(text);
        let parts = split_unescaped(rest, '|');
        let (number, unit) = match parts.as_slice() {
            [number] => (number, None),
            [number, system, code] => (number, Some((unescape(system), unescape(code)))),
            _ => {
                return Err(SearchError::value(format!(
                "{text:?} is not a quantity (expected number, number|system|code or number||code)"
            )))
            }
        };
        let atom = QuantityAtom {
            prefix,
            number: Decimal::parse(number)?,
            unit: Ok(None),
        };
        let atom = match unit {
            None => atom,
            Some((system, code)) if system.is_empty() => atom.with_code(&code),
            Some((system, code)) => atom.with_unit(&system, &code),
        };
        atom.literal().map_err(SearchError::value)?;
        Ok(atom)
    }

    fn has_unit(&self) -> bool {
        matches!(self.unit, Ok(Some(_)))
    }
}

impl OrderedValue for QuantityAtom {
    fn prefix(&self) -> Option<Prefix> {
        self.prefix
    }

    fn literal(&self) -> Result<String, String> {
        let number = self.number.literal()?;
        Ok(match self.unit.as_ref().map_err(Clone::clone)? {
            None => number,
            Some(Unit { system, code }) => format!(
                "{number}|{}|{}",
                system.as_deref().map(escape).unwrap_or_default(),
                escape(code)
            ),
        })
    }

    fn check_range(lower: &Bound<Self>, upper: &Bound<Self>) -> Result<(), String> {
        if let (Some(lo), Some(hi)) = (lower.value(), upper.value()) {
            if lo.unit != hi.unit {
                return Ok(());
            }
        }
        check_number_range(
            &lower.clone().map(|v| v.number),
            &upper.clone().map(|v| v.number),
        )
    }
}

/// A `quantity` value searched **by value only**: one quantity with an optional prefix (e.g.
/// `gt5.4|http://unitsofmeasure.org|mg`), several OR-ed, or `:missing`. [`Quantity`] adds
/// ranges.
///
/// ```
/// use fhirforge_runtime::search::{QuantityValue, SearchParams};
/// let v = QuantityValue::le(80).with_code("/min");
/// assert_eq!((v.system(), v.code()), (None, Some("/min")));
/// let mut params = SearchParams::new();
/// params.push("value-quantity", v);
/// assert_eq!(params.pairs().unwrap()[0].1, "le80||/min");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityValue {
    inner: Ordered<QuantityAtom>,
}

impl QuantityValue {
    fn atom(prefix: Option<Prefix>, number: impl Into<Decimal>) -> Self {
        QuantityValue {
            inner: Ordered::Any(vec![QuantityAtom {
                prefix,
                number: number.into(),
                unit: Ok(None),
            }]),
        }
    }

    /// A unitless quantity without prefix.
    pub fn new(number: impl Into<Decimal>) -> Self {
        QuantityValue::atom(None, number)
    }

    /// A unitless quantity with `prefix`.
    pub fn with_prefix(prefix: Prefix, number: impl Into<Decimal>) -> Self {
        QuantityValue::atom(Some(prefix), number)
    }

    prefix_constructors!(impl Into<Decimal>);

    /// `:missing=true|false`.
    pub fn missing(missing: bool) -> Self {
        QuantityValue {
            inner: Ordered::Missing(missing),
        }
    }

    /// Sets the unit to `system|code` (both must be non-empty), e.g.
    /// `("http://unitsofmeasure.org", "mg")`, on every value of an OR list.
    #[must_use]
    pub fn with_unit(self, system: impl AsRef<str>, code: impl AsRef<str>) -> Self {
        let (system, code) = (system.as_ref(), code.as_ref());
        QuantityValue {
            inner: self.inner.map_values(|v| v.with_unit(system, code)),
        }
    }

    /// Sets the unit to a code without system (`number||code`) on every value.
    #[must_use]
    pub fn with_code(self, code: impl AsRef<str>) -> Self {
        let code = code.as_ref();
        QuantityValue {
            inner: self.inner.map_values(|v| v.with_code(code)),
        }
    }

    /// OR: this value or `other`. `:missing` cannot be OR-ed.
    #[must_use]
    pub fn or(self, other: impl Into<QuantityValue>) -> Self {
        QuantityValue {
            inner: self.inner.or(other.into().inner),
        }
    }

    /// OR over all `values`; an empty list is an error at encoding time.
    pub fn any_of<T: Into<QuantityValue>>(values: impl IntoIterator<Item = T>) -> Self {
        QuantityValue {
            inner: Ordered::any_of(values.into_iter().map(|v| v.into().inner)),
        }
    }

    /// Parses CLI text: `ge5.4|http://unitsofmeasure.org|mg`, `5||mg` or `5` (prefix optional,
    /// system and code FHIR-escaped), or an OR list of those split at unescaped `,`.
    ///
    /// # Errors
    ///
    /// Unknown prefix, invalid number, or a unit that is not `|system|code` / `||code`.
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        Ok(QuantityValue {
            inner: Ordered::Any(
                split_unescaped(text, ',')
                    .into_iter()
                    .map(QuantityAtom::parse)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// The prefix of a single value.
    pub fn prefix(&self) -> Option<Prefix> {
        self.inner.single().ok()?.prefix
    }

    /// The number of a single value.
    pub fn number(&self) -> Option<&Decimal> {
        Some(&self.inner.single().ok()?.number)
    }

    /// The unit's system of a single value, if set.
    pub fn system(&self) -> Option<&str> {
        self.inner
            .single()
            .ok()?
            .unit
            .as_ref()
            .ok()?
            .as_ref()?
            .system
            .as_deref()
    }

    /// The unit's code of a single value, if set.
    pub fn code(&self) -> Option<&str> {
        Some(&self.inner.single().ok()?.unit.as_ref().ok()?.as_ref()?.code)
    }

    pub(crate) fn single(&self) -> Result<&QuantityAtom, String> {
        self.inner.single()
    }
}

from_decimal_sources!(QuantityValue);

/// A `quantity` search value: prefixed quantities OR-ed, a range, or `:missing`.
///
/// The number follows the rules of [`Number`](super::Number) (text kept, NaN rejected); the
/// system and code are FHIR-escaped. A range checks lower <= upper only when both ends have the
/// same unit (comparing 5 mg with 1 g is the server's business).
///
/// # Example
///
/// ```
/// use fhirforge_runtime::search::{Quantity, SearchParams};
/// const UCUM: &str = "http://unitsofmeasure.org";
/// let mut params = SearchParams::new();
/// params.push("value-quantity", Quantity::between(60, 100).with_code("/min"));
/// params.push("component-value-quantity", Quantity::ap("5.40").with_unit(UCUM, "mg"));
/// assert_eq!(
///     params.pairs().unwrap(),
///     [
///         ("value-quantity", "ge60||/min"),
///         ("value-quantity", "le100||/min"),
///         ("component-value-quantity", "ap5.40|http://unitsofmeasure.org|mg"),
///     ]
///     .map(|(n, v)| (n.to_owned(), v.to_owned()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    inner: Ordered<QuantityAtom>,
}

impl Quantity {
    /// A unitless quantity without prefix.
    pub fn new(number: impl Into<Decimal>) -> Self {
        QuantityValue::new(number).into()
    }

    /// A unitless quantity with `prefix`.
    pub fn with_prefix(prefix: Prefix, number: impl Into<Decimal>) -> Self {
        QuantityValue::with_prefix(prefix, number).into()
    }

    prefix_constructors!(impl Into<Decimal>);

    /// A range; each end inclusive, exclusive or open.
    pub fn range(lower: Bound<QuantityValue>, upper: Bound<QuantityValue>) -> Self {
        Quantity {
            inner: Ordered::range_of(lower.map(|v| v.inner), upper.map(|v| v.inner)),
        }
    }

    /// `lower <= q <= upper`: `ge{lower}&le{upper}`.
    pub fn between(lower: impl Into<QuantityValue>, upper: impl Into<QuantityValue>) -> Self {
        Quantity::range(
            Bound::Inclusive(lower.into()),
            Bound::Inclusive(upper.into()),
        )
    }

    /// `:missing=true|false`.
    pub fn missing(missing: bool) -> Self {
        Quantity {
            inner: Ordered::Missing(missing),
        }
    }

    /// Sets the unit `system|code` on every value and range end.
    #[must_use]
    pub fn with_unit(self, system: impl AsRef<str>, code: impl AsRef<str>) -> Self {
        let (system, code) = (system.as_ref(), code.as_ref());
        Quantity {
            inner: self.inner.map_values(|v| v.with_unit(system, code)),
        }
    }

    /// Sets the unit `||code` on every value and range end.
    #[must_use]
    pub fn with_code(self, code: impl AsRef<str>) -> Self {
        let code = code.as_ref();
        Quantity {
            inner: self.inner.map_values(|v| v.with_code(code)),
        }
    }

    /// OR: this value or `other`. Ranges and `:missing` cannot be OR-ed.
    #[must_use]
    pub fn or(self, other: impl Into<Quantity>) -> Self {
        Quantity {
            inner: self.inner.or(other.into().inner),
        }
    }

    /// OR over all `values`; an empty list is an error at encoding time.
    pub fn any_of<T: Into<Quantity>>(values: impl IntoIterator<Item = T>) -> Self {
        Quantity {
            inner: Ordered::any_of(values.into_iter().map(|v| v.into().inner)),
        }
    }

    /// Parses CLI text: `gt5.4|http://unitsofmeasure.org|mg`, or an OR list of those
    /// (split at unescaped `,`).
    ///
    /// # Errors
    ///
    /// Any alternative is not a valid quantity.
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        QuantityValue::parse_prefixed(text).map(Quantity::from)
    }

    /// Parses CLI range text: `5..10|http://unitsofmeasure.org|mg`, `5||mg..`, `..10`,
    /// `5..<10||mg`. When only one end names a unit, the other end gets the same unit.
    ///
    /// # Errors
    ///
    /// Not a range, an invalid quantity, or a reversed / empty range.
    pub fn parse_range(text: &str) -> Result<Self, SearchError> {
        let (mut lower, mut upper) = parse_range_text(text, QuantityAtom::parse)?;
        let unit_of =
            |b: &Bound<QuantityAtom>| b.value().filter(|v| v.has_unit()).map(|v| v.unit.clone());
        match (unit_of(&lower), unit_of(&upper)) {
            (Some(unit), None) => upper = upper.map(|v| QuantityAtom { unit, ..v }),
            (None, Some(unit)) => lower = lower.map(|v| QuantityAtom { unit, ..v }),
            _ => {}
        }
        // A prefixed end is refused by the range check.
        let quantity = Quantity {
            inner: Ordered::range(lower, upper),
        };
        if let Ordered::Invalid(reason) = &quantity.inner {
            return Err(SearchError::value(reason.clone()));
        }
        Ok(quantity)
    }
}

impl From<QuantityValue> for Quantity {
    fn from(value: QuantityValue) -> Self {
        Quantity { inner: value.inner }
    }
}

from_decimal_sources!(Quantity);

impl SearchValue for Quantity {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        encode_ordered(&self.inner, name)
    }
}

impl SearchValue for QuantityValue {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        encode_ordered(&self.inner, name)
    }
}
