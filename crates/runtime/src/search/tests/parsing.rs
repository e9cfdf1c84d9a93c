//! The parse helpers the CLI uses.

use super::*;

// ---- parse helpers for the CLI -----------------------------------------------------------------

#[test]
fn cli_parsers() {
    assert_eq!(
        Date::parse_prefixed("ge1970-01-01").unwrap(),
        Date::ge("1970-01-01")
    );
    assert_eq!(Date::parse_prefixed("1970").unwrap(), Date::from("1970"));
    assert_eq!(
        Date::parse_prefixed("lt1960,gt1990").unwrap(),
        Date::lt("1960").or(Date::gt("1990"))
    );
    assert_eq!(
        Number::parse_prefixed("ap-2.5e3").unwrap(),
        Number::ap("-2.5e3")
    );
    assert_eq!(
        Quantity::parse_prefixed(r"le5.4|http://x\|y|mg,1||g").unwrap(),
        Quantity::le("5.4")
            .with_unit("http://x|y", "mg")
            .or(QuantityValue::new(1).with_code("g"))
    );
    for (text, expected) in [
        ("1970-01-01..1980", Date::between("1970-01-01", "1980")),
        (
            "1970..",
            Date::range(Bound::inclusive("1970"), Bound::Unbounded),
        ),
        (
            "..1980",
            Date::range(Bound::Unbounded, Bound::inclusive("1980")),
        ),
        (
            "1970..<1980",
            Date::range(Bound::inclusive("1970"), Bound::exclusive("1980")),
        ),
        (
            "1970<..1980",
            Date::range(Bound::exclusive("1970"), Bound::inclusive("1980")),
        ),
        (
            "1970<..<1980",
            Date::range(Bound::exclusive("1970"), Bound::exclusive("1980")),
        ),
        (
            "2020-01-01T10:00:00.5Z..2020-01-01T11:00Z",
            Date::between("2020-01-01T10:00:00.5Z", "2020-01-01T11:00Z"),
        ),
    ] {
        assert_eq!(Date::parse_range(text).unwrap(), expected, "{text}");
    }
    assert_eq!(
        Number::parse_range("1.5..2.5").unwrap(),
        Number::between("1.5", "2.5")
    );
    assert_eq!(
        Number::parse_range("-5..<0").unwrap(),
        Number::range(Bound::inclusive(-5), Bound::exclusive(0))
    );
    assert_eq!(
        Quantity::parse_range("5..10|http://unitsofmeasure.org|mg").unwrap(),
        Quantity::between(5, 10).with_unit("http://unitsofmeasure.org", "mg")
    );
    assert_eq!(
        Quantity::parse_range("5||mg..").unwrap(),
        Quantity::range(
            Bound::inclusive(QuantityValue::new(5).with_code("mg")),
            Bound::Unbounded
        )
    );
    // `..` inside a system URL does not confuse the split.
    assert_eq!(
        Quantity::parse_range("1|http://a/../u|c..2").unwrap(),
        Quantity::between(1, 2).with_unit("http://a/../u", "c")
    );
    for (bad, needle) in [
        ("1980..1970", "selects nothing"),
        ("..", "at least one bound"),
        ("1970", "is not a range"),
        ("1970..19800", "not a FHIR date"),
        ("ge1970..1980", "not a FHIR date"),
        ("<..1980", "needs a value"),
    ] {
        let err = Date::parse_range(bad).expect_err(bad);
        assert!(err.reason().contains(needle), "{bad}: {err}");
        assert_eq!(err.parameter(), "");
        assert!(err.to_string().starts_with("invalid search value: "));
        assert_eq!(
            err.clone().with_parameter("birthdate").parameter(),
            "birthdate"
        );
    }
    for bad in ["xx1970", "ge", "ge1970-1", "1970,", ""] {
        assert!(Date::parse_prefixed(bad).is_err(), "{bad}");
    }
    for bad in ["ge", "1..2..3", "5|mg", "5|s|", "nan"] {
        assert!(
            Number::parse_range(bad).is_err() || Quantity::parse_prefixed(bad).is_err(),
            "{bad}"
        );
    }
    assert_eq!(
        Str::parse(r"a\,b,c").unwrap(),
        Str::from("a,b").or(Str::from("c"))
    );
    assert!(Str::parse("").is_err());
    assert!(Str::parse("a,,b").is_err());
    assert_eq!(
        Token::parse(r"s|c\|d,|x").unwrap(),
        Token::system_code("s", "c|d").or(Token::no_system("x"))
    );
    assert_eq!(
        Reference::parse(r"Patient/1,2,http://x/fhir/Patient/3,urn:uuid:4,http://x/vs|1\,0")
            .unwrap(),
        Reference::any_of([
            Reference::typed("Patient", "1"),
            Reference::id("2"),
            Reference::url("http://x/fhir/Patient/3"),
            Reference::url("urn:uuid:4"),
            Reference::canonical("http://x/vs", "1,0"),
        ])
    );
    for bad in ["", "patient/1", "a|b|c", "Patient/", "1,"] {
        assert!(Reference::parse(bad).is_err(), "{bad}");
    }
    assert!(Quantity::parse_prefixed("5|mg").is_err());
    assert!(Quantity::parse_prefixed("5|s|").is_err());
    assert!(Quantity::parse_range("ge5..10").is_err());
    assert!(Number::parse_range("1..2..3").is_err());
}
