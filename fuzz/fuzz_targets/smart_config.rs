//! The SMART configuration reader, and merging what it read into a connector's security.
#![no_main]

use fhirforge_parse::{read_capability_statement, read_smart_configuration, Limits, Parsed};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A small statement with SMART security to merge into (read once, cloned per input).
fn statement() -> &'static Parsed {
    static PARSED: OnceLock<Parsed> = OnceLock::new();
    PARSED.get_or_init(|| {
        let json = br#"{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
          "rest": [{"mode": "server", "security": {"service": [{"coding": [{"code": "SMART-on-FHIR"}]}]},
            "resource": [{"type": "Patient", "interaction": [{"code": "read"}]}]}]}"#;
        read_capability_statement(json, None, &Limits::default()).expect("the fixed statement reads")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(smart) = read_smart_configuration(data, &Limits::default()) {
        let mut parsed = statement().clone();
        parsed.merge_smart_configuration(smart);
    }
});
