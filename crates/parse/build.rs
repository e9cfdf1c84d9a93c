//! Embeds the FHIR R4 core SearchParameter definitions, reduced and compressed.
//!
//! `specs/fhir/r4-search-parameters.json` is 2.1 MB of which the readers need five fields per
//! (base type, code): the type, the canonical URL and the description for that base type. This
//! script keeps exactly those as a JSON array of `[base, code, type, url, description]` rows and
//! deflates it into `OUT_DIR/core-search-params.json.gz`, which `src/core.rs` includes with
//! `include_bytes!` and decompresses lazily, once.

use std::io::Write;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let src = std::path::Path::new(&manifest).join("../../specs/fhir/r4-search-parameters.json");
    println!("cargo::rerun-if-changed={}", src.display());
    println!("cargo::rerun-if-changed=build.rs");

    let text = std::fs::read(&src).unwrap_or_else(|e| panic!("reading {}: {e}", src.display()));
    let bundle: serde_json::Value =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", src.display()));
    let entries = bundle["entry"]
        .as_array()
        .expect("the core bundle has entries");

    let mut rows = Vec::new();
    for entry in entries {
        let sp = &entry["resource"];
        let (Some(code), Some(kind), Some(url)) =
            (sp["code"].as_str(), sp["type"].as_str(), sp["url"].as_str())
        else {
            continue;
        };
        let description = sp["description"].as_str().unwrap_or_default();
        let bases: Vec<&str> = sp["base"]
            .as_array()
            .map(|b| b.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        for base in &bases {
            let text = if bases.len() > 1 {
                per_base_description(description, base).unwrap_or(description)
            } else {
                description
            };
            rows.push(serde_json::json!([base, code, kind, url, text.trim()]));
        }
    }
    let json = serde_json::to_vec(&rows).expect("rows serialize");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&json).expect("compress");
    let gz = enc.finish().expect("compress");
    std::fs::write(
        std::path::Path::new(&out_dir).join("core-search-params.json.gz"),
        gz,
    )
    .expect("write OUT_DIR file");
}

/// Multi-base parameters (`clinical-patient`) describe each base on its own bullet line:
/// `* [AllergyIntolerance](allergyintolerance.html): Who the sensitivity is for`.
fn per_base_description<'a>(description: &'a str, base: &str) -> Option<&'a str> {
    let prefix = format!("* [{base}](");
    description.lines().find_map(|line| {
        let rest = line.trim().strip_prefix(prefix.as_str())?;
        let (_, text) = rest.split_once("): ")?;
        Some(text.trim())
    })
}
