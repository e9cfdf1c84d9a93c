//! Cross-module encoding tests: tables for every prefix, range bound kind, escaping case and
//! raw parameter, plus property tests that encoding then parsing gives the values back.

use super::*;

fn pairs_of(params: &SearchParams) -> Vec<(String, String)> {
    params.pairs().expect("valid parameters")
}

fn one(name: &str, value: impl SearchValue) -> Vec<(String, String)> {
    let mut params = SearchParams::new();
    params.push(name, value);
    pairs_of(&params)
}

fn p(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn err_of(name: &str, value: impl SearchValue) -> SearchError {
    let mut params = SearchParams::new();
    params.push(name, value);
    let err = params.pairs().expect_err("invalid value");
    assert_eq!(params.to_query_string(), Err(err.clone()));
    err
}

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

// ---- escaping and percent-encoding --------------------------------------------------------------

#[test]
fn every_escaping_case() {
    let rows = [
        // Strings: every special character, alone and mixed.
        (one("n", Str::from("a,b")), p("n", r"a\,b")),
        (one("n", Str::from("a$b")), p("n", r"a\$b")),
        (one("n", Str::from("a|b")), p("n", r"a\|b")),
        (one("n", Str::from(r"a\b")), p("n", r"a\\b")),
        (one("n", Str::from(r"\,$|")), p("n", r"\\\,\$\|")),
        (
            one("n", Str::exact("a,b").or(Str::exact("c"))),
            p("n:exact", r"a\,b,c"),
        ),
        // Tokens: the encoder's `|` is not escaped; the caller's is.
        (
            one("t", Token::system_code("s|1", "c,2")),
            p("t", r"s\|1|c\,2"),
        ),
        (one("t", Token::no_system("$")), p("t", r"|\$")),
        (one("t", Token::system(r"s\")), p("t", r"s\\|")),
        (
            one("t", Token::of_type("a|", "b$", "c,")),
            p("t:of-type", r"a\||b\$|c\,"),
        ),
        // Quantities: system and code escaped, number never needs it.
        (
            one("q", Quantity::gt(1).with_unit("s|x", "c$y")),
            p("q", r"gt1|s\|x|c\$y"),
        ),
        // References and URIs.
        (
            one("r", Reference::typed("Patient", "a,b")),
            p("r", r"Patient/a\,b"),
        ),
        (
            one("r", Reference::url("http://x/y?a=1,2")),
            p("r", r"http://x/y?a=1\,2"),
        ),
        (
            one("r", Reference::canonical("http://x|y", "1|2")),
            p("r", r"http://x\|y|1\|2"),
        ),
        (one("u", Uri::new("urn:a$b")), p("u", r"urn:a\$b")),
        // Composite: parts escaped once, the `$` between them not.
        (
            one(
                "c",
                Composite::new([Token::system_code("s", "a$b").into(), "x,y".into()]),
            ),
            p("c", r"s|a\$b$x\,y"),
        ),
        (
            one(
                "c",
                Composite::new([
                    Str::from("a|b").into(),
                    QuantityValue::lt(5).with_code("g").into(),
                ]),
            ),
            p("c", r"a\|b$lt5||g"),
        ),
        // Special: verbatim.
        (one("near", Special::new(r"1|2,3\4")), p("near", r"1|2,3\4")),
    ];
    for (got, expected) in rows {
        assert_eq!(got, [expected]);
    }
}

#[test]
fn percent_encoding_happens_exactly_once() {
    let mut params = SearchParams::new();
    params.push("family", Str::exact("a,b"));
    params.push("given", Str::from("100% sure"));
    params.push("address", Str::from("%41"));
    params.push("identifier", Token::system_code("http://x", "a b+c"));
    params.raw("_has:Observation:patient:code", "a=b&c=d,e");
    params.raw("vendor", "ß=€");
    let query = params.to_query_string().unwrap();
    assert_eq!(
        query,
        "family%3Aexact=a%5C%2Cb&given=100%25+sure&address=%2541\
         &identifier=http%3A%2F%2Fx%7Ca+b%2Bc\
         &_has%3AObservation%3Apatient%3Acode=a%3Db%26c%3Dd%2Ce\
         &vendor=%C3%9F%3D%E2%82%AC"
    );
    // Decoding once gives exactly the unencoded pairs back.
    assert_eq!(SearchParams::from_query(&query).pairs(), params.pairs());
    assert_eq!(
        SearchParams::from_query(&format!("?{query}")).pairs(),
        params.pairs()
    );

    // The pairs given to url or reqwest are encoded by them, once, to the same bytes.
    let pairs = params.pairs().unwrap();
    let mut url = url::Url::parse("http://127.0.0.1:8080/Patient").unwrap();
    url.query_pairs_mut().extend_pairs(&pairs);
    assert_eq!(url.query(), Some(query.as_str()));

    let http = reqwest::Client::new();
    let get = http
        .get("http://127.0.0.1:8080/Patient")
        .query(&pairs)
        .build()
        .unwrap();
    assert_eq!(get.url().query(), Some(query.as_str()));
    let post = http
        .post("http://127.0.0.1:8080/Patient/_search")
        .form(&pairs)
        .build()
        .unwrap();
    let body = post.body().and_then(reqwest::Body::as_bytes).unwrap();
    assert_eq!(body, query.as_bytes());
    // Encoding the query string again would double-encode: `%` only ever appears encoded.
    assert!(!query.contains("%255C"), "FHIR backslash encoded twice");
    assert_eq!(
        query.matches("%25").count(),
        2,
        "only the caller's two `%` are encoded as %25"
    );
}

#[test]
fn raw_parameters_pass_through() {
    let mut params = SearchParams::new();
    params.raw("name", "a=b&c");
    params.raw("x", r"a,b\,c|d$e");
    params.raw("birthdate", "ge1970"); // prefixes the spec did not declare: caller's choice
    params.raw("code:text", "");
    assert_eq!(
        pairs_of(&params),
        [
            p("name", "a=b&c"),
            p("x", r"a,b\,c|d$e"),
            p("birthdate", "ge1970"),
            p("code:text", "")
        ]
    );
    assert_eq!(
        params.to_query_string().unwrap(),
        "name=a%3Db%26c&x=a%2Cb%5C%2Cc%7Cd%24e&birthdate=ge1970&code%3Atext="
    );
    let collected: SearchParams = [("a", "1=2"), ("b", "&")].into_iter().collect();
    assert_eq!(collected.to_query_string().unwrap(), "a=1%3D2&b=%26");
    let mut empty_name = SearchParams::new();
    empty_name.raw("", "x");
    assert!(empty_name
        .pairs()
        .unwrap_err()
        .reason()
        .contains("name is empty"));
}

// ---- deferred errors ---------------------------------------------------------------------------

#[test]
fn first_error_is_kept_and_named() {
    let mut params = SearchParams::new();
    params.push("family", Str::from("ok"));
    params.push("birthdate", Date::ge("1970-02-30"));
    params.push("length", Number::eq(f64::NAN));
    params.push("", Str::from("x"));
    let err = params.pairs().unwrap_err();
    assert_eq!(err.parameter(), "birthdate");
    assert_eq!(
        err.to_string(),
        "invalid value for search parameter \"birthdate\": \"1970-02-30\" is not a FHIR date: \
         no such day in that month (expected YYYY, YYYY-MM, YYYY-MM-DD or \
         YYYY-MM-DDThh:mm[:ss[.fff]][Z|+hh:mm|-hh:mm])"
    );
    assert_eq!(params.error(), Some(&err));
    assert_eq!(params.to_query_string(), Err(err));
    // Debug shows names, never values.
    let debug = format!("{params:?}");
    assert!(
        debug.contains("family") && !debug.contains("ok\""),
        "{debug}"
    );

    for (err, name, needle) in [
        (
            err_of("length", Number::eq(f64::INFINITY)),
            "length",
            "NaN and infinities",
        ),
        (
            err_of("length", Number::eq("1,5")),
            "length",
            "is not a FHIR number",
        ),
        (
            err_of("q", Quantity::eq(1).with_unit("", "mg")),
            "q",
            "non-empty system and code",
        ),
        (
            err_of("q", QuantityValue::eq(1).with_code("")),
            "q",
            "must not be empty",
        ),
        (
            err_of("c", Composite::new(["only".into()])),
            "c",
            "at least two parts",
        ),
        (
            err_of("c", Composite::new([Str::exact("a").into(), "b".into()])),
            "c",
            "cannot carry a modifier",
        ),
        (
            err_of(
                "c",
                Composite::new([
                    Token::any_of([Token::code("a"), Token::code("b")]).into(),
                    "b".into(),
                ]),
            ),
            "c",
            "not an OR list",
        ),
        (
            err_of(
                "c",
                Composite::new([DateValue::new("x").into(), "b".into()]),
            ),
            "c",
            "not a FHIR date",
        ),
    ] {
        assert_eq!(err.parameter(), name);
        assert!(err.reason().contains(needle), "{err}");
    }
}

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

// ---- property tests ----------------------------------------------------------------------------

mod prop {
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
}
