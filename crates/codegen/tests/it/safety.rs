//! Hostile input: a crafted spec cannot put code into the output, cannot choose file paths, and
//! `--out` does not clobber directories fhirforge did not create.

use crate::support::load;
use fhirforge_codegen::{
    generate_crate, generate_module, Error, GenerateOptions, Source, CRATE_FILES,
};
use fhirforge_model::{Connector, Resource, ResourceInteraction, SearchParam, SearchParamType};
use proc_macro2::{TokenStream, TokenTree};

/// Every identifier in `tokens`, and whether any identifier is followed by `!` (a macro call).
fn idents(tokens: TokenStream, out: &mut Vec<String>, macros: &mut Vec<String>) {
    let mut prev_ident: Option<String> = None;
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => {
                out.push(i.to_string());
                prev_ident = Some(i.to_string());
                continue;
            }
            TokenTree::Punct(p) if p.as_char() == '!' => {
                if let Some(name) = prev_ident.take() {
                    macros.push(name);
                }
            }
            TokenTree::Group(g) => idents(g.stream(), out, macros),
            _ => {}
        }
        prev_ident = None;
    }
}

fn is_plain(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn assert_no_injection(text: &str) {
    let tokens: TokenStream = text.parse().expect("generated code tokenizes");
    let (mut all, mut macros) = (Vec::new(), Vec::new());
    idents(tokens, &mut all, &mut macros);
    assert!(macros.is_empty(), "generated code calls macros: {macros:?}");
    for ident in &all {
        assert!(is_plain(ident), "identifier {ident:?}");
        // Words only the hostile specs' text contains (names and docs); a sanitized name such as
        // `panic` or `etc_passwd` is fine, spec text parsed as code is not.
        for bad in ["injected", "evil", "Evil", "alert", "script"] {
            assert!(ident != bad, "spec text became identifier {ident:?}");
        }
    }
    // Doc text is data: every doc line is one line of visible text.
    let file = syn::parse_file(text).expect("generated code parses");
    let docs: Vec<String> = collect_docs(&file);
    assert!(!docs.is_empty());
    for d in &docs {
        assert!(
            !d.chars()
                .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)),
            "{d:?}"
        );
    }
    // Items are only the kinds the generator emits, at the top level and inside the resource
    // modules and the prelude: no free functions but the one private helper, and imports only
    // of the runtime (or of the parent's items, in the prelude).
    check_items(&file.items);
}

fn check_items(items: &[syn::Item]) {
    for item in items {
        match item {
            syn::Item::Const(_)
            | syn::Item::Struct(_)
            | syn::Item::Impl(_)
            | syn::Item::Enum(_)
            | syn::Item::Type(_) => {}
            syn::Item::Fn(f) => assert_eq!(f.sig.ident, "default_search_params"),
            syn::Item::Use(u) => {
                let path = quote::ToTokens::to_token_stream(u).to_string();
                assert!(
                    [
                        "use :: fhirforge_runtime",
                        "use rt :: search :: SearchBuilder",
                        "use super :: {"
                    ]
                    .iter()
                    .any(|p| path.contains(p)),
                    "unexpected import: {path}"
                );
            }
            syn::Item::Mod(m) => {
                let (_, inner) = m.content.as_ref().expect("modules are inline in one file");
                check_items(inner);
            }
            other => panic!(
                "unexpected item: {}",
                quote::ToTokens::to_token_stream(other)
            ),
        }
    }
}

fn collect_docs(file: &syn::File) -> Vec<String> {
    // Doc comments come back from the parser as `#[doc = "..."]`; scan the token text for them.
    let tokens = quote::ToTokens::to_token_stream(file);
    let mut out = Vec::new();
    fn walk(ts: TokenStream, out: &mut Vec<String>) {
        let trees: Vec<TokenTree> = ts.into_iter().collect();
        for (i, tt) in trees.iter().enumerate() {
            if let TokenTree::Group(g) = tt {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                if let [TokenTree::Ident(id), TokenTree::Punct(eq), TokenTree::Literal(lit)] =
                    inner.as_slice()
                {
                    if id == "doc" && eq.as_char() == '=' {
                        let s: syn::LitStr = syn::parse_str(&lit.to_string()).unwrap();
                        out.push(s.value());
                        continue;
                    }
                }
                walk(g.stream(), out);
            }
            let _ = i;
        }
    }
    walk(tokens, &mut out);
    out
}

#[test]
fn hostile_spec_cannot_inject_code() {
    let (connector, source) = load("specs/synthetic/gen-hostile.json");
    let text = generate_module(&connector, &GenerateOptions::default(), &source).unwrap();
    assert_no_injection(&text);
    // The hostile base URL survives only as an escaped string literal.
    assert!(
        text.contains(
            r#"pub const DEFAULT_BASE_URL: &str = "https://fhir.example.invalid/r4\"; evil()";"#
        ),
        "{text}"
    );
}

#[test]
fn every_golden_and_vendor_spec_passes_the_injection_checks() {
    for rel in [
        "specs/synthetic/gen-reserved-words.json",
        "specs/synthetic/gen-name-collisions.json",
        "specs/synthetic/gen-every-type.json",
        "specs/vendors/epic-r4-capability.json",
        "specs/vendors/cerner-r4-capability.json",
        "specs/vendors/athenahealth-r4-capability.json",
    ] {
        let (connector, source) = load(rel);
        let text = generate_module(&connector, &GenerateOptions::default(), &source).unwrap();
        assert_no_injection(&text);
    }
}

#[test]
fn header_names_the_input_and_its_sha256() {
    let (connector, source) = load("specs/synthetic/gen-every-type.json");
    let text = generate_module(&connector, &GenerateOptions::default(), &source).unwrap();
    let bytes =
        std::fs::read(crate::support::root().join("specs/synthetic/gen-every-type.json")).unwrap();
    let expected = Source::new("gen-every-type.json", &bytes);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "// @generated by fhirforge from gen-every-type.json (sha256 {}). Do not edit.",
            expected.sha256()
        )
    );
    assert_eq!(expected.sha256().len(), 64);
    // A name with a newline cannot end the header comment.
    let evil = Source::new("x.json\npub fn evil() {}", b"");
    assert!(!evil.name().contains('\n'));
}

/// A hand-built model with hostile `rust_name`s: the generator re-derives names, never trusting them.
#[test]
fn hostile_rust_names_in_a_hand_built_model_are_not_trusted() {
    let mut r = Resource::new("Patient");
    r.rust_name = "patient() {} pub fn evil".into();
    r.interactions = vec![ResourceInteraction::Read, ResourceInteraction::SearchType];
    r.search_params.push(SearchParam {
        name: "birthdate".into(),
        rust_name: "birthdate(self) {} fn evil".into(),
        param_type: SearchParamType::Date,
        documentation: None,
        definition: None,
        range: true,
        from_core: false,
        modifiers: Vec::new(),
    });
    let connector = Connector {
        source_kind: Default::default(),
        name: "Hand built".into(),
        fhir_version: "4.0.1".into(),
        fhir_release: None,
        base_url: None,
        publisher: None,
        software: None,
        formats: vec![],
        patch_formats: vec![],
        security: Default::default(),
        system: Default::default(),
        resources: vec![r],
        generic_operations: vec![],
    };
    let text = generate_module(
        &connector,
        &GenerateOptions::default(),
        &Source::new("hand", b""),
    )
    .unwrap();
    assert_no_injection(&text);
    assert!(text.contains("pub fn birthdate("));
    assert!(text.contains("pub fn patient(&self) -> patient::Api<'_>"));
}

#[test]
fn crate_files_are_fixed_paths() {
    let (connector, source) = load("specs/synthetic/gen-hostile.json");
    let krate = generate_crate(&connector, &GenerateOptions::default(), &source).unwrap();
    let paths: Vec<&str> = krate.files.iter().map(|f| f.path.as_str()).collect();
    // The fixed files, in order, with one module file per resource after `src/lib.rs`, each
    // named by a plain identifier (hostile resource types never become other paths).
    let fixed: Vec<&str> = paths
        .iter()
        .copied()
        .filter(|p| CRATE_FILES.contains(p))
        .collect();
    assert_eq!(fixed, CRATE_FILES);
    let modules: Vec<&str> = paths[3..paths.len() - 1].to_vec();
    assert!(!modules.is_empty());
    for m in modules {
        let stem = m
            .strip_prefix("src/")
            .and_then(|m| m.strip_suffix(".rs"))
            .unwrap_or_else(|| panic!("{m}"));
        assert!(
            !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{m}"
        );
    }
    // The default package name is derived from the hostile statement name, sanitized.
    assert!(
        krate
            .package_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "{}",
        krate.package_name
    );
    let manifest = &krate.file("Cargo.toml").unwrap().contents;
    let parsed: toml::Table = manifest.parse().expect("the manifest is valid TOML");
    assert!(parsed["package"]["description"]
        .as_str()
        .unwrap()
        .contains("Hostile\""));
}

#[test]
fn invalid_crate_names_are_clear_errors() {
    let (connector, source) = load("specs/synthetic/gen-every-type.json");
    for bad in ["", "../evil", "a b", "fn", "9lives", "x\"y"] {
        let options = GenerateOptions {
            name: Some(bad.into()),
            ..Default::default()
        };
        let err = generate_crate(&connector, &options, &source).unwrap_err();
        assert!(matches!(err, Error::Options(_)), "{bad:?}: {err}");
    }
}

#[test]
fn out_dir_rules() {
    let (connector, source) = load("specs/synthetic/gen-every-type.json");
    let krate = generate_crate(&connector, &GenerateOptions::default(), &source).unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // Missing directory: created.
    let fresh = tmp.path().join("new");
    krate.write(&fresh, false).unwrap();
    for f in CRATE_FILES {
        assert!(fresh.join(f).is_file(), "{f}");
    }
    // A directory fhirforge wrote: regenerated in place without --force.
    krate.write(&fresh, false).unwrap();

    // Another generated connector: refused too (no silent replacement of a different package).
    let other = GenerateOptions {
        name: Some("fhirforge-other".into()),
        ..Default::default()
    };
    let other = generate_crate(&connector, &other, &source).unwrap();
    assert!(matches!(
        other.write(&fresh, false),
        Err(Error::OutDirNotEmpty(_))
    ));

    // A foreign non-empty directory: refused, untouched; written with --force.
    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let err = krate.write(&foreign, false).unwrap_err();
    assert!(matches!(err, Error::OutDirNotEmpty(_)), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    assert!(!foreign.join("Cargo.toml").exists());
    krate.write(&foreign, true).unwrap();
    assert!(foreign.join("src/lib.rs").is_file());
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "mine"
    );

    // A foreign Cargo project: refused too.
    let project = tmp.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
    assert!(matches!(
        krate.write(&project, false),
        Err(Error::OutDirNotEmpty(_))
    ));

    // An empty directory: fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    krate.write(&empty, false).unwrap();
}

#[test]
fn openapi_documents_pass_the_injection_checks() {
    let mut rels: Vec<String> = [
        "hostile-names.yaml",
        "gen-generic-operations.yaml",
        "duplicate-operation-ids.json",
        "swagger-mixed.yaml",
        "hfs-patient.json",
    ]
    .iter()
    .map(|n| format!("specs/openapi-synthetic/{n}"))
    .collect();
    for entry in std::fs::read_dir(crate::support::root().join("specs/openapi")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        rels.push(format!("specs/openapi/{name}"));
    }
    for rel in &rels {
        let (connector, source) = crate::support::load_openapi(rel);
        let text = generate_module(&connector, &GenerateOptions::default(), &source).unwrap();
        assert_no_injection(&text);
    }
}

/// A hand-built model whose generic operation carries hostile names and a hostile path: names are
/// re-derived and checked, the path is only ever a string literal.
#[test]
fn hostile_generic_operations_in_a_hand_built_model_are_not_trusted() {
    use fhirforge_model::{GenericOperation, GenericParam, HttpMethod, ParamLocation, SimpleType};
    let param = |name: &str, rust_name: &str, location| GenericParam {
        name: name.into(),
        rust_name: rust_name.into(),
        location,
        required: location == ParamLocation::Path,
        value_type: SimpleType::String,
        list: None,
        documentation: Some("\"); } fn evil() { //".into()),
    };
    let op = GenericOperation {
        method: HttpMethod::Get,
        path: "/a\"); evil(); (\"/{id}".into(),
        server_url: Some("https://h.example/x\"); evil(); (\"".into()),
        rust_name: "x(&self) {} pub fn evil".into(),
        operation_id: None,
        summary: Some("*/ fn evil() {} /*".into()),
        documentation: None,
        params: vec![
            param("id", "id: u8) {} fn evil(", ParamLocation::Path),
            param("q\"); evil(\"", "q) {} fn evil(", ParamLocation::Query),
        ],
        request_body: None,
        response_body: None,
        deprecated: false,
    };
    let connector = Connector {
        source_kind: Default::default(),
        name: "Hand built".into(),
        fhir_version: "4.0.1".into(),
        fhir_release: None,
        base_url: None,
        publisher: None,
        software: None,
        formats: vec![],
        patch_formats: vec![],
        security: Default::default(),
        system: Default::default(),
        resources: vec![],
        generic_operations: vec![op],
    };
    let text = generate_module(
        &connector,
        &GenerateOptions::default(),
        &Source::new("hand", b""),
    )
    .unwrap();
    assert_no_injection(&text);
    // The path reaches the output only as an escaped literal; the server URL's path is dropped
    // because it holds a quote.
    assert!(text.contains(r#""/a\"); evil(); (\"/{id}""#), "{text}");
    assert!(text.contains("pub fn api(&self) -> Api<'_>"), "{text}");
}
