//! OR and AND lists, `:missing` and modifiers.

use super::*;

// ---- OR, AND, missing, modifiers ---------------------------------------------------------------

#[test]
fn or_and_and() {
    let mut params = SearchParams::new();
    params.push("birthdate", Date::lt("1960").or(Date::gt("1990")));
    params.push("birthdate", Date::ne("1975"));
    params.push(
        "code",
        Token::any_of([Token::code("a"), Token::code("b"), Token::system("s")]),
    );
    params.push("family", Str::any_of(["Smith", "Jones"]));
    params.push("length", Number::any_of([1, 2, 3]));
    params.push("q", Quantity::eq(1).or(QuantityValue::eq(2).with_code("g")));
    params.push("url", Uri::new("http://a").or(Uri::from("http://b")));
    params.push(
        "subject",
        Reference::target("Patient", "1").or(Reference::target("Patient", "2")),
    );
    params.push(
        "near",
        Special::new("1|2|3|km").or(Special::new("4|5|6|km")),
    );
    assert_eq!(
        pairs_of(&params),
        [
            p("birthdate", "lt1960,gt1990"),
            p("birthdate", "ne1975"),
            p("code", "a,b,s|"),
            p("family", "Smith,Jones"),
            p("length", "1,2,3"),
            p("q", "eq1,eq2||g"),
            p("url", "http://a,http://b"),
            p("subject:Patient", "1,2"),
            p("near", "1|2|3|km,4|5|6|km"),
        ]
    );
    // Value-only types OR too (generated value-only parameters take them).
    let mut params = SearchParams::new();
    params.push("d", DateValue::lt("1960").or(DateValue::gt("1990")));
    params.push("n", NumberValue::any_of([1, 2]));
    params.push(
        "q",
        QuantityValue::eq(1).or(QuantityValue::eq(2)).with_code("g"),
    );
    params.push("d", DateValue::missing(true));
    params.push("n", NumberValue::missing(false));
    params.push("q", QuantityValue::missing(true));
    assert_eq!(
        pairs_of(&params),
        [
            p("d", "lt1960,gt1990"),
            p("n", "1,2"),
            p("q", "eq1||g,eq2||g"),
            p("d:missing", "true"),
            p("n:missing", "false"),
            p("q:missing", "true"),
        ]
    );
    assert_eq!(
        Date::from(DateValue::lt("1960").or(DateValue::gt("1990"))),
        Date::lt("1960").or(Date::gt("1990"))
    );
    assert_eq!(
        DateValue::lt("1960").or(DateValue::gt("1990")).as_str(),
        None
    );
    assert_eq!(QuantityValue::eq(1).or(QuantityValue::eq(2)).code(), None);
    // A range end is a single value.
    for (err, needle) in [
        (
            err_of(
                "d",
                Date::range(
                    Bound::Inclusive(DateValue::new("1970").or(DateValue::new("1971"))),
                    Bound::Unbounded,
                ),
            ),
            "lower bound: expected a single value, not an OR list",
        ),
        (
            err_of(
                "n",
                Number::range(
                    Bound::Unbounded,
                    Bound::Exclusive(NumberValue::missing(true)),
                ),
            ),
            "upper bound: expected a single value, not `:missing`",
        ),
        (
            err_of(
                "c",
                Composite::new([NumberValue::any_of([1, 2]).into(), "x".into()]),
            ),
            "not an OR list",
        ),
    ] {
        assert!(err.reason().contains(needle), "{err}");
    }
    for (err, needle) in [
        (
            err_of("d", Date::between("1970", "1980").or(Date::eq("1990"))),
            "cannot be OR-ed",
        ),
        (
            err_of("d", Date::eq("1990").or(Date::missing(true))),
            "`:missing` cannot be OR-ed",
        ),
        (
            err_of("d", Date::any_of(Vec::<Date>::new())),
            "at least one value",
        ),
        (
            err_of("f", Str::exact("a").or(Str::contains("b"))),
            "share one modifier",
        ),
        (
            err_of(
                "s",
                Reference::target("Patient", "1").or(Reference::id("2")),
            ),
            "share one modifier",
        ),
        (
            err_of("u", Uri::new("a").below().or(Uri::new("b"))),
            "share one modifier",
        ),
        (
            err_of("n", Number::any_of(Vec::<Number>::new())),
            "at least one value",
        ),
    ] {
        assert!(err.reason().contains(needle), "{err}");
    }
}

#[test]
fn missing_on_every_type() {
    let rows: Vec<Vec<(String, String)>> = vec![
        one("x", Date::missing(true)),
        one("x", Number::missing(true)),
        one("x", Quantity::missing(true)),
        one("x", Token::missing(true)),
        one("x", Str::missing(true)),
        one("x", Reference::missing(true)),
        one("x", Uri::missing(true)),
        one("x", Composite::missing(true)),
        one("x", Special::missing(true)),
    ];
    for row in rows {
        assert_eq!(row, [p("x:missing", "true")]);
    }
    assert_eq!(one("x", Date::missing(false)), [p("x:missing", "false")]);
    assert_eq!(one("x", Str::missing(false)), [p("x:missing", "false")]);
}

#[test]
fn modifiers_go_into_the_name() {
    let rows = [
        (
            one("family", Str::exact("Smith")),
            p("family:exact", "Smith"),
        ),
        (
            one("family", Str::contains("mit")),
            p("family:contains", "mit"),
        ),
        (one("family", Str::text("smith")), p("family:text", "smith")),
        (one("code", Token::code("x").not()), p("code:not", "x")),
        (one("code", Token::text("x")), p("code:text", "x")),
        (
            one("code", Token::system_code("s", "c").above()),
            p("code:above", "s|c"),
        ),
        (
            one("code", Token::system_code("s", "c").below()),
            p("code:below", "s|c"),
        ),
        (
            one("code", Token::in_value_set("http://vs")),
            p("code:in", "http://vs"),
        ),
        (
            one("code", Token::not_in_value_set("http://vs")),
            p("code:not-in", "http://vs"),
        ),
        (
            one("identifier", Token::of_type("s", "MR", "1")),
            p("identifier:of-type", "s|MR|1"),
        ),
        (
            one("subject", Reference::target("Patient", "1")),
            p("subject:Patient", "1"),
        ),
        (
            one(
                "subject",
                Reference::identifier(Token::system_code("urn:s", "v")),
            ),
            p("subject:identifier", "urn:s|v"),
        ),
        (
            one("url", Uri::new("http://a/").above()),
            p("url:above", "http://a/"),
        ),
        (
            one("url", Uri::new("http://a/").below()),
            p("url:below", "http://a/"),
        ),
        // Chains are part of the name the caller gives.
        (
            one("subject:Patient.name", Str::from("peter")),
            p("subject:Patient.name", "peter"),
        ),
        (
            one("subject.name", Str::exact("Peter")),
            p("subject.name:exact", "Peter"),
        ),
    ];
    for (got, expected) in rows {
        assert_eq!(got, [expected]);
    }
    assert_eq!(Str::exact("a").modifier(), Some("exact"));
    assert_eq!(Token::code("a").not().modifier(), Some("not"));
    assert_eq!(Str::new("a").modifier(), None);
    for (err, needle) in [
        (
            err_of("s", Reference::typed("patient", "1")),
            "not a resource type",
        ),
        (
            err_of("s", Reference::target("Pat ient", "1")),
            "not a resource type",
        ),
        (err_of("s", Reference::id("")), "must not be empty"),
        (
            err_of("s", Reference::identifier(Token::code("a").not())),
            "cannot carry a modifier",
        ),
        (
            err_of("u", Uri::new("a").above().below()),
            "already has the modifier",
        ),
        (err_of("x", Special::new("")), "must not be empty"),
        (err_of("x", Str::from("")), "must not be empty"),
        (
            err_of("x", Str::exact("a").or(Str::exact(""))),
            "must not be empty",
        ),
        (
            err_of("x", Composite::new(["".into(), "b".into()])),
            "must not be empty",
        ),
    ] {
        assert!(err.reason().contains(needle), "{err}");
    }
}
