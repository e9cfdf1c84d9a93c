//! fhirforge-parse (work in progress).
