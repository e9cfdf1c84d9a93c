//! The CapabilityStatement / Conformance XML reader (FHIR XML mapped to the JSON form, then read):
//! any bytes end in a model or an error, never a panic, a hang or unbounded memory.
#![no_main]

use fhirforge_parse::{read_capability_statement, Format, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = read_capability_statement(data, Some(Format::Xml), &Limits::default()) {
        assert!(
            parsed.warnings.len() <= 1001,
            "{} warnings",
            parsed.warnings.len()
        );
    }
});
