//! `date` search values: FHIR date / dateTime / instant, with prefix or as a range.
//!
//! The grammar and the range rule are documented on [`Date`].

use super::prefix::{parse_range_text, Bound, Ordered, OrderedValue};
use super::{encode_ordered, prefix_constructors, Prefix, SearchError, SearchValue};

const NANOS_PER_SEC: i128 = 1_000_000_000;
const DAY: i128 = 86_400 * NANOS_PER_SEC;
const ZONE_SLACK: i128 = 14 * 3_600 * NANOS_PER_SEC;

/// A validated FHIR date, dateTime or instant, with the period it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FhirDate {
    /// The caller's text, sent verbatim.
    text: String,
    /// Start of the period, nanoseconds since 1970-01-01T00:00:00 (UTC when zoned).
    start: i128,
    /// End of the period (exclusive).
    end: i128,
    /// Whether the text carries a zone (`Z` or an offset).
    zoned: bool,
}

/// One date with an optional prefix: the unit OR lists and ranges are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateAtom {
    prefix: Option<Prefix>,
    text: String,
    date: Result<FhirDate, String>,
}

impl DateAtom {
    fn new(prefix: Option<Prefix>, value: &str) -> Self {
        DateAtom {
            prefix,
            text: value.to_owned(),
            date: parse_date(value),
        }
    }

    /// `ge1970` → prefix and date; validated.
    fn parse(text: &str) -> Result<Self, SearchError> {
        let (prefix, rest) = Prefix::split(text);
        let atom = DateAtom::new(prefix, rest);
        atom.literal().map_err(SearchError::value)?;
        Ok(atom)
    }
}

impl OrderedValue for DateAtom {
    fn prefix(&self) -> Option<Prefix> {
        self.prefix
    }

    fn literal(&self) -> Result<String, String> {
        self.date
            .as_ref()
            .map(|d| d.text.clone())
            .map_err(Clone::clone)
    }

    fn check_range(lower: &Bound<Self>, upper: &Bound<Self>) -> Result<(), String> {
        let (Some(lo), Some(hi)) = (lower.value(), upper.value()) else {
            return Ok(());
        };
        let (Ok(lo_date), Ok(hi_date)) = (&lo.date, &hi.date) else {
            return Ok(()); // reported by `literal`
        };
        let earliest = if lower.is_exclusive() {
            lo_date.end
        } else {
            lo_date.start
        };
        let latest = if upper.is_exclusive() {
            hi_date.start
        } else {
            hi_date.end
        };
        let slack = if lo_date.zoned == hi_date.zoned {
            0
        } else {
            ZONE_SLACK
        };
        if earliest >= latest + slack {
            return Err(format!(
                "the range {}{}..{}{} selects nothing: its lower end is not before its upper end",
                if lower.is_exclusive() { "gt" } else { "ge" },
                lo_date.text,
                if upper.is_exclusive() { "lt" } else { "le" },
                hi_date.text,
            ));
        }
        Ok(())
    }
}

/// A `date` value searched **by value only**: one date with an optional prefix, several OR-ed
/// with [`or`](Self::or), or `:missing`. [`Date`] adds ranges.
///
/// Construction never fails; an invalid date is reported when the search is encoded (or
/// now, by [`validate`](Self::validate)).
///
/// ```
/// use fhirforge_runtime::search::{DateValue, Prefix, SearchParams};
/// let v = DateValue::ge("1970-01-01");
/// assert_eq!(v.prefix(), Some(Prefix::Ge));
/// assert_eq!(v.as_str(), Some("1970-01-01"));
/// assert!(DateValue::new("1970-13").validate().is_err());
///
/// let mut params = SearchParams::new();
/// params.push("death-date", DateValue::lt("1960").or(DateValue::gt("1990")));
/// assert_eq!(params.pairs().unwrap()[0].1, "lt1960,gt1990");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateValue {
    inner: Ordered<DateAtom>,
}

impl DateValue {
    /// A date without prefix (the server reads it as `eq`).
    pub fn new(value: impl AsRef<str>) -> Self {
        DateValue {
            inner: Ordered::Any(vec![DateAtom::new(None, value.as_ref())]),
        }
    }

    /// A date with `prefix`.
    pub fn with_prefix(prefix: Prefix, value: impl AsRef<str>) -> Self {
        DateValue {
            inner: Ordered::Any(vec![DateAtom::new(Some(prefix), value.as_ref())]),
        }
    }

    prefix_constructors!(impl AsRef<str>);

    /// `:missing=true` (no value) or `:missing=false` (has a value).
    pub fn missing(missing: bool) -> Self {
        DateValue {
            inner: Ordered::Missing(missing),
        }
    }

    /// OR: this value or `other` (joined with `,`). `:missing` cannot be OR-ed.
    #[must_use]
    pub fn or(self, other: impl Into<DateValue>) -> Self {
        DateValue {
            inner: self.inner.or(other.into().inner),
        }
    }

    /// OR over all `values`; an empty list is an error at encoding time.
    pub fn any_of<T: Into<DateValue>>(values: impl IntoIterator<Item = T>) -> Self {
        DateValue {
            inner: Ordered::any_of(values.into_iter().map(|v| v.into().inner)),
        }
    }

    /// Parses CLI text such as `ge1970-01-01`, `1970` or an OR list `lt1960,gt1990`.
    ///
    /// # Errors
    ///
    /// Unknown prefix or a date outside the grammar described in the [grammar on `Date`](Date).
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        Ok(DateValue {
            inner: Ordered::Any(
                text.split(',')
                    .map(DateAtom::parse)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// The prefix of a single value (`None` without prefix, for OR lists and `:missing`).
    pub fn prefix(&self) -> Option<Prefix> {
        self.inner.single().ok()?.prefix
    }

    /// The date text of a single value as given, without prefix (`None` for OR lists and
    /// `:missing`).
    pub fn as_str(&self) -> Option<&str> {
        Some(&self.inner.single().ok()?.text)
    }

    /// Checks the value now instead of at encoding time.
    ///
    /// # Errors
    ///
    /// A date is not a FHIR date, dateTime or instant, or an OR list is empty.
    pub fn validate(&self) -> Result<(), SearchError> {
        self.inner.encode().map(|_| ()).map_err(SearchError::value)
    }

    pub(crate) fn single(&self) -> Result<&DateAtom, String> {
        self.inner.single()
    }
}

impl From<&str> for DateValue {
    fn from(value: &str) -> Self {
        DateValue::new(value)
    }
}

impl From<String> for DateValue {
    fn from(value: String) -> Self {
        DateValue::new(value)
    }
}

impl From<&String> for DateValue {
    fn from(value: &String) -> Self {
        DateValue::new(value)
    }
}

/// A `date` search value: one or more prefixed dates OR-ed, a range, or `:missing`.
///
/// # Accepted grammar
///
/// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`, `YYYY-MM-DDThh:mm:ss` and
/// `YYYY-MM-DDThh:mm:ss.f+` (any number of fraction digits), each time optionally followed by
/// `Z` or `±hh:mm`. Years are 0001–9999, months and days must exist in the calendar (leap years
/// included), hours 00–23, minutes 00–59, seconds 00–60 (leap second), offsets up to ±14:00.
///
/// Two deliberate differences from the resource grammar:
/// * `hh:mm` without seconds is accepted, because search values with minute precision are
///   common in practice and their period (one minute) is well defined. A server that insists
///   on seconds answers with its own error.
/// * A time without a zone is accepted, as the FHIR search page allows: "where the timezone is
///   not specified, the timezone of the server is assumed".
///
/// The text is sent exactly as given, so its precision (`1970` vs `1970-01-01`) is kept.
///
/// # Range check
///
/// Every value stands for a period: `1970` is all of 1970, `1970-01-01T10:00` is one minute. A
/// range is rejected when it selects no time at all: the earliest instant the lower end admits
/// (the start of its period, or the end of it when exclusive) is not before the latest instant
/// the upper end admits (the end of its period, or the start when exclusive). So
/// `1970-06..1970` is fine (June to December 1970), `1980..1970` is reversed, and
/// `gt1970 & lt1971` is empty. When exactly one end carries a time zone, 14 hours of slack
/// are allowed, because the server's zone is unknown.
///
/// # Example
///
/// ```
/// use fhirforge_runtime::search::{Bound, Date, SearchParams};
/// let mut params = SearchParams::new();
/// params.push("birthdate", Date::ge("1970-01-01").or(Date::eq("1990")));
/// params.push("death-date", Date::range(Bound::exclusive("2000"), Bound::inclusive("2010-06")));
/// assert_eq!(
///     params.to_query_string().unwrap(),
///     "birthdate=ge1970-01-01%2Ceq1990&death-date=gt2000&death-date=le2010-06"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Date {
    inner: Ordered<DateAtom>,
}

impl Date {
    /// A date without prefix (the server reads it as `eq`).
    pub fn new(value: impl AsRef<str>) -> Self {
        DateValue::new(value).into()
    }

    /// A date with `prefix`.
    pub fn with_prefix(prefix: Prefix, value: impl AsRef<str>) -> Self {
        DateValue::with_prefix(prefix, value).into()
    }

    prefix_constructors!(impl AsRef<str>);

    /// A range; each end inclusive, exclusive or open, each a single date without prefix.
    /// Checked as described in the [grammar on `Date`](Date); a reversed or empty range is
    /// reported when encoding.
    pub fn range(lower: Bound<DateValue>, upper: Bound<DateValue>) -> Self {
        Date {
            inner: Ordered::range_of(lower.map(|v| v.inner), upper.map(|v| v.inner)),
        }
    }

    /// `lower <= date <= upper` (both inclusive): `ge{lower}&le{upper}`.
    pub fn between(lower: impl Into<DateValue>, upper: impl Into<DateValue>) -> Self {
        Date::range(
            Bound::Inclusive(lower.into()),
            Bound::Inclusive(upper.into()),
        )
    }

    /// `:missing=true` (no value) or `:missing=false` (has a value).
    pub fn missing(missing: bool) -> Self {
        Date {
            inner: Ordered::Missing(missing),
        }
    }

    /// OR: this value or `other` (joined with `,`). Ranges and `:missing` cannot be OR-ed.
    #[must_use]
    pub fn or(self, other: impl Into<Date>) -> Self {
        Date {
            inner: self.inner.or(other.into().inner),
        }
    }

    /// OR over all `values`; an empty list is an error at encoding time.
    pub fn any_of<T: Into<Date>>(values: impl IntoIterator<Item = T>) -> Self {
        Date {
            inner: Ordered::any_of(values.into_iter().map(|v| v.into().inner)),
        }
    }

    /// Parses CLI text: `ge1970-01-01`, or an OR list `lt1960,gt1990`.
    ///
    /// # Errors
    ///
    /// Any alternative has an unknown prefix or an invalid date.
    pub fn parse_prefixed(text: &str) -> Result<Self, SearchError> {
        DateValue::parse_prefixed(text).map(Date::from)
    }

    /// Parses CLI range text: `1970-01-01..1980` (both ends inclusive), `1970..` / `..1980`
    /// (open), `1970..<1980` (upper exclusive), `1970<..1980` (lower exclusive).
    ///
    /// # Errors
    ///
    /// Not a range, an invalid date (or a prefixed one), or a reversed / empty range.
    pub fn parse_range(text: &str) -> Result<Self, SearchError> {
        let (lower, upper) = parse_range_text(text, |side| {
            let v = DateValue::new(side);
            v.validate()?;
            Ok(v)
        })?;
        let date = Date::range(lower, upper);
        if let Ordered::Invalid(reason) = &date.inner {
            return Err(SearchError::value(reason.clone()));
        }
        Ok(date)
    }
}

impl From<DateValue> for Date {
    fn from(value: DateValue) -> Self {
        Date { inner: value.inner }
    }
}

impl From<&str> for Date {
    fn from(value: &str) -> Self {
        DateValue::new(value).into()
    }
}

impl From<String> for Date {
    fn from(value: String) -> Self {
        DateValue::new(value).into()
    }
}

impl From<&String> for Date {
    fn from(value: &String) -> Self {
        DateValue::new(value).into()
    }
}

impl SearchValue for Date {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        encode_ordered(&self.inner, name)
    }
}

impl SearchValue for DateValue {
    fn encode(&self, name: &str) -> Result<Vec<(String, String)>, SearchError> {
        encode_ordered(&self.inner, name)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads exactly `n` ASCII digits at `*pos`.
fn digits(bytes: &[u8], pos: &mut usize, n: usize) -> Option<i64> {
    let chunk = bytes.get(*pos..*pos + n)?;
    if !chunk.iter().all(u8::is_ascii_digit) {
        return None;
    }
    *pos += n;
    Some(
        chunk
            .iter()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')),
    )
}

fn expect(bytes: &[u8], pos: &mut usize, c: u8) -> bool {
    if bytes.get(*pos) == Some(&c) {
        *pos += 1;
        true
    } else {
        false
    }
}

const GRAMMAR: &str =
    "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm|-hh:mm]";

/// Validates `text` against the grammar in the module docs and computes its period.
fn parse_date(text: &str) -> Result<FhirDate, String> {
    let bad = |what: &str| format!("{text:?} is not a FHIR date: {what} ({GRAMMAR})");
    let bytes = text.as_bytes();
    let mut pos = 0;
    let year = digits(bytes, &mut pos, 4).ok_or_else(|| bad("the year needs four digits"))?;
    if year == 0 {
        return Err(bad("year 0000 does not exist"));
    }
    let done = |pos: usize| pos == bytes.len();
    let start_of = |y: i64, m: i64, d: i64| i128::from(days_from_civil(y, m, d)) * DAY;
    let (month, day);
    if done(pos) {
        let start = start_of(year, 1, 1);
        return Ok(FhirDate {
            text: text.to_owned(),
            start,
            end: start_of(year + 1, 1, 1),
            zoned: false,
        });
    }
    if !expect(bytes, &mut pos, b'-') {
        return Err(bad("expected `-` after the year"));
    }
    month = digits(bytes, &mut pos, 2).ok_or_else(|| bad("the month needs two digits"))?;
    if !(1..=12).contains(&month) {
        return Err(bad("the month must be 01 to 12"));
    }
    if done(pos) {
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        return Ok(FhirDate {
            text: text.to_owned(),
            start: start_of(year, month, 1),
            end: start_of(ny, nm, 1),
            zoned: false,
        });
    }
    if !expect(bytes, &mut pos, b'-') {
        return Err(bad("expected `-` after the month"));
    }
    day = digits(bytes, &mut pos, 2).ok_or_else(|| bad("the day needs two digits"))?;
    if day < 1 || day > days_in_month(year, month) {
        return Err(bad("no such day in that month"));
    }
    let day_start = start_of(year, month, day);
    if done(pos) {
        return Ok(FhirDate {
            text: text.to_owned(),
            start: day_start,
            end: day_start + DAY,
            zoned: false,
        });
    }
    if !expect(bytes, &mut pos, b'T') {
        return Err(bad("expected `T` before the time (a zone needs a time)"));
    }
    let hour = digits(bytes, &mut pos, 2).ok_or_else(|| bad("the hour needs two digits"))?;
    if !expect(bytes, &mut pos, b':') {
        return Err(bad("expected `:` after the hour"));
    }
    let minute = digits(bytes, &mut pos, 2).ok_or_else(|| bad("the minutes need two digits"))?;
    if hour > 23 || minute > 59 {
        return Err(bad("the time must be 00:00 to 23:59"));
    }
    let mut second = 0;
    let mut fraction: i128 = 0;
    // Length of the period the text stands for.
    let mut length = 60 * NANOS_PER_SEC;
    if expect(bytes, &mut pos, b':') {
        second = digits(bytes, &mut pos, 2).ok_or_else(|| bad("the seconds need two digits"))?;
        if second > 60 {
            return Err(bad("the seconds must be 00 to 60"));
        }
        length = NANOS_PER_SEC;
        if expect(bytes, &mut pos, b'.') {
            let from = pos;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            let frac_digits = &text[from..pos];
            if frac_digits.is_empty() {
                return Err(bad("expected digits after `.`"));
            }
            // Nanosecond resolution: further digits narrow the period below 1 ns, ignored.
            let mut scale = NANOS_PER_SEC;
            for b in frac_digits.bytes().take(9) {
                scale /= 10;
                fraction += i128::from(b - b'0') * scale;
            }
            length = scale.max(1);
        }
    }
    let mut offset: i128 = 0;
    let mut zoned = false;
    match bytes.get(pos) {
        None => {}
        Some(b'Z') => {
            pos += 1;
            zoned = true;
        }
        Some(&sign @ (b'+' | b'-')) => {
            pos += 1;
            let oh =
                digits(bytes, &mut pos, 2).ok_or_else(|| bad("the zone hour needs two digits"))?;
            if !expect(bytes, &mut pos, b':') {
                return Err(bad("expected `:` in the zone offset"));
            }
            let om = digits(bytes, &mut pos, 2)
                .ok_or_else(|| bad("the zone minutes need two digits"))?;
            if om > 59 || oh > 14 || (oh == 14 && om != 0) {
                return Err(bad("the zone offset must be between -14:00 and +14:00"));
            }
            let secs = i128::from(oh * 3_600 + om * 60) * NANOS_PER_SEC;
            offset = if sign == b'+' { secs } else { -secs };
            zoned = true;
        }
        Some(_) => return Err(bad("unexpected text after the time")),
    }
    if !done(pos) {
        return Err(bad("unexpected text after the zone"));
    }
    let start =
        day_start + i128::from(hour * 3_600 + minute * 60 + second) * NANOS_PER_SEC + fraction
            - offset;
    Ok(FhirDate {
        text: text.to_owned(),
        start,
        end: start + length,
        zoned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_grammar() {
        for ok in [
            "1970",
            "0001",
            "9999-12-31",
            "1970-01",
            "2000-02-29",
            "1970-01-01T10:00",
            "1970-01-01T10:00Z",
            "1970-01-01T23:59:60",
            "1970-01-01T10:00:00+14:00",
            "1970-01-01T10:00:00-05:30",
            "1970-01-01T10:00:00.1Z",
            "1970-01-01T10:00:00.123456789123+01:00",
        ] {
            assert!(parse_date(ok).is_ok(), "{ok}: {:?}", parse_date(ok));
        }
    }

    #[test]
    fn rejects_what_is_outside_it() {
        for bad in [
            "",
            "70",
            "0000",
            "19700",
            "1970-1",
            "1970-13",
            "1970-00",
            "1900-02-29",
            "1970-04-31",
            "1970-01-01Z",
            "1970-01-01 10:00",
            "1970-01-01T10",
            "1970-01-01T24:00",
            "1970-01-01T10:60",
            "1970-01-01T10:00:61",
            "1970-01-01T10:00:00.",
            "1970-01-01T10:00:00+15:00",
            "1970-01-01T10:00:00+14:30",
            "1970-01-01T10:00:00+0100",
            "1970-01-01T10:00:00z",
            "1970-01-01T10:00:00Zjunk",
            "１９７０",
            "ge1970",
        ] {
            let err = parse_date(bad).expect_err(bad);
            assert!(err.contains("is not a FHIR date"), "{err}");
        }
    }

    #[test]
    fn periods_follow_precision() {
        let year = parse_date("1970").unwrap();
        assert_eq!(year.start, 0);
        assert_eq!(year.end, 365 * DAY);
        let feb = parse_date("2000-02").unwrap();
        assert_eq!(feb.end - feb.start, 29 * DAY);
        let minute = parse_date("1970-01-01T00:01").unwrap();
        assert_eq!(
            (minute.start, minute.end),
            (60 * NANOS_PER_SEC, 120 * NANOS_PER_SEC)
        );
        let ms = parse_date("1970-01-01T00:00:01.5Z").unwrap();
        assert_eq!(ms.start, 1_500_000_000);
        assert_eq!(ms.end - ms.start, 100_000_000);
        let zoned = parse_date("1970-01-01T01:00:00+01:00").unwrap();
        assert_eq!(zoned.start, 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
