//! Model -> code: read the input as an OpenAPI document (when it sniffs as one) or as a
//! CapabilityStatement (JSON or XML, sniffed), generate the whole connector crate with default
//! options, and require every generated `.rs` file to parse with `syn`. Anything a reader accepts
//! must generate: an identifier the generator refuses, tokens that do not parse or an internal
//! error is a bug in the reader/generator contract, so it fails the run like a panic.
#![no_main]

use fhirforge_codegen::{generate_crate, Error, GenerateOptions, Source};
use fhirforge_parse::{openapi, read_capability_statement, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let connector = if openapi::sniff(data) {
        match openapi::read(data, &openapi::Options::default()) {
            Ok(read) => read.parsed.connector,
            Err(_) => return,
        }
    } else {
        match read_capability_statement(data, None, &Limits::default()) {
            Ok(parsed) => parsed.connector,
            Err(_) => return,
        }
    };
    let source = Source::new("fuzz-input.json", data);
    match generate_crate(&connector, &GenerateOptions::default(), &source) {
        Ok(krate) => {
            for file in krate.files.iter().filter(|f| f.path.ends_with(".rs")) {
                if let Err(e) = syn::parse_file(&file.contents) {
                    panic!("generated {} does not parse: {e}", file.path);
                }
            }
        }
        // A crate name derived from the statement's name may be refused; that is a clear error.
        Err(Error::Options(_)) => {}
        Err(e) => panic!("a model the reader accepted did not generate: {e}"),
    }
});
