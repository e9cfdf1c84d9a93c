#![allow(missing_docs, reason = "a benchmark binary")]
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark binary: a failed read is a failed run"
)]
//! Time and peak memory of each input of the adversarial corpus (the worst inputs of the
//! security review), built by the same functions as `tests/it/adversarial.rs`. Target: every one
//! refused or read in under 1 s and 100 MB. Run with
//! `cargo bench -p fhirforge-parse --bench adversarial`.
//!
//! Peak memory is the growth of the resident set during the read (the kernel's high-water mark,
//! reset before each input; the input itself is built beforehand and not counted).

use std::time::Instant;

#[path = "../tests/it/adversarial.rs"]
#[allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    reason = "only the corpus builders are used here, not the tests"
)]
mod adversarial;

use adversarial::corpus;
use fhirforge_parse::{
    openapi, read_capability_statement, read_smart_configuration, Format, Limits,
};

/// Resident memory now and its peak since the last reset, in bytes, from `/proc/self/status`
/// (Linux). The workspace forbids `unsafe`, so no counting allocator: the kernel's high-water
/// mark, reset through `/proc/self/clear_refs`, measures the same peak from outside.
fn rss() -> Option<(usize, usize)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kb| kb * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn reset_peak() {
    // "5" resets the peak resident set size (VmHWM) to the current one.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs `f` once, printing wall time and peak extra memory, and what it returned.
fn measure<T>(name: &str, input_len: usize, f: impl FnOnce() -> T, outcome: impl Fn(&T) -> String) {
    reset_peak();
    let before = rss().map_or(0, |(now, _)| now);
    let start = Instant::now();
    let result = f();
    let elapsed = start.elapsed();
    let peak = rss().map_or(0, |(_, peak)| peak).saturating_sub(before);
    println!(
        "{name:<48} input {:>6.2} MB  time {:>8.1} ms  peak +{:>6.1} MB RSS  {}",
        input_len as f64 / 1e6,
        elapsed.as_secs_f64() * 1e3,
        peak as f64 / 1e6,
        outcome(&result)
    );
    drop(result);
}

fn main() {
    let limits = Limits::default();
    let options = openapi::Options::default();
    let summary = |r: &Result<fhirforge_parse::Parsed, fhirforge_parse::Error>| match r {
        Ok(p) => format!("read, {} warnings", p.warnings.len()),
        Err(e) => format!("refused: {e}"),
    };

    let bomb = corpus::server_variable_bomb(40).to_string().into_bytes();
    measure(
        "server-variable bomb (40 levels)",
        bomb.len(),
        || openapi::read(&bomb, &options),
        |r| match r {
            Ok(p) => format!("read, {} warnings", p.parsed.warnings.len()),
            Err(e) => format!("refused: {e}"),
        },
    );

    let siblings = corpus::xml_siblings(200_000);
    measure(
        "200k XML sibling elements",
        siblings.len(),
        || read_capability_statement(siblings.as_bytes(), None, &limits),
        summary,
    );

    let attributes = corpus::xml_attributes(1_000_000);
    measure(
        "a million attributes on one element",
        attributes.len(),
        || read_capability_statement(attributes.as_bytes(), None, &limits),
        summary,
    );

    let colliding = corpus::colliding_operations(300_000);
    measure(
        "300k OpenAPI operations, all operationId x",
        colliding.len(),
        || openapi::read(&colliding, &options),
        |r| match r {
            Ok(p) => format!(
                "read, {} operations, {} warnings",
                p.parsed.connector.generic_operations.len(),
                p.parsed.warnings.len()
            ),
            Err(e) => format!("refused: {e}"),
        },
    );

    for n in [50_000, 200_000] {
        let smart = corpus::smart_lists(n);
        measure(
            &format!("SMART configuration, 2 lists of {n}"),
            smart.len(),
            || read_smart_configuration(&smart, &limits),
            |r| match r {
                Ok(s) => format!(
                    "read, {} scopes, {} warnings",
                    s.configuration.scopes_supported.len(),
                    s.warnings.len()
                ),
                Err(e) => format!("refused: {e}"),
            },
        );
    }

    for rests in [50, 200] {
        let duplicates = corpus::duplicate_resources(rests, 2_000);
        measure(
            &format!("{}k duplicate resource entries", rests * 2),
            duplicates.len(),
            || read_capability_statement(&duplicates, None, &limits),
            summary,
        );
    }

    for (rests, format) in [
        (30, Format::Json),
        (300, Format::Json),
        (30, Format::Xml),
        (150, Format::Xml),
    ] {
        let security = corpus::rest_security(rests, 2_000, format);
        measure(
            &format!("{rests} rest entries x 2000 services ({format:?})"),
            security.len(),
            || read_capability_statement(&security, Some(format), &limits),
            summary,
        );
    }

    let arrays = corpus::many_small_arrays(2_000, 2_000);
    measure(
        "OpenAPI, 2000 arrays of 2000 numbers",
        arrays.len(),
        || openapi::read(&arrays, &options),
        |r| match r {
            Ok(p) => format!("read, {} warnings", p.parsed.warnings.len()),
            Err(e) => format!("refused: {e}"),
        },
    );
}
