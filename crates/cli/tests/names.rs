//! One source of truth for names: the Rust names `fhirforge inspect --json` reports are the
//! names of the generated code, for every vendor statement and OpenAPI document in `specs/`;
//! and the runtime refuses typed values for exactly the model's result parameters.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fhirforge() -> Command {
    let mut cmd = Command::cargo_bin("fhirforge").unwrap();
    cmd.current_dir(root());
    cmd
}

/// What the generated crate defines, read with `syn`: per `(module, type)`, its inherent
/// methods (with their argument names and return type), and per module the fields of its
/// structs.
#[derive(Default)]
struct Items {
    methods: BTreeMap<(String, String), BTreeMap<String, Method>>,
    fields: BTreeMap<String, BTreeSet<String>>,
}

struct Method {
    args: BTreeSet<String>,
    /// The return type as `(module, type)`, when it is a path.
    returns: Option<(String, String)>,
}

/// The `(module, type)` a type path names, relative to `module` (`patient::Api<'_>` inside the
/// root is `("patient", "Api")`; `Self` and one-segment paths stay in `module`).
fn resolve(ty: &syn::Type, module: &str) -> Option<(String, String)> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let (last, prefix) = segs.split_last()?;
    let prefix: Vec<&str> = prefix
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "crate" && *s != "self")
        .collect();
    let module = if prefix.is_empty() {
        module.to_owned()
    } else if p.path.segments.first().is_some_and(|s| s.ident == "crate") {
        prefix.join("::")
    } else {
        join(module, &prefix.join("::"))
    };
    Some((module, last.clone()))
}

fn join(module: &str, child: &str) -> String {
    if module.is_empty() {
        child.to_owned()
    } else {
        format!("{module}::{child}")
    }
}

fn collect(items: &[syn::Item], module: &str, out: &mut Items) {
    for item in items {
        match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let Some(self_ty) = resolve(&imp.self_ty, module) else {
                    continue;
                };
                for it in &imp.items {
                    let syn::ImplItem::Fn(f) = it else { continue };
                    let args = f
                        .sig
                        .inputs
                        .iter()
                        .filter_map(|a| match a {
                            syn::FnArg::Typed(t) => match &*t.pat {
                                syn::Pat::Ident(i) => Some(i.ident.to_string()),
                                _ => None,
                            },
                            syn::FnArg::Receiver(_) => None,
                        })
                        .collect();
                    let returns = match &f.sig.output {
                        syn::ReturnType::Type(_, ty) => resolve(ty, module),
                        syn::ReturnType::Default => None,
                    };
                    out.methods
                        .entry(self_ty.clone())
                        .or_default()
                        .insert(f.sig.ident.to_string(), Method { args, returns });
                }
            }
            syn::Item::Struct(s) => {
                let fields = out.fields.entry(module.to_owned()).or_default();
                for f in &s.fields {
                    if let Some(i) = &f.ident {
                        fields.insert(i.to_string());
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect(inner, &join(module, &m.ident.to_string()), out);
                }
            }
            _ => {}
        }
    }
}

/// Every `.rs` file under `src/`, as module path (`src/lib.rs` is the root, `src/patient.rs`
/// is `patient`).
fn read_crate(dir: &Path) -> Items {
    let mut out = Items::default();
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir.join("src"))
                .unwrap()
                .with_extension("");
            let rel = rel.to_string_lossy().replace('/', "::");
            let module = match rel.as_str() {
                "lib" => String::new(),
                other => other.trim_end_matches("::mod").to_owned(),
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            collect(&file.items, &module, &mut out);
        }
    }
    out
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// Checks the generated crate in `dir` against the model `m` (from `inspect --json`); returns
/// how many names were compared.
fn agree(spec: &str, m: &Value, dir: &Path) -> usize {
    let items = read_crate(dir);
    let client = (String::new(), "Client".to_owned());
    // A type without an inherent impl (a search builder whose methods all come from the
    // runtime's trait) has no methods of its own.
    let none = BTreeMap::new();
    let methods_of = |ty: &(String, String)| items.methods.get(ty).unwrap_or(&none);
    let client_methods = methods_of(&client);
    let mut compared = 0;
    let empty = Vec::new();
    let system_params = m["system"]["search_params"].as_array().unwrap_or(&empty);
    for r in m["resources"].as_array().unwrap() {
        let ty = str_of(r, "type");
        let accessor = str_of(r, "rust_name");
        let api = client_methods
            .get(accessor)
            .unwrap_or_else(|| panic!("{spec}: no accessor {accessor}() for {ty}"));
        compared += 1;
        let api_ty = api.returns.clone().unwrap();
        let api_methods = methods_of(&api_ty);
        for op in r["operations"].as_array().unwrap() {
            let name = str_of(op, "rust_name");
            assert!(
                api_methods.contains_key(name),
                "{spec}: {ty} has no {name}()"
            );
            compared += 1;
        }
        let searchable = r["interactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == "search-type");
        if !searchable {
            continue;
        }
        let search = api_methods
            .get("search")
            .unwrap_or_else(|| panic!("{spec}: {ty} has no search()"));
        let search_methods = methods_of(&search.returns.clone().unwrap());
        let own: BTreeSet<&str> = r["search_params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| str_of(p, "name"))
            .collect();
        let inherited = system_params
            .iter()
            .filter(|p| !own.contains(str_of(p, "name")));
        for p in r["search_params"]
            .as_array()
            .unwrap()
            .iter()
            .chain(inherited)
        {
            let (wire, name) = (str_of(p, "name"), str_of(p, "rust_name"));
            match fhirforge_model::names::result_param_method(wire) {
                // Set through the builder's own method (possibly a runtime trait's).
                Some(method) => assert_eq!(name, method, "{spec}: {ty} {wire}"),
                None => assert!(
                    search_methods.contains_key(name),
                    "{spec}: {ty} search has no {name}() for {wire}"
                ),
            }
            compared += 1;
        }
    }
    for op in m["system"]["operations"].as_array().unwrap_or(&empty) {
        let name = str_of(op, "rust_name");
        assert!(
            client_methods.contains_key(name),
            "{spec}: Client has no {name}()"
        );
        compared += 1;
    }
    let generic = m["generic_operations"].as_array().unwrap_or(&empty);
    if generic.is_empty() {
        return compared;
    }
    let api = client_methods
        .get("api")
        .unwrap_or_else(|| panic!("{spec}: no api()"));
    let api_ty = api.returns.clone().unwrap();
    let api_methods = methods_of(&api_ty);
    let option_fields = items.fields.get(&api_ty.0).cloned().unwrap_or_default();
    for op in generic {
        let name = str_of(op, "rust_name");
        let json_body = op["request_body"].is_null()
            || fhirforge_model::GenericBody::is_json(
                &serde_json::from_value(op["request_body"].clone()).unwrap(),
            );
        let Some(method) = api_methods.get(name) else {
            assert!(!json_body, "{spec}: generic operation {name}() is missing");
            continue;
        };
        compared += 1;
        for p in op["params"].as_array().unwrap() {
            let arg = str_of(p, "rust_name");
            assert!(
                method.args.contains(arg) || option_fields.contains(arg),
                "{spec}: {name}() has no argument or option {arg}"
            );
            compared += 1;
        }
    }
    compared
}

/// Issue 11: the model said `create_2` for Cerner's `$create` while the connector had
/// `create_operation`; every name is now decided once, in the model.
#[test]
fn inspect_json_names_are_the_generated_names() {
    let mut specs: Vec<String> = Vec::new();
    for dir in ["specs/vendors", "specs/openapi"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.contains("smart-configuration") {
                specs.push(format!("{dir}/{name}"));
            }
        }
    }
    specs.sort();
    assert!(specs.len() >= 11, "{specs:?}");
    let tmp = tempfile::tempdir().unwrap();
    for (i, spec) in specs.iter().enumerate() {
        let out = fhirforge()
            .args(["inspect", "--json", spec])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let model = v.get("connector").unwrap_or(&v);
        let dir = tmp.path().join(format!("c{i}"));
        let gen = fhirforge()
            .args(["generate", spec, "--out", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            gen.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&gen.stderr)
        );
        let compared = agree(spec, model, &dir);
        assert!(compared > 0, "{spec}");
    }
}

/// The model's result parameters (read by the generator and the CLI) and the runtime's (which
/// refuses typed values for them) are one list: a declared `_contained` or `_maxresults` gets
/// a method that sends its value as written, never one the runtime refuses at send time.
#[test]
fn runtime_refuses_typed_values_for_exactly_the_model_result_parameters() {
    let model: BTreeSet<&str> = fhirforge_model::RESULT_PARAMETERS.iter().copied().collect();
    let runtime: BTreeSet<&str> = fhirforge_runtime::search::RESULT_PARAMETERS
        .iter()
        .copied()
        .collect();
    assert_eq!(model, runtime);
    use fhirforge_runtime::search::{SearchParams, Token};
    for name in &model {
        let mut p = SearchParams::new();
        p.push(name, Token::code("x"));
        assert!(p.pairs().is_err(), "{name} accepted a typed value");
        let mut p = SearchParams::new();
        p.raw(*name, "x");
        assert!(p.pairs().is_ok(), "{name} refused a raw value");
    }
    for name in ["_id", "_lastUpdated", "name", "subject:missing"] {
        let mut p = SearchParams::new();
        p.push(name, Token::code("x"));
        assert!(p.pairs().is_ok(), "{name}");
    }
}
