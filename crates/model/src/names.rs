//! Deterministic sanitizing of spec names into Rust identifiers.
//!
//! Spec text is hostile input: a name may hold quotes, newlines, Rust keywords, unicode or nothing
//! at all. Every function here returns an identifier made only of ASCII letters, digits and `_`,
//! never starting with a digit and never a keyword, so the generator can emit it without further
//! escaping. The same input always gives the same output.

/// Rust keywords (strict, reserved and the 2018+/2024 ones) that cannot be plain identifiers.
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Method names the generated search builder defines itself, so no search parameter may take them.
///
/// Pass this list as `reserved` to [`assign_unique`] when naming a resource's search parameters:
/// a parameter literally called `count` becomes `count_2` rather than shadowing the builder's own
/// `count()` (which sets `_count`). Kept small on purpose: only names the builder really uses.
pub const RESERVED_SEARCH_METHODS: &[&str] = &[
    "send",
    "pages",
    "resources",
    "param",
    "count",
    "sort",
    "include",
    "rev_include",
    "elements",
    "summary",
    "total",
    "post",
    "new",
    "build",
    "clone",
    "fmt",
];

/// Names an operation's `rust_name` must not take, because a resource client has methods for the
/// interactions under these names (Cerner declares an operation literally called `create`).
///
/// The readers pass this list to [`assign_unique`] for operations, so `$create` becomes
/// `create_2`.
pub const RESERVED_OPERATION_METHODS: &[&str] = &[
    "read", "vread", "update", "patch", "delete", "history", "create", "search",
];

/// Whether `word` is a Rust keyword (or reserved word) that cannot be used as an identifier.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Splits a spec name into lowercase ASCII words at separators, case changes and unicode.
///
/// `general-practitioner` → `general`, `practitioner`; `USCoreFetch` → `us`, `core`, `fetch`;
/// `_lastUpdated` → `last`, `updated`.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            // `aB` starts a word; so does the `C` in `USCore` (an acronym followed by a word).
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_is_lower)
            {
                words.push(std::mem::take(&mut current));
            }
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A snake_case identifier for a spec name (parameter, operation, resource accessor).
///
/// * a leading `-` (Cerner's proprietary parameters) becomes a `vendor_` prefix:
///   `-encounter` → `vendor_encounter`;
/// * leading `_` (FHIR's common parameters) is dropped: `_lastUpdated` → `last_updated`;
/// * a leading digit gets an `n` prefix: `2fa` → `n2fa`;
/// * keywords get a trailing `_`: `type` → `type_`;
/// * a name with no ASCII letters or digits becomes `unnamed`.
pub fn snake_ident(name: &str) -> String {
    let vendor = name.starts_with('-');
    let mut ident = words(name).join("_");
    if ident.is_empty() {
        ident = "unnamed".to_owned();
    }
    if vendor {
        ident = format!("vendor_{ident}");
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("n{ident}");
    }
    if is_keyword(&ident) {
        ident.push('_');
    }
    ident
}

/// An UpperCamelCase identifier for a spec name (resource type, generated type names).
///
/// FHIR resource types are already UpperCamelCase and come out unchanged (`AllergyIntolerance`).
pub fn type_ident(name: &str) -> String {
    let mut ident: String = words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    // Keep the original casing when the name already is a clean identifier, so `USCore` stays.
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()) {
        let mut chars = name.chars();
        if chars.next().is_some_and(|c| c.is_ascii_uppercase()) {
            ident = name.to_owned();
        }
    }
    if ident.is_empty() {
        ident = "Unnamed".to_owned();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("N{ident}");
    }
    if is_keyword(&ident) {
        ident.push('_');
    }
    ident
}

/// Assigns unique snake_case identifiers to a list of wire names, avoiding `reserved` ones.
///
/// Names whose wire form already is their identifier claim it first (`general_practitioner`
/// beats `general-practitioner`), the rest in the order given; a later claimant of a taken name
/// gets `_2`, `_3`, ... The result is index-aligned with `wire_names`.
pub fn assign_unique<S: AsRef<str>>(wire_names: &[S], reserved: &[&str]) -> Vec<String> {
    let candidates: Vec<String> = wire_names.iter().map(|n| snake_ident(n.as_ref())).collect();
    let mut taken: Vec<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    let mut out: Vec<Option<String>> = vec![None; wire_names.len()];
    let exact_first = (0..wire_names.len()).filter(|&i| wire_names[i].as_ref() == candidates[i]);
    let rest = (0..wire_names.len()).filter(|&i| wire_names[i].as_ref() != candidates[i]);
    for i in exact_first.chain(rest) {
        let base = &candidates[i];
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        taken.push(name.clone());
        out[i] = Some(name);
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_idents() {
        for (input, expected) in [
            ("general-practitioner", "general_practitioner"),
            ("birthdate", "birthdate"),
            ("_id", "id"),
            ("_lastUpdated", "last_updated"),
            ("-encounter", "vendor_encounter"),
            ("-physicalType", "vendor_physical_type"),
            ("ah-practice", "ah_practice"),
            ("type", "type_"),
            ("self", "self_"),
            ("Self", "self_"),
            (
                "USCoreFetchDocumentReferences",
                "us_core_fetch_document_references",
            ),
            ("health-cards-issue", "health_cards_issue"),
            ("2fa", "n2fa"),
            ("", "unnamed"),
            ("-", "vendor_unnamed"),
            ("ñandú", "and"),
            ("\"; panic!(); \"", "panic"),
            ("a*/b", "a_b"),
            ("value-quantity", "value_quantity"),
            ("code-value-concept", "code_value_concept"),
        ] {
            assert_eq!(snake_ident(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn type_idents() {
        for (input, expected) in [
            ("Patient", "Patient"),
            ("AllergyIntolerance", "AllergyIntolerance"),
            ("Self", "Self_"),
            ("my-thing", "MyThing"),
            ("9lives", "N9lives"),
            ("", "Unnamed"),
        ] {
            assert_eq!(type_ident(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn every_output_is_a_plain_identifier() {
        for input in [
            "", "-", "__", "💥", "a b\nc", "r#type", "*/", "\"#", "0", "fn",
        ] {
            for ident in [snake_ident(input), type_ident(input)] {
                assert!(!ident.is_empty());
                assert!(
                    ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{ident}"
                );
                assert!(!ident.starts_with(|c: char| c.is_ascii_digit()), "{ident}");
                assert!(!is_keyword(&ident), "{ident}");
            }
        }
    }

    #[test]
    fn collisions_get_deterministic_suffixes() {
        let names = [
            "general-practitioner",
            "general_practitioner",
            "General-Practitioner",
        ];
        assert_eq!(
            assign_unique(&names, &[]),
            [
                "general_practitioner_2",
                "general_practitioner",
                "general_practitioner_3"
            ]
        );
        assert_eq!(
            assign_unique(&["send", "count"], &["send"]),
            ["send_2", "count"]
        );
    }
}
