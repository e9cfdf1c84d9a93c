//! fhirforge-runtime (work in progress).
