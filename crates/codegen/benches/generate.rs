//! Time to generate the Epic R4 connector (target: a median under 50 ms), and the connectors of the
//! OpenAPI documents with the most generic operations (OpenEMR: 103, Elation: 60).
//!
//! `cargo bench -p fhirforge-codegen --bench generate` prints the minimum and median of
//! repeated runs, in wall time and in this thread's CPU time, for: parsing the statement, generating `src/lib.rs` only, and generating the
//! whole crate (lib, manifest, README, example) from the parsed model. No timing assertions:
//! numbers are for the report, not for pass/fail.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// CPU time of this thread in nanoseconds (Linux `schedstat`), so that a busy machine (other
/// builds on the 2 cores) inflates the numbers less than wall time would. A generated crate's
/// resource modules are shared with a second thread, whose time this does not include.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn measure(label: &str, runs: usize, mut f: impl FnMut()) {
    f(); // warm up
    let mut wall: Vec<Duration> = Vec::with_capacity(runs);
    let mut cpu: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
        f();
        wall.push(start.elapsed());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            cpu.push(Duration::from_nanos(b.saturating_sub(a)));
        }
    }
    wall.sort();
    cpu.sort();
    let cpu_text = match (cpu.first(), cpu.get(runs / 2)) {
        (Some(min), Some(median)) => format!(
            "main-thread cpu min {:>7.2} ms median {:>7.2} ms",
            ms(*min),
            ms(*median)
        ),
        _ => "cpu n/a".to_owned(),
    };
    println!(
        "{label:<48} wall min {:>7.2} ms median {:>7.2} ms | {cpu_text} ({runs} runs)",
        ms(wall[0]),
        ms(wall[runs / 2]),
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
    for spec in ["openemr-api.yaml", "elation-patient-profile.json"] {
        let bytes = std::fs::read(root.join("specs/openapi").join(spec)).expect("OpenAPI spec");
        let options = fhirforge_parse::openapi::Options::default();
        let read = fhirforge_parse::openapi::read(&bytes, &options).expect("reads");
        let source = fhirforge_codegen::Source::new(spec, &bytes);
        let generate = fhirforge_codegen::GenerateOptions::default();
        let runs = 30;
        measure(&format!("{spec}: read OpenAPI"), runs, || {
            black_box(fhirforge_parse::openapi::read(&bytes, &options).ok());
        });
        measure(&format!("{spec}: generate src/lib.rs"), runs, || {
            black_box(
                fhirforge_codegen::generate_module(&read.parsed.connector, &generate, &source).ok(),
            );
        });
    }
    colliding_names();
}

/// Issue 10: 300,000 generic operations all called `x` (an OpenAPI document with one repeated
/// operationId) used to be named in quadratic time; `names::assign` and `names::check` are
/// linear now.
fn colliding_names() {
    const N: usize = 300_000;
    let op = serde_json::json!({
        "method": "GET", "path": "/x", "server_url": null, "rust_name": "",
        "operation_id": "x", "summary": null, "documentation": null, "params": [],
        "request_body": null, "response_body": null,
    });
    let json = serde_json::json!({
        "name": "colliding", "fhir_version": "4.0.1", "formats": [], "patch_formats": [],
        "security": fhirforge_model::Security::default(),
        "system": fhirforge_model::SystemCapabilities::default(), "resources": [],
        "generic_operations": vec![op; N],
    });
    let connector: fhirforge_model::Connector = serde_json::from_value(json).expect("a connector");
    let runs = 5;
    measure("300k operations named `x`: names::assign", runs, || {
        let mut c = connector.clone();
        fhirforge_model::names::assign(&mut c);
        black_box(c);
    });
    let mut named = connector.clone();
    fhirforge_model::names::assign(&mut named);
    measure("300k operations named `x`: names::check", runs, || {
        black_box(fhirforge_model::names::check(&named).is_ok());
    });
}
