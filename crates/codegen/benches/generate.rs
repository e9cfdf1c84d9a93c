//! Time to generate the Epic R4 connector (target: under 100 ms).
//!
//! `cargo bench -p fhirforge-codegen --bench generate` prints the minimum and median of
//! repeated runs for: parsing the statement, generating `src/lib.rs` only, and generating the
//! whole crate (lib, manifest, README, example) from the parsed model. No timing assertions:
//! numbers are for the report, not for pass/fail.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn measure(label: &str, runs: usize, mut f: impl FnMut()) {
    f(); // warm up
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{label:<44} min {:>8.2} ms   median {:>8.2} ms   ({runs} runs)",
        times[0].as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3
    );
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for spec in [
        "epic-r4-capability.json",
        "cerner-r4-capability.json",
        "athenahealth-r4-capability.json",
    ] {
        let bytes = std::fs::read(root.join("specs/vendors").join(spec)).expect("vendor spec");
        let limits = fhirforge_parse::Limits::default();
        let parsed =
            fhirforge_parse::read_capability_statement(&bytes, None, &limits).expect("parses");
        let source = fhirforge_codegen::Source::new(spec, &bytes);
        let options = fhirforge_codegen::GenerateOptions::default();
        let runs = 30;
        measure(&format!("{spec}: parse"), runs, || {
            black_box(fhirforge_parse::read_capability_statement(&bytes, None, &limits).ok());
        });
        measure(&format!("{spec}: generate src/lib.rs"), runs, || {
            black_box(
                fhirforge_codegen::generate_module(&parsed.connector, &options, &source).ok(),
            );
        });
        measure(&format!("{spec}: parse + generate crate"), runs, || {
            let parsed = fhirforge_parse::read_capability_statement(&bytes, None, &limits);
            let connector = parsed.expect("parses").connector;
            black_box(fhirforge_codegen::generate_crate(&connector, &options, &source).ok());
        });
    }
}
