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
//! Peak memory comes from a counting global allocator: the most bytes live at once during the
//! read, above what was live before it (the input itself is built beforehand and not counted).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[path = "../tests/it/adversarial.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "only the corpus builders are used here, not the tests"
)]
mod adversarial;

use adversarial::corpus;
use fhirforge_parse::{openapi, read_capability_statement, read_smart_configuration, Limits};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` once, printing wall time and peak extra memory, and what it returned.
fn measure<T>(name: &str, input_len: usize, f: impl FnOnce() -> T, outcome: impl Fn(&T) -> String) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let result = f();
    let elapsed = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    println!(
        "{name:<48} input {:>6.2} MB  time {:>8.1} ms  peak {:>7.1} MB  {}",
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
                    s.scopes.len(),
                    s.warnings.len()
                ),
                Err(e) => format!("refused: {e}"),
            },
        );
    }

    let duplicates = corpus::duplicate_resources(200, 2_000);
    measure(
        "400k duplicate resource entries (big first one)",
        duplicates.len(),
        || read_capability_statement(&duplicates, None, &limits),
        summary,
    );

    let security = corpus::rest_security(300, 2_000);
    measure(
        "300 rest entries x 2000 security services",
        security.len(),
        || read_capability_statement(&security, None, &limits),
        summary,
    );
}
