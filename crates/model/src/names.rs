//! Deterministic sanitizing of spec names into Rust identifiers.
//!
//! Spec text is hostile input: a name may hold quotes, newlines, Rust keywords, unicode or nothing
//! at all. Every function here returns an identifier made only of ASCII letters, digits and `_`,
//! never starting with a digit and never a keyword, so the generator can emit it without further
//! escaping. The same input always gives the same output.
//!
//! This module is the one place where Rust names are decided: [`assign`] fills every `rust_name`
//! of a connector from its wire names, the readers call it once, and the generator only re-checks the result with [`check`]
//! (it never derives a name of its own for anything the model names). The reserved lists below
//! are the generated code's own method names, so a spec name never shadows one of them.

use std::collections::{HashMap, HashSet};

mod assign;

pub use assign::{assign, check, NameError};

/// Rust keywords (strict, reserved and the 2018+/2024 ones) that cannot be plain identifiers.
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names of the generated crate's root that resource accessors (`client.patient()`, also the
/// resource's module name) and system operations (`client.export()`) must not take: the
/// `Client`'s own methods and the root modules.
pub const RESERVED_CLIENT_METHODS: &[&str] = &[
    "api",
    "base_url",
    "batch",
    "builder",
    "capabilities",
    "clone",
    "default_builder",
    "default_search_params",
    "fmt",
    "from_runtime",
    "history_system",
    "into_runtime",
    "prelude",
    "runtime",
    "smart_backend_credentials",
    "transaction",
];

/// Methods of a resource's generated API type (`client.patient()`) that its operations must not
/// take: Cerner declares an operation literally called `create`, which becomes
/// `create_operation` (see [`assign`]).
pub const RESERVED_RESOURCE_METHODS: &[&str] = &[
    "client",
    "clone",
    "create",
    "delete",
    "delete_conditional",
    "fmt",
    "history",
    "history_instance",
    "history_type",
    "patch",
    "read",
    "read_as",
    "resource_type",
    "search",
    "search_without_defaults",
    "update",
    "update_conditional",
    "vread",
];

/// Method names the generated search builder (or the runtime type behind it) defines itself, so
/// no search parameter may take them: a parameter literally called `count` becomes `count_2`
/// rather than shadowing the builder's `count()` (which sets `_count`). The result parameters
/// with a builder method of their own are named after that method (see [`result_param_method`]).
pub const RESERVED_SEARCH_METHODS: &[&str] = &[
    "build",
    "clone",
    "count",
    "elements",
    "fmt",
    "from_request",
    "include",
    "include_iterate",
    "include_raw",
    "into_params",
    "into_request",
    "map_params",
    "map_request",
    "max_pages",
    "max_resources",
    "new",
    "pages",
    "param",
    "params",
    "post",
    "push",
    "request",
    "resources",
    "resources_as",
    "rev_include",
    "rev_include_iterate",
    "rev_include_raw",
    "send",
    "sort",
    "summary",
    "total",
];

/// Names a generic (non-FHIR, OpenAPI) operation's method must not take (a route with
/// `operationId: new` becomes `new_2`). Kept clear of the client's vocabulary so that
/// `client.api().search()` can never be mistaken for a FHIR search.
pub const RESERVED_GENERIC_METHODS: &[&str] = &[
    "auth",
    "base_url",
    "batch",
    "builder",
    "capabilities",
    "client",
    "clone",
    "default",
    "fmt",
    "history",
    "metadata",
    "new",
    "operation",
    "request",
    "search",
    "send",
    "transaction",
];

/// Argument names of a generated generic operation method that its parameters must not take.
pub const RESERVED_GENERIC_ARGS: &[&str] = &["body", "options", "request"];

/// Type names at the generated crate's root that a generated type there (a generic operation's
/// `<Name>Options`) must not take.
pub const RESERVED_TYPE_NAMES: &[&str] = &[
    "Api",
    "Client",
    "ClientBuilder",
    "DEFAULT_BASE_URL",
    "DEFAULT_SEARCH_PARAMS",
    "Error",
    "Result",
    "TOKEN_URL",
];

/// The builder method that sets a result parameter, for those that have one (`_count` →
/// `count`, `_revinclude` → `rev_include`). A declared parameter of that name is named after
/// the method (it gets no typed method of its own); the other
/// [result parameters](crate::RESULT_PARAMETERS) (`_contained`, `_maxresults`, ...) get a method
/// that sends the value as written.
pub fn result_param_method(wire_name: &str) -> Option<&'static str> {
    Some(match wire_name {
        "_count" => "count",
        "_sort" => "sort",
        "_include" => "include",
        "_revinclude" => "rev_include",
        "_elements" => "elements",
        "_summary" => "summary",
        "_total" => "total",
        _ => return None,
    })
}

/// Whether `word` is a Rust keyword (or reserved word) that cannot be used as an identifier.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Splits a spec name into lowercase ASCII words at separators, case changes and unicode.
/// Latin letters with diacritics count as their base letter (`ñandú` → `nandu`); other
/// non-ASCII characters separate words.
///
/// `general-practitioner` → `general`, `practitioner`; `USCoreFetch` → `us`, `core`, `fetch`;
/// `_lastUpdated` → `last`, `updated`; an acronym's plural stays one word: `APIsFor` → `apis`,
/// `for` (not `ap`, `is`, `for`).
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = if name.is_ascii() {
        // Nothing to fold (most names): no `Vec` per character.
        name.chars().collect()
    } else {
        name.chars().flat_map(fold_latin).collect()
    };
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
            // An `s` that ends the word after an acronym is its plural (`APIs`, `URLs`), not
            // the start of a word `Is`.
            let plural = chars.get(i + 1) == Some(&'s')
                && !chars.get(i + 2).is_some_and(|n| n.is_ascii_lowercase());
            // `aB` starts a word; so does the `C` in `USCore` (an acronym followed by a word).
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_is_lower && !plural)
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

/// Latin-1 and Latin Extended-A letters with diacritics, by base letter: upper case first, then
/// lower case, in the same order.
const LATIN_FOLDS: &[(char, &str, &str)] = &[
    ('a', "ÀÁÂÃÄÅĀĂĄ", "àáâãäåāăą"),
    ('c', "ÇĆĈĊČ", "çćĉċč"),
    ('d', "ÐĎĐ", "ðďđ"),
    ('e', "ÈÉÊËĒĔĖĘĚ", "èéêëēĕėęě"),
    ('g', "ĜĞĠĢ", "ĝğġģ"),
    ('h', "ĤĦ", "ĥħ"),
    ('i', "ÌÍÎÏĨĪĬĮİ", "ìíîïĩīĭįı"),
    ('j', "Ĵ", "ĵ"),
    ('k', "Ķ", "ķ"),
    ('l', "ĹĻĽĿŁ", "ĺļľŀł"),
    ('n', "ÑŃŅŇ", "ñńņň"),
    ('o', "ÒÓÔÕÖØŌŎŐ", "òóôõöøōŏő"),
    ('r', "ŔŖŘ", "ŕŗř"),
    ('s', "ŚŜŞŠ", "śŝşš"),
    ('t', "ŢŤŦ", "ţťŧ"),
    ('u', "ÙÚÛÜŨŪŬŮŰŲ", "ùúûüũūŭůűų"),
    ('w', "Ŵ", "ŵ"),
    ('y', "ÝŶŸ", "ýÿŷ"),
    ('z', "ŹŻŽ", "źżž"),
];

/// `c` as ASCII when it is a Latin letter with a diacritic or a ligature (`ñ` → `n`, `Æ` →
/// `AE`, `ß` → `ss`); anything else unchanged.
fn fold_latin(c: char) -> Vec<char> {
    if c.is_ascii() {
        return vec![c];
    }
    match c {
        'ß' => return vec!['s', 's'],
        'Æ' => return vec!['A', 'E'],
        'æ' => return vec!['a', 'e'],
        'Œ' => return vec!['O', 'E'],
        'œ' => return vec!['o', 'e'],
        'Þ' => return vec!['T', 'h'],
        'þ' => return vec!['t', 'h'],
        _ => {}
    }
    for (base, upper, lower) in LATIN_FOLDS {
        if upper.contains(c) {
            return vec![base.to_ascii_uppercase()];
        }
        if lower.contains(c) {
            return vec![*base];
        }
    }
    vec![c]
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

/// An UpperCamelCase stem for a generated type or variant name (`<Name>Options`, an `Include`
/// variant): a [`type_ident`] without underscores and without the keyword `_` (a stem is always followed by
/// a suffix, so it never trips `non_camel_case_types`); a stem that is a keyword on its own
/// gets `Value` (`Self` → `SelfValue`).
pub fn type_stem(name: &str) -> String {
    let ident = type_ident(name);
    let stem = ident.trim_end_matches('_').replace('_', "");
    if stem.is_empty() || is_keyword(&stem) {
        format!("{stem}Value")
    } else {
        stem
    }
}

/// A set of names already taken in one scope, handing out free ones with deterministic
/// numeric suffixes.
///
/// Each stem keeps the next suffix to try, so claiming the same name n times costs O(n), not
/// O(n²) (300,000 OpenAPI operations called `x` are named in well under a second).
#[derive(Debug, Clone, Default)]
pub struct Namespace {
    /// The names reserved when it was made. Looked up where they are rather than copied into
    /// `taken`: a namespace is made per resource and scope, and most take only a few names.
    reserved: &'static [&'static str],
    /// Every name claimed or reserved since. Only looked up, never iterated.
    taken: HashSet<String>,
    /// For a stem that was found taken: the next suffix to try.
    next: HashMap<String, usize>,
}

impl Namespace {
    /// A namespace in which `reserved` are already taken.
    pub fn new(reserved: &'static [&'static str]) -> Self {
        Self {
            reserved,
            ..Self::default()
        }
    }

    /// Marks `name` as taken; `false` when it already was.
    pub fn reserve(&mut self, name: &str) -> bool {
        !self.reserved.contains(&name) && self.taken.insert(name.to_owned())
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.reserved.contains(&name) || self.taken.contains(name)
    }

    /// Claims `candidate`, or when it is taken the first free `candidate_2`, `candidate_3`, ...
    /// (a keyword-escaped `self_` becomes `self_2`, not `self__2`, which trips
    /// `non_snake_case`). `free` may veto further names (taken in an enclosing scope).
    pub fn claim_snake(&mut self, candidate: &str, free: impl Fn(&str) -> bool) -> String {
        self.claim_with(candidate, free, |stem, n| format!("{stem}_{n}"))
    }

    /// Claims an UpperCamelCase `candidate`, or the first free `candidate2`, `candidate3`, ...
    pub fn claim_camel(&mut self, candidate: &str) -> String {
        self.claim_with(candidate, |_| true, |stem, n| format!("{stem}{n}"))
    }

    fn claim_with(
        &mut self,
        candidate: &str,
        free: impl Fn(&str) -> bool,
        numbered: impl Fn(&str, usize) -> String,
    ) -> String {
        if !self.contains(candidate) && free(candidate) {
            self.taken.insert(candidate.to_owned());
            return candidate.to_owned();
        }
        let stem = candidate.trim_end_matches('_');
        let stem = if stem.is_empty() { candidate } else { stem };
        let mut n = self.next.get(stem).copied().unwrap_or(2);
        let name = loop {
            let name = numbered(stem, n);
            n += 1;
            if !self.contains(&name) && free(&name) {
                break name;
            }
        };
        self.next.insert(stem.to_owned(), n);
        self.taken.insert(name.clone());
        name
    }
}

/// Assigns unique snake_case identifiers to a list of wire names, avoiding `reserved` ones.
///
/// Names whose wire form already is their identifier claim it first (`general_practitioner`
/// beats `general-practitioner`), the rest in the order given; a later claimant of a taken name
/// gets `_2`, `_3`, ... The result is index-aligned with `wire_names`.
pub fn assign_unique<S: AsRef<str>>(
    wire_names: &[S],
    reserved: &'static [&'static str],
) -> Vec<String> {
    let mut ns = Namespace::new(reserved);
    claim_all(&mut ns, wire_names, snake_ident, |_| true)
}

/// [`assign_unique`] into an existing namespace, with a candidate function and a veto.
pub(crate) fn claim_all<S: AsRef<str>>(
    ns: &mut Namespace,
    wire_names: &[S],
    candidate: impl Fn(&str) -> String,
    free: impl Fn(&str) -> bool,
) -> Vec<String> {
    let candidates: Vec<String> = wire_names.iter().map(|n| candidate(n.as_ref())).collect();
    let exact = |i: &usize| wire_names[*i].as_ref() == candidates[*i];
    let order = (0..wire_names.len())
        .filter(exact)
        .chain((0..wire_names.len()).filter(|i| !exact(i)));
    let mut out = vec![String::new(); wire_names.len()];
    for i in order {
        out[i] = ns.claim_snake(&candidates[i], &free);
    }
    out
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
            ("ñandú", "nandu"),
            ("Größe", "grosse"),
            ("PrénomÉtranger", "prenom_etranger"),
            ("日本", "unnamed"),
            ("\"; panic!(); \"", "panic"),
            ("a*/b", "a_b"),
            ("value-quantity", "value_quantity"),
            ("code-value-concept", "code_value_concept"),
            // Acronym plurals stay one word (`APIs` came out as `ap_is`).
            (
                "FHIR R4 APIs for Some Vendor",
                "fhir_r4_apis_for_some_vendor",
            ),
            ("listPatientIDs", "list_patient_ids"),
            ("URLsByID", "urls_by_id"),
            ("HTTPStatus", "http_status"),
            ("AIsland", "a_island"),
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
