//! The loader's limits, one by one, in JSON and YAML.

use super::*;

const LIMITS: LoadLimits = LoadLimits {
    max_bytes: 1 << 24,
    max_depth: 64,
    max_built: 1_000_000,
};

fn yaml(text: &str) -> Result<Loaded, LoadError> {
    load(text.as_bytes(), LIMITS)
}

#[test]
fn json_and_yaml_give_the_same_value() {
    let j = load(br#"{"a": [1, "x", true, null], "b": {"c": 1.5}}"#, LIMITS).unwrap();
    let y = yaml("a: [1, x, true, ~]\r\nb:\r\n  c: 1.5\r\n").unwrap();
    assert_eq!(j.value, y.value);
}

#[test]
fn yaml_scalar_keys_become_strings() {
    let y = yaml("responses:\n  200: {description: ok}\n  true: 1\n").unwrap();
    assert_eq!(y.value["responses"]["200"]["description"], "ok");
    assert_eq!(y.value["responses"]["true"], 1);
}

#[test]
fn billion_laughs_is_refused_quickly() {
    let mut laughs = String::new();
    laughs.push_str("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        laughs.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    assert!(matches!(yaml(&laughs), Err(LoadError::Expansion { .. })));
    // Padding raises the parser's own guard (100 jumps per event); our value budget still
    // stops the expansion.
    let padded = String::from("pad: [") + &"0,".repeat(20_000) + "0]\n" + &laughs;
    match yaml(&padded) {
        Err(LoadError::Expansion { detail }) => assert!(detail.contains("values"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_large_aliased_string_is_refused() {
    let big = "x".repeat(600_000);
    let doc = format!("a: &a {big}\nb: [*a, *a, *a, *a]\n");
    match yaml(&doc) {
        Err(LoadError::Expansion { detail }) => assert!(detail.contains("bytes"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_nesting_is_refused_in_both_syntaxes() {
    let json = "[".repeat(10_000) + &"]".repeat(10_000);
    assert!(matches!(
        load(json.as_bytes(), LIMITS),
        Err(LoadError::TooDeep { limit: 64, .. })
    ));
    let yaml_doc = "- ".repeat(10_000) + "x";
    assert!(matches!(
        yaml(&yaml_doc),
        Err(LoadError::TooDeep { limit: 64, .. })
    ));
    let flow = "a: ".to_owned() + &"[".repeat(10_000);
    assert!(matches!(
        yaml(&flow),
        Err(LoadError::TooDeep { .. } | LoadError::Yaml { .. })
    ));
}

#[test]
fn size_limit_is_checked_before_parsing() {
    let limits = LoadLimits {
        max_bytes: 10,
        max_depth: 8,
        ..LIMITS
    };
    assert!(matches!(
        load(b"{\"a\": \"0123456789\"}", limits),
        Err(LoadError::TooLarge {
            size: 19,
            limit: 10
        })
    ));
}

#[test]
fn malformed_input_reports_a_position() {
    match load(b"{\n  \"a\": tru\n}", LIMITS) {
        Err(LoadError::Json { line, message, .. }) => {
            assert!(line >= 2, "{line}");
            assert!(!message.contains("at line"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match yaml("a: [1, 2\nb: }") {
        Err(LoadError::Yaml { line, .. }) => assert!(line >= 1),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        load(b"a: \xff\xfe", LIMITS),
        Err(LoadError::Yaml { .. })
    ));
}

#[test]
fn duplicate_keys_are_reported_with_their_pointer() {
    let y = yaml("paths:\n  /a~b:\n    get: 1\n    get: 2\n").unwrap();
    assert_eq!(y.value["paths"]["/a~b"]["get"], 2);
    assert_eq!(
        y.duplicate_keys,
        [DuplicateKey {
            pointer: "/paths/~1a~0b/get".into()
        }]
    );
}

#[test]
fn long_arrays_and_objects_keep_the_first_entries_and_count_the_rest() {
    let n = MAX_ITEMS + 5;
    let items: Vec<String> = (0..n).map(|i| format!("{{\"k\":{i}}}")).collect();
    let keys: Vec<String> = (0..n)
        .map(|i| format!("\"/{i}\":{{\"get\":{{}}}}"))
        .collect();
    let json = format!(
        "{{\"a\":[{}],\"paths\":{{{}}}}}",
        items.join(","),
        keys.join(",")
    );
    let loaded = load(json.as_bytes(), LIMITS).unwrap();
    let a = loaded.value["a"].as_array().unwrap();
    assert_eq!(a.len(), MAX_ITEMS);
    assert_eq!(a[MAX_ITEMS - 1]["k"], MAX_ITEMS - 1);
    let paths = loaded.value["paths"].as_object().unwrap();
    assert_eq!(paths.len(), MAX_ITEMS);
    assert!(paths.contains_key(&format!("/{}", MAX_ITEMS - 1)));
    assert!(!paths.contains_key(&format!("/{MAX_ITEMS}")));
    assert_eq!(
        loaded.truncated,
        [
            Truncated {
                pointer: "/a".into(),
                total: n,
                object: false
            },
            Truncated {
                pointer: "/paths".into(),
                total: n,
                object: true
            }
        ]
    );
    // Skipped values still count against the depth limit: the input is checked, not trusted.
    let deep = format!(
        "[{}{}{}]",
        "0,".repeat(MAX_ITEMS),
        "[".repeat(70),
        "]".repeat(70)
    );
    assert!(matches!(
        load(deep.as_bytes(), LIMITS),
        Err(LoadError::TooDeep { .. })
    ));
}

#[test]
fn duplicate_keys_past_the_warning_cap_are_counted() {
    let n = MAX_WARNINGS + 3;
    let body: Vec<String> = (0..n).map(|i| format!("{{\"x\":1,\"x\":{i}}}")).collect();
    let loaded = load(format!("[{}]", body.join(",")).as_bytes(), LIMITS).unwrap();
    assert_eq!(loaded.duplicate_keys.len(), MAX_WARNINGS);
    assert_eq!(loaded.more_duplicate_keys, 3);
}

#[test]
fn depth_counts_only_structure_outside_strings() {
    let limits = LoadLimits {
        max_depth: 2,
        ..LIMITS
    };
    assert!(load_json(br#"{"a":"[[[[[[[[[[[[[[[[[[["}"#, limits).is_ok());
    assert!(load_json(br#"{"a":"\"[[[[\\"}"#, limits).is_ok());
    assert!(matches!(
        load_json(b"[[[1]]]", limits),
        Err(LoadError::TooDeep {
            limit: 2,
            line: 1,
            column: 3
        })
    ));
    assert!(load_json(b"[[1]]", limits).is_ok());
}

#[test]
fn json_errors_say_json_with_line_and_column() {
    match load_json(b"{\n  \"a\": 1,\n  \"b\": [}\n}", LIMITS) {
        Err(LoadError::Json {
            line,
            column,
            message,
        }) => {
            assert_eq!((line, column), (3, 9));
            assert!(!message.contains("at line"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Not JSON at all: still a JSON error (load_json never falls back to YAML), and
    // empty input has a position of 1:1, not 0:0.
    assert!(matches!(
        load_json(b"resourceType: x", LIMITS),
        Err(LoadError::Json { .. })
    ));
    assert!(matches!(
        load_json(b"", LIMITS),
        Err(LoadError::Json {
            line: 1,
            column: 1,
            ..
        })
    ));
}

#[test]
fn a_byte_order_mark_is_skipped() {
    assert!(load_json(b"\xEF\xBB\xBF{}", LIMITS).is_ok());
}

#[test]
fn values_past_the_built_budget_are_refused_but_skipped_entries_are_free() {
    let limits = LoadLimits {
        max_built: 100,
        ..LIMITS
    };
    // 10 arrays of 10 numbers: 111 values built.
    let doc = format!("[{}]", ["[1,2,3,4,5,6,7,8,9,10]"; 10].join(","));
    assert!(matches!(
        load_json(doc.as_bytes(), limits),
        Err(LoadError::TooManyValues { limit: 100 })
    ));
    // One array of 5,000 numbers: 2,001 built, the rest skipped.
    let limits = LoadLimits {
        max_built: MAX_ITEMS + 1,
        ..LIMITS
    };
    let doc = format!("[{}]", vec!["1"; 5_000].join(","));
    let mut loaded = load_json(doc.as_bytes(), limits).unwrap();
    assert_eq!(loaded.value.as_array().unwrap().len(), MAX_ITEMS);
    assert_eq!(
        loaded.notes(),
        [(
            String::new(),
            "5000 elements; only the first 2000 are read".to_owned()
        )]
    );
}
