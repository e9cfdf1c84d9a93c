//! fhirforge-codegen (work in progress).
