//! Prefixes on every ordered type and range bounds.

use super::*;

// ---- prefixes --------------------------------------------------------------------------------

#[test]
fn every_prefix_on_every_ordered_type() {
    for prefix in Prefix::ALL {
        let pre = prefix.as_str();
        let rows: Vec<(Vec<(String, String)>, String)> = vec![
            (
                one("date", Date::with_prefix(prefix, "1970-01-01")),
                format!("{pre}1970-01-01"),
            ),
            (
                one("date", DateValue::with_prefix(prefix, "1970")),
                format!("{pre}1970"),
            ),
            (
                one("n", Number::with_prefix(prefix, "5.40")),
                format!("{pre}5.40"),
            ),
            (
                one("n", NumberValue::with_prefix(prefix, -3)),
                format!("{pre}-3"),
            ),
            (
                one(
                    "q",
                    Quantity::with_prefix(prefix, 5.4).with_unit("http://unitsofmeasure.org", "mg"),
                ),
                format!("{pre}5.4|http://unitsofmeasure.org|mg"),
            ),
            (
                one("q", QuantityValue::with_prefix(prefix, 1).with_code("kg")),
                format!("{pre}1||kg"),
            ),
        ];
        for (got, expected) in rows {
            assert_eq!(got.len(), 1, "{prefix:?}");
            assert_eq!(got[0].1, expected, "{prefix:?}");
        }
    }
    // The named constructors agree with `with_prefix`.
    type Ctor = fn(&'static str) -> Date;
    let named: [(Prefix, Ctor); 9] = [
        (Prefix::Eq, |v| Date::eq(v)),
        (Prefix::Ne, |v| Date::ne(v)),
        (Prefix::Gt, |v| Date::gt(v)),
        (Prefix::Lt, |v| Date::lt(v)),
        (Prefix::Ge, |v| Date::ge(v)),
        (Prefix::Le, |v| Date::le(v)),
        (Prefix::Sa, |v| Date::sa(v)),
        (Prefix::Eb, |v| Date::eb(v)),
        (Prefix::Ap, |v| Date::ap(v)),
    ];
    for (prefix, ctor) in named {
        assert_eq!(ctor("2001"), Date::with_prefix(prefix, "2001"));
        assert_eq!(Number::ap(1), Number::with_prefix(Prefix::Ap, 1));
        assert_eq!(Quantity::sa(2), Quantity::with_prefix(Prefix::Sa, 2));
    }
    assert_eq!(
        one("date", Date::from("1970")),
        [p("date", "1970")],
        "no prefix by default"
    );
    assert_eq!(one("n", Number::new(7)), [p("n", "7")]);
}

#[test]
fn result_parameters_never_get_a_prefix() {
    let mut params = SearchParams::new();
    params.count(10);
    params.count(20); // replaces, does not AND
    params.sort("-date,name");
    params.include("Observation:patient");
    params.include_iterate("Patient:general-practitioner");
    params.rev_include("Provenance:target");
    params.rev_include_iterate("Observation:has-member");
    params.elements(["id", "name"]);
    params.summary(Summary::Count);
    params.total(Total::Accurate);
    params.sort("name");
    assert_eq!(
        pairs_of(&params),
        [
            p("_count", "20"),
            p("_sort", "name"),
            p("_include", "Observation:patient"),
            p("_include:iterate", "Patient:general-practitioner"),
            p("_revinclude", "Provenance:target"),
            p("_revinclude:iterate", "Observation:has-member"),
            p("_elements", "id,name"),
            p("_summary", "count"),
            p("_total", "accurate"),
        ]
    );
    assert_eq!(
        params.to_query_string().unwrap(),
        "_count=20&_sort=name&_include=Observation%3Apatient\
         &_include%3Aiterate=Patient%3Ageneral-practitioner&_revinclude=Provenance%3Atarget\
         &_revinclude%3Aiterate=Observation%3Ahas-member&_elements=id%2Cname&_summary=count\
         &_total=accurate"
    );
    // Typed values cannot reach a result parameter: no `_count=ge10`, no `_count` range.
    for name in [
        "_count",
        "_sort",
        "_include:iterate",
        "_summary",
        "_total",
        "_elements",
    ] {
        let err = err_of(name, Number::ge(10));
        assert_eq!(err.parameter(), name);
        assert!(err.reason().contains("is a result parameter"), "{err}");
    }
    // `count` replaces every earlier `_count`, wherever it came from, in place of the first.
    let mut params = SearchParams::new();
    params.raw("_count", "1");
    params.raw("x", "y");
    params.raw("_count", "2");
    params.count(3);
    assert_eq!(pairs_of(&params), [p("_count", "3"), p("x", "y")]);
    let err = err_of("_count", Number::between(1, 10));
    assert!(err.reason().contains("result parameter"));
    let mut params = SearchParams::new();
    params.elements(Vec::<String>::new());
    assert_eq!(params.pairs().unwrap_err().parameter(), "_elements");
}

// ---- ranges ----------------------------------------------------------------------------------

#[test]
fn every_range_bound_kind() {
    use Bound::{Exclusive as X, Inclusive as I, Unbounded as U};
    type Row = (
        Bound<&'static str>,
        Bound<&'static str>,
        &'static [&'static str],
    );
    let rows: [Row; 8] = [
        (I("1"), I("2"), &["ge1", "le2"]),
        (I("1"), X("2"), &["ge1", "lt2"]),
        (I("1"), U, &["ge1"]),
        (X("1"), I("2"), &["gt1", "le2"]),
        (X("1"), X("2"), &["gt1", "lt2"]),
        (X("1"), U, &["gt1"]),
        (U, I("2"), &["le2"]),
        (U, X("2"), &["lt2"]),
    ];
    let strip = |pairs: Vec<(String, String)>, name: &str| -> Vec<String> {
        pairs
            .into_iter()
            .map(|(n, v)| {
                assert_eq!(n, name, "a range repeats the plain name (AND)");
                v
            })
            .collect()
    };
    let year = |v: &str| if v == "1" { "1970" } else { "1980" };
    for (lower, upper, expected) in rows {
        // `ge1` means `ge1970` for dates, `ge1` for numbers and `ge1|s|c` for quantities.
        let want = |f: &dyn Fn(&str) -> String| -> Vec<String> {
            expected
                .iter()
                .map(|e| format!("{}{}", &e[..2], f(&e[2..])))
                .collect()
        };

        let date_bound = |b: &Bound<&str>| b.clone().map(|v| DateValue::new(year(v)));
        let got = one(
            "birthdate",
            Date::range(date_bound(&lower), date_bound(&upper)),
        );
        assert_eq!(
            strip(got, "birthdate"),
            want(&|v| year(v).to_owned()),
            "date {lower:?} {upper:?}"
        );

        let num_bound = |b: &Bound<&str>| b.clone().map(NumberValue::from);
        let got = one(
            "length",
            Number::range(num_bound(&lower), num_bound(&upper)),
        );
        assert_eq!(
            strip(got, "length"),
            want(&|v| v.to_owned()),
            "number {lower:?} {upper:?}"
        );

        let q_bound = |b: &Bound<&str>| b.clone().map(QuantityValue::from);
        let got = one(
            "value-quantity",
            Quantity::range(q_bound(&lower), q_bound(&upper)).with_unit("s", "c"),
        );
        assert_eq!(
            strip(got, "value-quantity"),
            want(&|v| format!("{v}|s|c")),
            "quantity {lower:?} {upper:?}"
        );
    }
    // Both ends open selects everything: refused rather than silently sending nothing.
    let err = err_of("birthdate", Date::range(Bound::Unbounded, Bound::Unbounded));
    assert!(err.reason().contains("at least one bound"), "{err}");
    // `between` is the inclusive range.
    assert_eq!(
        Date::between("1970", "1980"),
        Date::range(Bound::inclusive("1970"), Bound::inclusive("1980"))
    );
}

#[test]
fn range_order_is_checked_across_precisions() {
    let ok = [
        Date::between("1970", "1980"),
        Date::between("1970", "1970"),                   // one year
        Date::between("1970-06", "1970"),                // June..December 1970
        Date::between("1970-12-31", "1970"),             // last day of 1970
        Date::between("1970-01-01T10:00", "1970-01-01"), // within the day
        Date::between("1970-01-01T10:00:00Z", "1970-01-01T10:00:00Z"),
        Date::between("1970-01-01T10:00:00.5Z", "1970-01-01T10:00:00Z"), // same second
        // 10:00+02:00 is 08:00Z: fine.
        Date::between("1970-01-01T10:00:00+02:00", "1970-01-01T09:00:00Z"),
        // One end without zone: the server's zone could be up to 14 h away.
        Date::between("1970-01-02T05:00:00Z", "1970-01-01"),
        Date::range(Bound::exclusive("1970"), Bound::inclusive("1971")),
    ];
    for date in ok {
        assert!(date.encode("d").is_ok(), "{date:?}: {:?}", date.encode("d"));
    }
    let reversed = [
        Date::between("1980", "1970"),
        Date::between("1971-01-01", "1970"),
        Date::between("1970-01-01T10:01", "1970-01-01T10:00"),
        Date::between("1970-01-01T10:00:00Z", "1970-01-01T10:00:00+02:00"), // 08:00Z < 10:00Z
        Date::between("1970-01-02T15:00:00Z", "1970-01-01"),                // beyond the 14 h slack
        Date::range(Bound::exclusive("1970"), Bound::exclusive("1971")),    // empty
        Date::range(Bound::exclusive("1970"), Bound::inclusive("1970")),
    ];
    for date in reversed {
        let err = err_of("birthdate", date);
        assert_eq!(err.parameter(), "birthdate");
        assert!(err.reason().contains("selects nothing"), "{err}");
    }
    for number in [
        Number::between(2, 1),
        Number::between("1.5", "1.49"),
        Number::range(Bound::exclusive(1), Bound::inclusive(1)),
        Number::range(Bound::inclusive("1e3"), Bound::inclusive(999)),
    ] {
        assert!(err_of("n", number).reason().contains("selects nothing"));
    }
    assert!(Number::between(1, 1).encode("n").is_ok());
    assert!(Number::between("-1e3", "-999").encode("n").is_ok());
    assert!(Quantity::between(10, 5)
        .with_code("mg")
        .encode("q")
        .is_err());
    // Different units are compared by the server, not here.
    let mixed = Quantity::range(
        Bound::inclusive(QuantityValue::new(10).with_code("mg")),
        Bound::inclusive(QuantityValue::new(5).with_code("g")),
    );
    assert_eq!(one("q", mixed), [p("q", "ge10||mg"), p("q", "le5||g")]);
    // A prefixed bound is ambiguous.
    let err = err_of(
        "d",
        Date::range(Bound::Inclusive(DateValue::gt("1970")), Bound::Unbounded),
    );
    assert!(err.reason().contains("must not carry a prefix"), "{err}");
    // An invalid bound is reported as such.
    let err = err_of("d", Date::between("1970", "1980-13"));
    assert!(
        err.reason()
            .starts_with("upper bound: \"1980-13\" is not a FHIR date"),
        "{err}"
    );
}
