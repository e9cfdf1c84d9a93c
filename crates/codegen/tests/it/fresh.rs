//! The committed connectors equal a fresh generation, file for file: no stale, missing or extra
//! file. To regenerate: `FHIRFORGE_REGENERATE=1 cargo test -p fhirforge-codegen fresh`.

use crate::support::{load, options, root};
use fhirforge_codegen::generate_crate;
use std::path::Path;

/// (connector directory, spec, options file)
pub(crate) const CONNECTORS: &[(&str, &str, &str)] = &[
    (
        "connectors/epic",
        "specs/vendors/epic-r4-capability.json",
        "connectors/epic.toml",
    ),
    (
        "connectors/cerner",
        "specs/vendors/cerner-r4-capability.json",
        "connectors/cerner.toml",
    ),
    (
        "connectors/athena",
        "specs/vendors/athenahealth-r4-capability.json",
        "connectors/athena.toml",
    ),
];

/// Every file under `dir`, relative, `/`-separated, sorted; `target/` (a stray local build) and
/// `Cargo.lock` are not part of a crate's sources.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "target" || rel == "Cargo.lock" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_connectors_are_fresh() {
    let regenerate = std::env::var_os("FHIRFORGE_REGENERATE").is_some();
    for (dir, spec, config) in CONNECTORS {
        let (connector, source) = load(spec);
        let krate = generate_crate(&connector, &options(config), &source).unwrap();
        let out = root().join(dir);
        if regenerate {
            krate.write(&out, false).unwrap();
        }
        let mut expected: Vec<String> = krate.files.iter().map(|f| f.path.to_owned()).collect();
        expected.sort();
        assert_eq!(files_under(&out), expected, "{dir}: stale or missing files");
        for file in &krate.files {
            let on_disk = std::fs::read_to_string(out.join(&file.path)).unwrap();
            assert!(
                on_disk == file.contents,
                "{dir}/{} is stale: regenerate with FHIRFORGE_REGENERATE=1 cargo test -p fhirforge-codegen fresh",
                file.path
            );
        }
    }
}
