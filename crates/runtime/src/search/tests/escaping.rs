//! Escaping, percent-encoding and errors deferred to send time.

use super::*;

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
