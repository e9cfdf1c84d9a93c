//! Exit codes: 0 ok, 1 I/O, network or failed request, 2 invalid input, 3 drift, 4 export
//! finished with problems, 130 interrupted.

use fhirforge_parse::ErrorCategory;

/// I/O or network failure.
pub(crate) const IO: u8 = 1;
/// Invalid or dangerous input, or invalid arguments.
pub(crate) const INVALID_INPUT: u8 = 2;

/// An export finished, but with problems: the server's error files, lines that are not
/// resources, counts that differ from the manifest's.
pub(crate) const EXPORT_PROBLEMS: u8 = 4;

/// Interrupted by the user (Ctrl-C), the shell convention 128 + SIGINT.
pub(crate) const INTERRUPTED: u8 = 130;

/// An export finished with problems (exit code 4); the data is on disk.
#[derive(Debug)]
pub(crate) struct ExportProblems(pub(crate) String);

impl std::fmt::Display for ExportProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the export finished with problems: {}", self.0)
    }
}

impl std::error::Error for ExportProblems {}

/// The user interrupted the command (exit code 130).
#[derive(Debug)]
pub(crate) struct Interrupted(pub(crate) String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Capability drift found (`fhirforge diff`: the statements differ).
pub(crate) const DRIFT: u8 = 3;

/// The capability statements compared by `fhirforge diff` differ (exit code 3).
#[derive(Debug)]
pub(crate) struct Drift(pub(crate) usize);

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.0 == 1 { "" } else { "s" };
        write!(f, "capability drift: {} change{s}", self.0)
    }
}

impl std::error::Error for Drift {}

/// A command's own refusal of its arguments (exit code 2), for errors that are not a reader's.
#[derive(Debug)]
pub(crate) struct InvalidInput(pub(crate) String);

impl std::fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidInput {}

/// The exit code for an error: the first classified error in its chain decides; anything else
/// is treated as an I/O failure.
pub(crate) fn code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<fhirforge_parse::Error>() {
            return match e.category() {
                ErrorCategory::InvalidInput => INVALID_INPUT,
                _ => IO,
            };
        }
        if cause.downcast_ref::<InvalidInput>().is_some() {
            return INVALID_INPUT;
        }
        if cause.downcast_ref::<Drift>().is_some() {
            return DRIFT;
        }
        if cause.downcast_ref::<ExportProblems>().is_some() {
            return EXPORT_PROBLEMS;
        }
        if cause.downcast_ref::<Interrupted>().is_some() {
            return INTERRUPTED;
        }
        if let Some(e) = cause.downcast_ref::<fhirforge_runtime::Error>() {
            // Refused before sending (a bad id, type or search value) is the caller's input;
            // everything else (server answer, transport, auth) is a failed request.
            return match e {
                fhirforge_runtime::Error::Search(_)
                | fhirforge_runtime::Error::InvalidInput { .. } => INVALID_INPUT,
                // An output directory that holds another export is the caller's argument.
                fhirforge_runtime::Error::Bulk(b)
                    if matches!(**b, fhirforge_runtime::bulk::BulkError::DirMismatch { .. }) =>
                {
                    INVALID_INPUT
                }
                _ => IO,
            };
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return IO;
        }
    }
    IO
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_chain_decides() {
        let invalid: anyhow::Error =
            fhirforge_parse::Error::NotCapabilityStatement { found: "x".into() }.into();
        assert_eq!(code(&invalid.context("reading x")), INVALID_INPUT);
        let io: Result<(), _> = Err(std::io::Error::other("disk"));
        assert_eq!(code(&io.context("writing").unwrap_err()), IO);
        assert_eq!(
            code(&anyhow::Error::new(InvalidInput("bad".into()))),
            INVALID_INPUT
        );
        assert_eq!(code(&anyhow::Error::new(Drift(2)).context("diff")), DRIFT);
    }
}
