//! Golden files of fhirforge-codegen, one module per synthetic spec, compiled under
//! `#![deny(warnings)]` so generated code with a warning fails CI.
#![deny(warnings)]

pub mod gen_bulk_export;
pub mod gen_every_type;
pub mod gen_generic_operations;
pub mod gen_hostile;
pub mod gen_hostile_names;
pub mod gen_name_collisions;
pub mod gen_range_value_only;
pub mod gen_reserved_words;
