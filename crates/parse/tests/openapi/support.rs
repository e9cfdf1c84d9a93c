//! Shared helpers and the independent oracle (see the crate docs of this test binary).

use super::*;

pub(crate) fn spec_path(dir: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs")
        .join(dir)
        .join(file)
}

pub(crate) fn read(dir: &str, file: &str) -> OpenApiParsed {
    openapi::read_file(&spec_path(dir, file), &Options::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

pub(crate) fn read_err(dir: &str, file: &str) -> Error {
    match openapi::read_file(&spec_path(dir, file), &Options::default()) {
        Ok(_) => panic!("{file} was read, but must be refused"),
        Err(e) => e,
    }
}

/// The raw document, loaded without the reader.
pub(crate) fn raw(file: &str) -> Value {
    let text = std::fs::read_to_string(spec_path("openapi", file)).unwrap();
    if file.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else {
        serde_norway::from_str(&text).unwrap()
    }
}

pub(crate) const REAL: [&str; 4] = [
    "firely-r4-patient.json",
    "nextgen-office-fhir-r4.yaml",
    "openemr-api.yaml",
    "elation-patient-profile.json",
];

pub(crate) const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

// -------------------------------------------------------------------------------------------
// The independent oracle

/// Follows `#/a/b/c` references by splitting on `/` (the real documents need no escaping).
pub(crate) fn follow<'a>(root: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let mut target = root;
        for part in r.trim_start_matches("#/").split('/') {
            target = &target[part];
        }
        v = target;
    }
    v
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Expected {
    /// type → interaction codes.
    interactions: BTreeMap<String, BTreeSet<String>>,
    /// type → search parameter names.
    params: BTreeMap<String, BTreeSet<String>>,
    /// type → operation names.
    operations: BTreeMap<String, BTreeSet<String>>,
    system_operations: BTreeSet<String>,
    /// Operations on paths outside the FHIR base, or not FHIR-shaped.
    generic: usize,
    /// All operations.
    total: usize,
}

pub(crate) fn oracle(doc: &Value, base: &str) -> Expected {
    let mut e = Expected::default();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let methods: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| METHODS.contains(k))
            .collect();
        e.total += methods.len();
        let rest = match path.strip_prefix(base) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_matches('/'),
            _ => {
                e.generic += methods.len();
                continue;
            }
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let shape: Vec<&str> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if p.starts_with('{') {
                    "{}"
                } else if p.starts_with('$') {
                    "$"
                } else if i == 0 && p.starts_with(|c: char| c.is_ascii_uppercase()) {
                    "T"
                } else {
                    p
                }
            })
            .collect();
        let shape = shape.join("/");
        let t = parts[0].to_owned();
        for m in methods {
            let op = &item[m];
            let mut add = |code: &str| {
                e.interactions
                    .entry(t.clone())
                    .or_default()
                    .insert(code.to_owned());
            };
            match (shape.as_str(), m) {
                ("T", "get") | ("T/_search", "get" | "post") => {
                    add("search-type");
                    let params = e.params.entry(t.clone()).or_default();
                    for p in op["parameters"].as_array().into_iter().flatten() {
                        let p = follow(doc, p);
                        if p["in"] == "query" {
                            params.insert(p["name"].as_str().unwrap().to_owned());
                        }
                    }
                    let form = &op["requestBody"]["content"]["application/x-www-form-urlencoded"];
                    if let Some(props) = follow(doc, &form["schema"])["properties"].as_object() {
                        params.extend(props.keys().cloned());
                    }
                    params.remove("_format");
                    params.remove("_pretty");
                }
                ("T", "post") => add("create"),
                ("T/{}", "get") => add("read"),
                ("T/{}", "put") => add("update"),
                ("T/{}", "patch") => add("patch"),
                ("T/{}", "delete") => add("delete"),
                ("T/{}/_history", "get") => add("history-instance"),
                ("T/{}/_history/{}", "get") => add("vread"),
                ("T/$" | "T/{}/$", _) => {
                    let name = parts.last().unwrap().trim_start_matches('$').to_owned();
                    e.operations.entry(t.clone()).or_default().insert(name);
                    e.interactions.entry(t.clone()).or_default();
                }
                ("$", _) => {
                    e.system_operations
                        .insert(parts[0].trim_start_matches('$').to_owned());
                }
                ("metadata" | ".well-known/smart-configuration", "get") => {}
                _ => e.generic += 1,
            }
        }
    }
    e.params.retain(|_, names| !names.is_empty());
    e
}

pub(crate) fn found(c: &Connector) -> Expected {
    let mut e = Expected::default();
    for r in &c.resources {
        let codes = r.interactions.iter().map(|i| i.code().to_owned()).collect();
        e.interactions.insert(r.resource_type.clone(), codes);
        if !r.search_params.is_empty() {
            e.params.insert(
                r.resource_type.clone(),
                r.search_params.iter().map(|p| p.name.clone()).collect(),
            );
        }
        if !r.operations.is_empty() {
            e.operations.insert(
                r.resource_type.clone(),
                r.operations.iter().map(|o| o.name.clone()).collect(),
            );
        }
    }
    e.system_operations = c.system.operations.iter().map(|o| o.name.clone()).collect();
    e.generic = c.generic_operations.len();
    e
}

pub(crate) fn compare_with_oracle(file: &str, base: &str, total_operations: usize) {
    let doc = raw(file);
    let expected = oracle(&doc, base);
    // The oracle's own sanity: the operation counts PROVENANCE.md gives for the file.
    assert_eq!(expected.total, total_operations, "{file}: oracle total");
    let read = read("openapi", file);
    let mut got = found(&read.parsed.connector);
    got.total = expected.total;
    assert_eq!(
        got.interactions, expected.interactions,
        "{file}: interactions"
    );
    assert_eq!(got.params, expected.params, "{file}: search parameters");
    assert_eq!(got.operations, expected.operations, "{file}: operations");
    assert_eq!(
        got.system_operations, expected.system_operations,
        "{file}: system operations"
    );
    assert_eq!(got.generic, expected.generic, "{file}: generic operations");
}
