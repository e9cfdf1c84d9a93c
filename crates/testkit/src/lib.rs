//! fhirforge-testkit (work in progress).
