//! The OpenAPI / Swagger reader, JSON and YAML (the loader picks the syntax from the first
//! byte, so one target covers both): any bytes end in a model or an error, never a panic, a hang
//! or unbounded memory.
#![no_main]

use fhirforge_parse::openapi;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The byte sniffer runs on every input the CLI is given; it must not panic either.
    let _ = openapi::sniff(data);
    let _ = openapi::read(data, &openapi::Options::default());
});
