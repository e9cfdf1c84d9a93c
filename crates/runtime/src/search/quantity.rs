//! `quantity` search values: `[prefix]number|system|code`, `[prefix]number||code` or a plain
//! `[prefix]number`.
//!
//! The number follows the rules of [`Number`](super::Number) (text kept, NaN rejected); the
//! system and code are FHIR-escaped. A range checks lower <= upper only when both ends have the
//! same unit (comparing 5 mg with 1 g is the server's business).

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

/// One quantity with an optional prefix, e.g. `gt5.4|http://unitsofmeasure.org|mg`.
///
/// ```
/// use fhirforge_runtime::search::{QuantityValue, SearchParams};
/// let mut params = SearchParams::new();
/// params.push("value-quantity", QuantityValue::le(80).with_code("/min"));
/// assert_eq!(params.pairs().unwrap()[0].1, "le80||/min");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityValue {
    prefix: Option<Prefix>,
    number: Decimal,
    unit: Result<Option<Unit>, String>,
}

impl QuantityValue {
    /// A unitless quantity without prefix.
    pub fn new(number: impl Into<Decimal>) -> Self {
        QuantityValue {
            prefix: None,
            number: number.into(),
            unit: Ok(None),
        }
    }

    /// A unitless quantity with `prefix`.
    pub fn with_prefix(prefix: Prefix, number: impl Into<Decimal>) -> Self {
        QuantityValue {
            prefix: Some(prefix),
            ..QuantityValue::new(number)
        }
    }

    prefix_constructors!(impl Into<Decimal>);

    /// Sets the unit to `system|code` (both must be non-empty), e.g.
    /// `("http://unitsofmeasure.org", "mg")`.
    #[must_use]
    pub fn with_unit(mut self, system: impl Into<String>, code: impl Into<String>) -> Self {
        let (system, code) = (system.into(), code.into());
        self.unit = if system.is_empty() || code.is_empty() {
            Err(
                "a quantity unit needs a non-empty system and code (use `with_code` for `||code`)"
                    .to_owned(),
            )
        } else {
            Ok(Some(Unit {
                system: Some(system),
                code,
            }))
        };
        self
    }

    /// Sets the unit to a code without system (`number||code`).
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        let code = code.into();
        self.unit = if code.is_empty() {
            Err("a quantity unit code must not be empty".to_owned())
        } else {
            Ok(Some(Unit { system: None, code }))
        };
        self
    }

    /// Parses CLI text: `ge5.4|http://unitsofmeasure.org|mg`, `5||mg` or `5` (prefix optional,
    /// system and code FHIR-escaped).
    ///
    /// # Errors
    ///
    /// Unknown prefix, invalid number, or a unit that is not `|system|code` / `||code`.
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        let (prefix, rest) = Prefix::split(text);
        let parts = split_unescaped(rest, '|');
        let value = match parts.as_slice() {
            [number] => QuantityValue::new(Decimal::parse(number)?),
            [number, system, code] => {
                let q = QuantityValue::new(Decimal::parse(number)?);
                if system.is_empty() {
                    q.with_code(unescape(code))
                } else {
                    q.with_unit(unescape(system), unescape(code))
                }
            }
            _ => {
                return Err(SearchError::value(format!(
                "{text:?} is not a quantity (expected number, number|system|code or number||code)"
            )))
            }
        };
        let value = QuantityValue { prefix, ..value };
        value.literal().map_err(SearchError::value)?;
        Ok(value)
    }

    /// The prefix, if any.
    pub fn prefix(&self) -> Option<Prefix> {
        self.prefix
    }

    /// The number.
    pub fn number(&self) -> &Decimal {
        &self.number
    }

    /// The unit's system, if set.
    pub fn system(&self) -> Option<&str> {
        self.unit.as_ref().ok()?.as_ref()?.system.as_deref()
    }

    /// The unit's code, if set.
    pub fn code(&self) -> Option<&str> {
        Some(&self.unit.as_ref().ok()?.as_ref()?.code)
    }

    fn has_unit(&self) -> bool {
        matches!(self.unit, Ok(Some(_)))
    }
}

from_decimal_sources!(QuantityValue);

impl OrderedValue for QuantityValue {
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

/// A `quantity` search value: prefixed quantities OR-ed, a range, or `:missing`.
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
    inner: Ordered<QuantityValue>,
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
            inner: Ordered::range(lower, upper),
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
    pub fn with_unit(self, system: impl Into<String>, code: impl Into<String>) -> Self {
        let (system, code) = (system.into(), code.into());
        Quantity {
            inner: self
                .inner
                .map_values(|v| v.with_unit(system.clone(), code.clone())),
        }
    }

    /// Sets the unit `||code` on every value and range end.
    #[must_use]
    pub fn with_code(self, code: impl Into<String>) -> Self {
        let code = code.into();
        Quantity {
            inner: self.inner.map_values(|v| v.with_code(code.clone())),
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
        let values = split_unescaped(text, ',')
            .into_iter()
            .map(|part| QuantityValue::parse_prefixed(part).map(Quantity::from))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Quantity::any_of(values))
    }

    /// Parses CLI range text: `5..10|http://unitsofmeasure.org|mg`, `5||mg..`, `..10`,
    /// `5..<10||mg`. When only one end names a unit, the other end gets the same unit.
    ///
    /// # Errors
    ///
    /// Not a range, an invalid quantity, or a reversed / empty range.
    pub fn parse_range(text: &str) -> Result<Self, SearchError> {
        let (mut lower, mut upper) = parse_range_text(text, QuantityValue::parse_prefixed)?;
        for bound in [&lower, &upper] {
            if bound.value().is_some_and(|v| v.prefix.is_some()) {
                return Err(SearchError::value(
                    "a range end must not carry a prefix; the range chooses ge/gt and le/lt",
                ));
            }
        }
        let unit_of =
            |b: &Bound<QuantityValue>| b.value().filter(|v| v.has_unit()).map(|v| v.unit.clone());
        match (unit_of(&lower), unit_of(&upper)) {
            (Some(unit), None) => upper = upper.map(|v| QuantityValue { unit, ..v }),
            (None, Some(unit)) => lower = lower.map(|v| QuantityValue { unit, ..v }),
            _ => {}
        }
        let quantity = Quantity::range(lower, upper);
        if let Ordered::Invalid(reason) = &quantity.inner {
            return Err(SearchError::value(reason.clone()));
        }
        Ok(quantity)
    }
}

impl From<QuantityValue> for Quantity {
    fn from(value: QuantityValue) -> Self {
        Quantity {
            inner: Ordered::Any(vec![value]),
        }
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
        encode_ordered(&Ordered::Any(vec![self.clone()]), name)
    }
}
