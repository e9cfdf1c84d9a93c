//! Golden files: one synthetic spec per concern → `tests/output/src/<name>.rs`.
//!
//! `tests/output` is its own cargo workspace whose `lib.rs` compiles every golden under
//! `#![deny(warnings)]`; CI runs `cargo check --manifest-path crates/codegen/tests/output/Cargo.toml`.
//! To bless intended changes: `EXPECTORATE=overwrite cargo test -p fhirforge-codegen goldens`.

use crate::support::{load, load_model, load_openapi, options};
use fhirforge_codegen::generate_module;

fn golden(stem: &str) {
    let openapi = format!("specs/openapi-synthetic/{stem}.yaml");
    let (connector, source) = if crate::support::root().join(&openapi).is_file() {
        load_openapi(&openapi)
    } else if stem.ends_with("-names") {
        load_model(&format!("specs/synthetic/{stem}.model.json"))
    } else {
        load(&format!("specs/synthetic/{stem}.json"))
    };
    let options = options(&format!("specs/synthetic/{stem}.toml"));
    let text = generate_module(&connector, &options, &source).unwrap();
    // Deterministic: a second run gives the same bytes (smithy-rs generates twice and diffs).
    assert_eq!(
        text,
        generate_module(&connector, &options, &source).unwrap(),
        "{stem}"
    );
    expectorate::assert_contents(
        format!("tests/output/src/{}.rs", stem.replace('-', "_")),
        &text,
    );
}

macro_rules! goldens {
    ($($name:ident => $stem:literal,)*) => {
        $( #[test] fn $name() { golden($stem); } )*

        /// Every golden module is compiled by `tests/output/src/lib.rs`, and nothing else is there.
        #[test]
        fn output_crate_lists_exactly_the_goldens() {
            let lib = std::fs::read_to_string("tests/output/src/lib.rs").unwrap();
            let mut expected: Vec<String> = vec![$( format!("pub mod {};", $stem.replace('-', "_")) ),*];
            expected.sort();
            let mut mods: Vec<String> = lib.lines().filter(|l| l.starts_with("pub mod ")).map(str::to_owned).collect();
            mods.sort();
            assert_eq!(mods, expected);
            let mut files: Vec<String> = std::fs::read_dir("tests/output/src").unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n != "lib.rs" && !n.starts_with('.'))
                .collect();
            files.sort();
            let mut want: Vec<String> = vec![$( format!("{}.rs", $stem.replace('-', "_")) ),*];
            want.sort();
            assert_eq!(files, want, "stale or missing golden files in tests/output/src");
        }
    };
}

goldens! {
    reserved_words => "gen-reserved-words",
    name_collisions => "gen-name-collisions",
    range_value_only => "gen-range-value-only",
    hostile => "gen-hostile",
    hostile_names => "gen-hostile-names",
    every_type => "gen-every-type",
    generic_operations => "gen-generic-operations",
    bulk_export => "gen-bulk-export",
}

/// `range = "value-only"` (per parameter here) changes the value type; `_count` is never a range.
#[test]
fn range_options_choose_the_value_type() {
    let (connector, source) = load("specs/synthetic/gen-range-value-only.json");
    let options = options("specs/synthetic/gen-range-value-only.toml");
    let text: String = generate_module(&connector, &options, &source)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // prettyplease adds a trailing comma when it wraps a long signature.
    let text = text.replace(",)", ")");
    let takes = |method: &str, ty: &str| {
        text.contains(&format!(
            "pubfn{method}(self,value:implInto<rt::search::{ty}>)->Self"
        ))
    };
    assert!(takes("birthdate", "Date"));
    assert!(takes("death_date", "DateValue"));
    assert!(takes("date", "Date"));
    assert!(takes("value_quantity", "QuantityValue"));
    assert!(takes("probability", "Number"));
    assert!(takes("code_value_quantity", "Composite"));
    // The global switch turns every ordered parameter value-only.
    let all_value_only = fhirforge_codegen::GenerateOptions {
        range: fhirforge_codegen::RangeMode::ValueOnly,
        ..Default::default()
    };
    let text: String = generate_module(&connector, &all_value_only, &source)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for ty in ["Date", "Number", "Quantity"] {
        assert!(
            !text.contains(&format!("search::{ty}>")),
            "{ty} still takes a range"
        );
    }
    assert!(text.contains("search::DateValue>") && text.contains("search::NumberValue>"));
}

/// `conditionalCreate: true` makes the generated `create` tell the runtime that this server
/// honours `If-None-Exist` (so a conditional create may be retried); without it, it does not.
#[test]
fn declared_conditional_create_reaches_the_generated_create() {
    let (mut connector, source) = load("specs/synthetic/r5-capability.json");
    let honours = ".server_honours_if_none_exist(true)";
    let text = generate_module(
        &connector,
        &fhirforge_codegen::GenerateOptions::default(),
        &source,
    )
    .unwrap();
    assert_eq!(text.matches(honours).count(), 1, "{text}");
    for r in &mut connector.resources {
        r.conditional_create = Some(false);
    }
    let text = generate_module(
        &connector,
        &fhirforge_codegen::GenerateOptions::default(),
        &source,
    )
    .unwrap();
    // Declared false: said to the runtime, so the client's default cannot make it retried.
    assert!(text.contains("pub fn create(") && !text.contains(honours));
    assert_eq!(
        text.matches(".server_honours_if_none_exist(false)").count(),
        text.matches("pub fn create(").count(),
        "{text}"
    );
    // Not declared: the client's default decides.
    for r in &mut connector.resources {
        r.conditional_create = None;
    }
    let text = generate_module(
        &connector,
        &fhirforge_codegen::GenerateOptions::default(),
        &source,
    )
    .unwrap();
    assert!(text.contains("pub fn create(") && !text.contains(".server_honours_if_none_exist("));
}

/// Bulk Data exports become typed entry points at system, Patient and Group level and nothing
/// else: no `$operation` method calls them too, and an export on another resource type stays a
/// plain operation.
#[test]
fn bulk_exports_are_entry_points_by_level() {
    let (connector, source) = load("specs/synthetic/gen-bulk-export.json");
    let text: String = generate_module(
        &connector,
        &fhirforge_codegen::GenerateOptions::default(),
        &source,
    )
    .unwrap()
    .chars()
    .filter(|c| !c.is_whitespace())
    .collect();
    for entry in [
        "pubfnexport(&self)->::fhirforge_runtime::bulk::ExportRequest{self.inner.bulk_export(::fhirforge_runtime::bulk::Level::System)}",
        "pubfnexport(&self)->rt::bulk::ExportRequest{self.client.bulk_export(rt::bulk::Level::Patient)}",
        "pubfnexport(&self,group_id:&str)->rt::bulk::ExportRequest{self.client.bulk_export(rt::bulk::Level::Group(group_id.to_owned()))}",
        // Observation's `$export` is not a Bulk Data export.
        "pubfnexport(&self)->rt::OperationRequest<'a>{self.client.operation(rt::Scope::Type(\"Observation\"),\"export\")}",
        // The plain operation that would also be `export` on Group gets a suffix.
        "pubfnexport_2(&self)->rt::OperationRequest<'a>{self.client.operation(rt::Scope::Type(\"Group\"),\"export_\")}",
    ] {
        assert_eq!(text.matches(entry).count(), 1, "{entry}");
    }
    assert_eq!(text.matches("bulk_export(").count(), 3);
    for generic in [
        "\"group-export\")",
        "Scope::System,\"export\")",
        "Scope::Type(\"Patient\"),\"export\")",
    ] {
        assert!(!text.contains(generic), "{generic}");
    }
}
