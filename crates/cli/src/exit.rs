//! Exit codes: 0 ok, 1 I/O or network, 2 invalid input.

use fhirforge_parse::ErrorCategory;

/// I/O or network failure.
pub(crate) const IO: u8 = 1;
/// Invalid or dangerous input, or invalid arguments.
pub(crate) const INVALID_INPUT: u8 = 2;

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
    }
}
