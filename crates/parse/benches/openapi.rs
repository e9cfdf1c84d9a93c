#![allow(missing_docs, reason = "a benchmark binary")]
//! Time to read each real OpenAPI document in `specs/openapi` into the connector model (YAML or
//! JSON parse with budgets, `$ref` check, path walk, typing, naming): median, min and max of many
//! runs, plus the refusal time of the billion-laughs document. Run with
//! `cargo bench -p fhirforge-parse --bench openapi`.
//!
//! Not criterion: a plain loop keeps the compile light.

use fhirforge_parse::openapi::{self, Options};
use std::time::{Duration, Instant};

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

fn time(name: &str, bytes: &[u8], runs: usize, expect_ok: bool) {
    let options = Options::default();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let read = openapi::read(bytes, &options);
        times.push(start.elapsed());
        assert_eq!(read.is_ok(), expect_ok, "{name}");
        std::hint::black_box(read).ok();
    }
    stats(name, times);
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs");
    // Inflate the embedded core search parameters once, outside the timings.
    let _ = fhirforge_parse::core_params::len();
    for (file, runs) in [
        ("openapi/firely-r4-patient.json", 200),
        ("openapi/nextgen-office-fhir-r4.yaml", 100),
        ("openapi/openemr-api.yaml", 50),
        ("openapi/elation-patient-profile.json", 50),
    ] {
        let bytes =
            std::fs::read(format!("{dir}/{file}")).expect("the document is in specs/openapi");
        time(
            &format!("read {file} ({} kB)", bytes.len() / 1000),
            &bytes,
            runs,
            true,
        );
    }
    let laughs = std::fs::read(format!("{dir}/openapi-synthetic/billion-laughs.yaml"))
        .expect("synthetic doc");
    time(
        "refuse openapi-synthetic/billion-laughs.yaml",
        &laughs,
        200,
        false,
    );
}
