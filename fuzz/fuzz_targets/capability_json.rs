//! The CapabilityStatement / Conformance JSON reader: any bytes end in a model or an error,
//! never a panic, a hang or unbounded memory; the warning cap holds.
#![no_main]

use fhirforge_parse::{read_capability_statement, Format, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = read_capability_statement(data, Some(Format::Json), &Limits::default()) {
        // The crate docs promise at most 1,000 warnings plus one that counts the rest.
        assert!(
            parsed.warnings.len() <= 1001,
            "{} warnings",
            parsed.warnings.len()
        );
    }
});
