#![allow(missing_docs, reason = "a benchmark binary")]
//! Time to read Epic R4 (`specs/vendors/epic-r4-capability.json`, 93 kB) into the connector model:
//! median, min and max of many runs. Run with `cargo bench -p fhirforge-parse`.
//!
//! Not criterion: a plain loop keeps the compile light. The first read, which also inflates and
//! indexes the embedded core SearchParameter definitions once per process, is reported apart.

use std::time::{Duration, Instant};

const RUNS: usize = 500;

fn stats(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{name}: median {:.3} ms, min {:.3} ms, max {:.3} ms over {} runs",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        times.len()
    );
}

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/vendors/epic-r4-capability.json"
    );
    let bytes = std::fs::read(path).expect("the Epic R4 statement is in specs/vendors");
    let limits = fhirforge_parse::Limits::default();

    let start = Instant::now();
    let first =
        fhirforge_parse::read_capability_statement(&bytes, None, &limits).expect("Epic R4 reads");
    println!(
        "first read (includes inflating {} core search parameter rows): {:.3} ms",
        fhirforge_parse::core_params::len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(first.connector.resources.len(), 59);

    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let parsed = fhirforge_parse::read_capability_statement(&bytes, None, &limits)
            .expect("Epic R4 reads");
        times.push(start.elapsed());
        std::hint::black_box(parsed);
    }
    stats("read Epic R4 JSON into the model", times);

    // Baseline: only the JSON syntax tree, which every read starts with.
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("Epic R4 is JSON");
        times.push(start.elapsed());
        std::hint::black_box(value);
    }
    stats("baseline: serde_json::Value of Epic R4", times);

    let smart_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/vendors/cerner-r4-smart-configuration.json"
    );
    let smart =
        std::fs::read(smart_path).expect("the Cerner SMART configuration is in specs/vendors");
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let parsed = fhirforge_parse::read_smart_configuration(&smart, &limits).expect("reads");
        times.push(start.elapsed());
        std::hint::black_box(parsed);
    }
    stats("read Cerner SMART configuration", times);
}
