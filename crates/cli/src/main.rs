//! The `fhirforge` command line tool.
fn main() {}
