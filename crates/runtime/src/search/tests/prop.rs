//! Property tests: encoding then parsing gives the values back.
use proptest::prelude::*;

use super::super::*;

/// Cases per property (state this number when reporting).
const CASES: u32 = 2048;

fn prefix() -> impl Strategy<Value = Option<Prefix>> {
    prop::option::of(prop::sample::select(Prefix::ALL.to_vec()))
}

/// `(year, month, day, hour, minute, second)` of a real calendar instant.
fn instant() -> impl Strategy<Value = (i64, i64, i64, u32, u32, u32)> {
    (
        1i64..=9999,
        1i64..=12,
        1i64..=31,
        0u32..24,
        0u32..60,
        0u32..=60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let dim = match mo {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            (y, mo, d.min(dim), h, mi, s)
        })
}

/// Formats an instant at `precision` (0 year .. 5 fraction) with `zone` (times only).
fn format_date(
    (y, mo, d, h, mi, s): (i64, i64, i64, u32, u32, u32),
    precision: u8,
    frac: &str,
    zone: &str,
) -> String {
    match precision {
        0 => format!("{y:04}"),
        1 => format!("{y:04}-{mo:02}"),
        2 => format!("{y:04}-{mo:02}-{d:02}"),
        3 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}{zone}"),
        4 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{zone}"),
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac}{zone}"),
    }
}

/// Valid FHIR date / dateTime / instant text of every precision, with and without zone.
fn date_text() -> impl Strategy<Value = String> {
    let zone = prop_oneof![
        Just(String::new()),
        Just("Z".to_owned()),
        (0u32..14, 0u32..60, any::<bool>())
            .prop_map(|(h, m, plus)| format!("{}{h:02}:{m:02}", if plus { '+' } else { '-' })),
        Just("+14:00".to_owned()),
        Just("-14:00".to_owned()),
    ];
    (instant(), 0u8..6, "[0-9]{1,12}", zone)
        .prop_map(|(at, precision, frac, zone)| format_date(at, precision, &frac, &zone))
}

/// Two zone-less dates of the same fixed-width precision (year to second).
fn same_precision_pair() -> impl Strategy<Value = (String, String)> {
    // Leap seconds (`:60`) overlap the next minute's `:00`, so text order is not
    // calendar order for them; they are covered by the other properties.
    let no_leap =
        |(y, mo, d, h, mi, s): (i64, i64, i64, u32, u32, u32)| (y, mo, d, h, mi, s.min(59));
    (
        instant().prop_map(no_leap),
        instant().prop_map(no_leap),
        0u8..5,
    )
        .prop_map(|(a, b, precision)| {
            (
                format_date(a, precision, "", ""),
                format_date(b, precision, "", ""),
            )
        })
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,12})(\\.[0-9]{1,8})?([eE][+-]?[0-9]{1,3})?".prop_map(Decimal::from),
        any::<i64>().prop_map(Decimal::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Decimal::from),
    ]
}

/// Any text, including the FHIR specials, `=`, `&`, `%`, `+`, spaces and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z,$|\\\\=&%+ é€]{0,10}", any::<String>(),]
}

fn non_empty_text() -> impl Strategy<Value = String> {
    text().prop_filter("non-empty", |s| !s.is_empty())
}

fn unit() -> impl Strategy<Value = Option<(Option<String>, String)>> {
    prop::option::of((prop::option::of(non_empty_text()), non_empty_text()))
}

fn quantity_value() -> impl Strategy<Value = QuantityValue> {
    (prefix(), decimal(), unit()).prop_map(|(prefix, number, unit)| {
        let q = match prefix {
            Some(p) => QuantityValue::with_prefix(p, number),
            None => QuantityValue::new(number),
        };
        match unit {
            None => q,
            Some((Some(system), code)) => q.with_unit(system, code),
            Some((None, code)) => q.with_code(code),
        }
    })
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        non_empty_text().prop_map(Token::code),
        (non_empty_text(), non_empty_text()).prop_map(|(s, c)| Token::system_code(s, c)),
        non_empty_text().prop_map(Token::no_system),
        non_empty_text().prop_map(Token::system),
    ]
}

/// A typed parameter, remembered with enough information to parse its value back.
#[derive(Debug, Clone)]
enum Typed {
    Date(Date),
    Number(Number),
    Quantity(Quantity),
    Token(Token),
    Str(Str),
    Raw(String, String),
}

fn typed() -> impl Strategy<Value = (String, Typed)> {
    let name = "[a-z][a-z0-9-]{0,12}(\\.[a-z]{1,5})?";
    (
        name,
        prop_oneof![
            prop::collection::vec((prefix(), date_text()), 1..4).prop_map(|values| {
                Typed::Date(Date::any_of(values.into_iter().map(|(p, d)| match p {
                    Some(p) => DateValue::with_prefix(p, d),
                    None => DateValue::new(d),
                })))
            }),
            prop::collection::vec((prefix(), decimal()), 1..4).prop_map(|values| {
                Typed::Number(Number::any_of(values.into_iter().map(|(p, d)| match p {
                    Some(p) => NumberValue::with_prefix(p, d),
                    None => NumberValue::new(d),
                })))
            }),
            prop::collection::vec(quantity_value(), 1..4)
                .prop_map(|values| Typed::Quantity(Quantity::any_of(values))),
            prop::collection::vec(token(), 1..4).prop_map(|t| Typed::Token(Token::any_of(t))),
            prop::collection::vec(non_empty_text(), 1..4)
                .prop_map(|t| Typed::Str(Str::any_of(t.into_iter().map(Str::new)))),
            (non_empty_text(), any::<String>()).prop_map(|(n, v)| Typed::Raw(n, v)),
        ],
    )
}

fn push(params: &mut SearchParams, name: &str, typed: &Typed) {
    match typed {
        Typed::Date(v) => params.push(name, v),
        Typed::Number(v) => params.push(name, v),
        Typed::Quantity(v) => params.push(name, v),
        Typed::Token(v) => params.push(name, v),
        Typed::Str(v) => params.push(name, v),
        Typed::Raw(n, v) => params.raw(n.clone(), v.clone()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Query string → parse → the same typed values, in the same order.
    #[test]
    fn encode_then_parse_gives_the_parameters_back(params in prop::collection::vec(typed(), 0..6)) {
        let mut search = SearchParams::new();
        for (name, typed) in &params {
            push(&mut search, name, typed);
        }
        let query = search.to_query_string().expect("generated values are valid");
        let decoded = SearchParams::from_query(&query).pairs().expect("raw pairs");
        prop_assert_eq!(&decoded, &search.pairs().expect("valid"));

        prop_assert_eq!(decoded.len(), params.len());
        for ((name, typed), (got_name, got_value)) in params.iter().zip(&decoded) {
            match typed {
                Typed::Raw(n, v) => {
                    prop_assert_eq!(got_name, n);
                    prop_assert_eq!(got_value, v);
                }
                other => {
                    prop_assert_eq!(got_name, name);
                    match other {
                        Typed::Date(v) => prop_assert_eq!(&Date::parse_prefixed(got_value).expect("date"), v),
                        Typed::Number(v) => prop_assert_eq!(&Number::parse_prefixed(got_value).expect("number"), v),
                        Typed::Quantity(v) => prop_assert_eq!(&Quantity::parse_prefixed(got_value).expect("quantity"), v),
                        Typed::Token(v) => prop_assert_eq!(&Token::parse(got_value).expect("token"), v),
                        Typed::Str(v) => prop_assert_eq!(&Str::parse(got_value).expect("string"), v),
                        Typed::Raw(..) => unreachable!(),
                    }
                }
            }
        }
    }

    /// Ranges: two AND-ed pairs that parse back to the same bounds; the CLI text form too.
    #[test]
    fn ranges_round_trip(a in date_text(), b in date_text(), lo_x in any::<bool>(), hi_x in any::<bool>()) {
        let bound = |d: &str, x: bool| if x { Bound::exclusive(d) } else { Bound::inclusive(d) };
        let date = Date::range(bound(&a, lo_x), bound(&b, hi_x));
        let mut search = SearchParams::new();
        search.push("date", &date);
        let Ok(query) = search.to_query_string() else {
            // Only an order violation may be refused.
            let err = search.pairs().unwrap_err();
            prop_assert!(err.reason().contains("selects nothing"), "{}", err);
            return Ok(());
        };
        let decoded = SearchParams::from_query(&query).pairs().expect("raw pairs");
        prop_assert_eq!(decoded.len(), 2);
        let lower = DateValue::parse_prefixed(&decoded[0].1).expect("lower");
        let upper = DateValue::parse_prefixed(&decoded[1].1).expect("upper");
        prop_assert_eq!(lower.prefix(), Some(if lo_x { Prefix::Gt } else { Prefix::Ge }));
        prop_assert_eq!(upper.prefix(), Some(if hi_x { Prefix::Lt } else { Prefix::Le }));
        prop_assert_eq!(lower.as_str(), Some(a.as_str()));
        prop_assert_eq!(upper.as_str(), Some(b.as_str()));
        let cli = format!("{a}{}..{}{b}", if lo_x { "<" } else { "" }, if hi_x { "<" } else { "" });
        prop_assert_eq!(Date::parse_range(&cli).expect("cli range"), date);
    }

    /// Same precision, no zone: the order check agrees with the (fixed-width) text order.
    #[test]
    fn range_check_matches_calendar_order((a, b) in same_precision_pair()) {
        let ok = Date::between(a.as_str(), b.as_str()).encode("d").is_ok();
        prop_assert_eq!(ok, a <= b, "{}..{}", a, b);
    }

    /// Bad input gets an error, never a panic: every parser on arbitrary text, including
    /// near-misses of the grammars.
    #[test]
    fn parsers_never_panic(
        text in prop_oneof![
            any::<String>(),
            "(ge|eq|xx)?[0-9]{0,5}(-[0-9]{0,3}){0,2}(T[0-9:.]{0,14})?(Z|[+-][0-9:]{0,6})?",
            "(ge|lt)?-?[0-9.eE+-]{0,8}(\\|[a-z|\\,.]{0,8}){0,3}",
            "[0-9T:.<-]{0,12}\\.\\.<?[0-9T:.-]{0,12}",
        ]
    ) {
        let _ = Date::parse_prefixed(&text);
        let _ = Date::parse_range(&text);
        let _ = Number::parse_prefixed(&text);
        let _ = Number::parse_range(&text);
        let _ = Quantity::parse_prefixed(&text);
        let _ = Quantity::parse_range(&text);
        let _ = Token::parse(&text);
        let _ = Str::parse(&text);
        let _ = Reference::parse(&text);
        let _ = text.parse::<Prefix>();
        let _ = SearchParams::from_query(&text).pairs();
        // Values built from the text either encode or report an error.
        let mut params = SearchParams::new();
        params.push("d", Date::between(text.as_str(), text.as_str()));
        params.push("n", Number::eq(text.as_str()));
        params.push("t", Token::code(&text));
        params.push("r", Reference::typed(&text, &text));
        let _ = params.to_query_string();
    }

    /// escape / split / unescape are inverse on any text.
    #[test]
    fn escaping_round_trips(parts in prop::collection::vec(text(), 1..5)) {
        let joined = parts.iter().map(|p| escape(p)).collect::<Vec<_>>().join(",");
        let back: Vec<String> = split_unescaped(&joined, ',').into_iter().map(unescape).collect();
        prop_assert_eq!(back, parts);
    }
}
