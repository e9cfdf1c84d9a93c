//! The one error type of the readers.

use std::path::PathBuf;

/// Why a document was refused.
///
/// Mess inside a valid statement is never an error: it becomes a [`crate::Warning`]. Errors are
/// for documents that cannot or must not be read at all. [`Error::category`] tells the CLI which
/// exit code to use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("could not read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than [`crate::Limits::max_bytes`]; it was not read whole.
    #[error("{what} is larger than the limit of {limit} bytes{}", size.map(|s| format!(" ({s} bytes)")).unwrap_or_default())]
    TooLarge {
        /// The file path or URL.
        what: String,
        /// The size, when known before reading (file metadata, `Content-Length`).
        size: Option<u64>,
        /// The limit.
        limit: u64,
    },
    /// The input is not well-formed JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// The input is not well-formed XML, or uses an entity that is not one of XML's five.
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Xml {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the XML parser said.
        message: String,
    },
    /// Objects, arrays or elements are nested deeper than [`crate::Limits::max_depth`].
    #[error("document nested deeper than {limit} levels at line {line}, column {column}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// 1-based line where the limit was crossed.
        line: usize,
        /// 1-based column where the limit was crossed.
        column: usize,
    },
    /// An XML document carries a document type declaration; DTDs and custom entities are never
    /// processed, so such a document is refused outright (no external entities, no expansion
    /// bombs).
    #[error(
        "XML document type declarations (<!DOCTYPE>) are refused at line {line}, column {column}: \
         DTDs and entities are never processed"
    )]
    Doctype {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The document is well-formed but is not a CapabilityStatement or DSTU2 Conformance.
    #[error("not a CapabilityStatement or Conformance: {found}")]
    NotCapabilityStatement {
        /// What was found instead (`resourceType "Patient"`, `a JSON array`).
        found: String,
    },
    /// The document is well-formed but is not a SMART configuration (not a JSON object).
    #[error("not a SMART configuration: {found}")]
    NotSmartConfiguration {
        /// What was found instead.
        found: String,
    },
    /// A URL given to the live readers is not an absolute `http`/`https` URL.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, without user info.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A live request failed before a response arrived, or while its body was read.
    #[error("request to {url} failed")]
    Http {
        /// The URL, without user info or query.
        url: String,
        /// reqwest's error, with its URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// A live request got an error status.
    #[error("{url} answered HTTP {status}")]
    HttpStatus {
        /// The URL, without user info or query.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The input is not well-formed YAML (OpenAPI documents).
    #[error("malformed YAML at line {line}, column {column}: {message}")]
    Yaml {
        /// 1-based line (0 when the parser gave no position).
        line: usize,
        /// 1-based column (0 when the parser gave no position).
        column: usize,
        /// What the YAML parser said.
        message: String,
    },
    /// The document expands to more values or text than its size allows: YAML aliases
    /// replaying anchors ("billion laughs").
    #[error("document expands to {detail} (YAML aliases?); refused")]
    Expansion {
        /// Which limit was crossed (`more than 100000 values`).
        detail: String,
    },
    /// The document holds more values than [`crate::Limits::max_values`] (counting only what is
    /// read: entries of an array or object past the first 2,000 are skipped, not counted).
    #[error(
        "document holds more than {limit} values; refused (real ones hold a few thousand; \
         raise Limits::max_values to read it)"
    )]
    TooManyValues {
        /// The limit.
        limit: usize,
    },
    /// The document is well-formed but has no `openapi` or `swagger` key.
    #[error("not an OpenAPI or Swagger document: {found}")]
    NotOpenApi {
        /// What was found instead.
        found: String,
    },
    /// An OpenAPI or Swagger version this reader does not read (only Swagger 2.0 and
    /// OpenAPI 3.x are).
    #[error("unsupported OpenAPI version {version}")]
    UnsupportedOpenApi {
        /// The version as written, quoted.
        version: String,
    },
    /// A `$ref` to another document: external references are never fetched or opened.
    #[error(
        "external $ref {reference:?} at {pointer} refused: only local references (#/...) are read"
    )]
    ExternalRef {
        /// JSON pointer of the `$ref`.
        pointer: String,
        /// The reference as written.
        reference: String,
    },
    /// The options given do not fit the document (a CapabilityStatement given to type an
    /// input that is itself a CapabilityStatement).
    #[error("invalid options: {reason}")]
    InvalidOptions {
        /// Why.
        reason: String,
    },
    /// A chain of `$ref`s that returns to itself.
    #[error("$ref {reference:?} at {pointer} is part of a reference cycle")]
    RefCycle {
        /// JSON pointer of the `$ref` where the chain starts.
        pointer: String,
        /// The reference that closed the cycle.
        reference: String,
    },
}

/// The broad kind of an [`Error`], for exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The input could not be obtained: file system or network (CLI exit code 1).
    Io,
    /// The input was obtained but is invalid or dangerous (CLI exit code 2).
    InvalidInput,
}

impl Error {
    /// Whether this is an I/O or network failure or a refusal of the input.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Io { .. } | Self::Http { .. } | Self::HttpStatus { .. } => ErrorCategory::Io,
            Self::TooLarge { .. }
            | Self::Json { .. }
            | Self::Xml { .. }
            | Self::TooDeep { .. }
            | Self::Doctype { .. }
            | Self::NotCapabilityStatement { .. }
            | Self::NotSmartConfiguration { .. }
            | Self::InvalidUrl { .. }
            | Self::Yaml { .. }
            | Self::Expansion { .. }
            | Self::TooManyValues { .. }
            | Self::NotOpenApi { .. }
            | Self::UnsupportedOpenApi { .. }
            | Self::ExternalRef { .. }
            | Self::RefCycle { .. }
            | Self::InvalidOptions { .. } => ErrorCategory::InvalidInput,
        }
    }
}

/// 1-based line and column of byte offset `pos` in `input` (columns count bytes).
pub(crate) fn line_col(input: &[u8], pos: usize) -> (usize, usize) {
    let pos = pos.min(input.len());
    let before = &input[..pos];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, pos - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = b"ab\ncd\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 1), (1, 2));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 4), (2, 2));
        assert_eq!(line_col(text, 100), (3, 1));
    }

    #[test]
    fn error_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 64,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
