//! Readers that turn an EHR's description of itself into the fhirforge connector model.
//!
//! * [`read_capability_statement`] reads a CapabilityStatement (STU3 3.0.x, R4 4.0.x, R4B 4.3,
//!   R5 5.0) or a DSTU2 `Conformance` (1.0.x), as JSON or XML, into a
//!   [`fhirforge_model::Connector`]; [`read_capability_statement_file`] does the same for a file
//!   and [`fetch::fetch_capability_statement`] for a live server's `<base>/metadata`.
//! * [`read_smart_configuration`] (and its file and live forms) reads a
//!   `.well-known/smart-configuration`, which [`Parsed::merge_smart_configuration`] merges into
//!   the connector's security.
//! * [`load`] (and [`load_file`]) is the one entry point for "the spec the user named": a file or
//!   URL, a CapabilityStatement or an OpenAPI document, detected by content.
//! * Search parameters a statement declares without documentation or definition URL get both
//!   from the FHIR R4 core SearchParameter definitions, embedded compressed
//!   ([`core_params::lookup`]), when the core definition has the same type. Vendor-only names keep
//!   the vendor's type and text.
//!
//! # Lenient to mess, strict about danger
//!
//! Real statements are messy. Mess is read with a [`Warning`] that names the JSON pointer of the
//! offending element (for XML input: the pointer into the equivalent JSON form):
//!
//! * duplicate interactions, search parameters, operations, resource types, `_include` values and
//!   security services merge into the first declaration;
//! * a duplicated or malformed `oauth-uris` extension: the one under the exact SMART URL wins, a
//!   near miss (athenahealth's `http://DSTU2/...`) is used only when no valid one exists;
//!   endpoint values that are not absolute http(s) URLs are skipped;
//! * unknown interaction codes are skipped; unknown search parameter types are kept as written
//!   ([`fhirforge_model::SearchParamType::Other`]);
//! * resource types that are not FHIR type names (`^[A-Z][A-Za-z0-9]*$`) and search parameter or
//!   operation names outside `[A-Za-z0-9._-]` (at most 64 characters, at least one letter or
//!   digit) are **rejected**: the element is skipped with a warning, so hostile text never
//!   becomes a name. Documentation text is kept verbatim; escaping it is the generator's job;
//! * empty strings are read as absent; a single value where an array belongs is read as a
//!   one-element array;
//! * to keep work and memory bounded on hostile documents, only the first 2,000 elements of any
//!   array are read (and at most 2,000 resource types, parameters or operations per owner are
//!   kept), and at most 1,000 warnings are kept, followed by one that counts the rest.
//!
//! Danger is refused with an [`Error`]: input over [`Limits::max_bytes`] (checked before a file
//! or response is read whole), nesting deeper than [`Limits::max_depth`], more values than
//! [`Limits::max_values`] (what bounds memory for a document of many small lists), malformed
//! JSON or XML (with line and column), an XML `<!DOCTYPE` (no DTD or entity is ever processed),
//! and documents that are not a CapabilityStatement or Conformance. No input makes a reader
//! panic.
//!
//! ```
//! let json = br#"{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1",
//!   "rest": [{"mode": "server", "resource": [{"type": "Patient",
//!     "interaction": [{"code": "read"}, {"code": "read"}],
//!     "searchParam": [{"name": "birthdate", "type": "date"}]}]}]}"#;
//! let parsed = fhirforge_parse::read_capability_statement(json, None, &Default::default())?;
//! let patient = parsed.connector.resource("Patient").unwrap();
//! assert_eq!(patient.search_params[0].definition.as_deref(),
//!            Some("http://hl7.org/fhir/SearchParameter/individual-birthdate"));
//! assert_eq!(parsed.warnings[0].pointer, "/rest/0/resource/0/interaction/1/code");
//! # Ok::<(), fhirforge_parse::Error>(())
//! ```
#![deny(missing_docs)]

mod capability;
mod collect;
pub mod core_params;
mod error;
pub mod fetch;
mod load;
pub mod openapi;
mod smart;
mod source;
mod xml;

pub use error::{Error, ErrorCategory};
pub use smart::{SmartConfiguration, SmartDocument};
pub use source::{is_url, load, load_file, LoadOptions, Loaded, SpecKind};

use fhirforge_model::Connector;
use serde::Serialize;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Bounds on what the readers accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document, in bytes (default 16 MiB; the largest real statement here is 155 kB).
    pub max_bytes: u64,
    /// Deepest nesting of JSON arrays/objects or XML elements (default 64; real statements
    /// nest about 10 deep).
    pub max_depth: usize,
    /// Most values a document may hold once read: JSON and YAML values (objects, arrays,
    /// strings, numbers...), XML elements and attributes. Only what is read counts: entries of
    /// an array, object or element past the first 2,000 are skipped with a warning. Default
    /// 250,000 (a tree of that many small objects takes about 60 MB); Epic's R4 statement has
    /// 3,700, hfs's 10,000 and the largest OpenAPI document here 20,000. This is what bounds
    /// memory for a document of many small lists, which [`Limits::max_bytes`] alone does not.
    pub max_values: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 64,
            max_values: 250_000,
        }
    }
}

/// A document syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// FHIR JSON.
    Json,
    /// FHIR XML.
    Xml,
}

impl Format {
    /// Guesses the syntax from the first non-blank byte: `<` is XML, anything else JSON.
    pub fn sniff(input: &[u8]) -> Self {
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        match input.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Self::Xml,
            _ => Self::Json,
        }
    }
}

/// Something odd in a document that was read anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// JSON pointer to the element (`/rest/0/resource/3/interaction/2/code`); SMART
    /// configuration warnings start with `smart-configuration#`.
    pub pointer: String,
    /// What was odd and what the reader did about it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            },
            self.message
        )
    }
}

/// A connector read from a statement, with the warnings reading it produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parsed {
    /// The connector model.
    #[serde(flatten)]
    pub connector: Connector,
    /// Warnings, in document order.
    pub warnings: Vec<Warning>,
}

fn check_size(input: &[u8], what: &str, limits: &Limits) -> Result<(), Error> {
    let size = input.len() as u64;
    if size > limits.max_bytes {
        return Err(Error::TooLarge {
            what: what.to_owned(),
            size: Some(size),
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// Reads a CapabilityStatement or Conformance from bytes. `format: None` sniffs the syntax.
///
/// # Errors
/// [`Error::TooLarge`], [`Error::TooDeep`], [`Error::Json`], [`Error::Xml`], [`Error::Doctype`]
/// and [`Error::NotCapabilityStatement`]; see the crate docs.
pub fn read_capability_statement(
    input: &[u8],
    format: Option<Format>,
    limits: &Limits,
) -> Result<Parsed, Error> {
    check_size(input, "the document", limits)?;
    let (doc, cut) = match format.unwrap_or_else(|| Format::sniff(input)) {
        Format::Json => {
            let mut loaded = load::load_json(input, load::LoadLimits::new(limits))?;
            let notes = loaded.warnings("");
            (loaded.value, notes.finish())
        }
        Format::Xml => xml::parse_with_warnings(input, limits)?,
    };
    let mut parsed = capability::read(&doc)?;
    if !cut.is_empty() {
        // What the XML reader cut was found first; all under the one warning cap.
        let mut warnings = collect::Warnings::resume(cut);
        warnings.extend(parsed.warnings);
        parsed.warnings = warnings.finish();
    }
    Ok(parsed)
}

/// Maps a FHIR XML document to its FHIR JSON form (the mapping the XML reader uses; see the rules
/// in the crate docs of the XML module: `value` attributes, repeating elements as arrays,
/// `_name` companions for primitives with extensions, typed booleans and numbers, the narrative
/// `div` as markup).
///
/// # Errors
/// [`Error::TooLarge`], [`Error::TooDeep`], [`Error::Xml`] and [`Error::Doctype`].
pub fn fhir_xml_to_json(input: &[u8], limits: &Limits) -> Result<serde_json::Value, Error> {
    check_size(input, "the document", limits)?;
    xml::parse(input, limits)
}

/// Reads a CapabilityStatement or Conformance file (JSON or XML, sniffed from the content).
///
/// # Errors
/// [`Error::Io`], [`Error::TooLarge`] (from the file's metadata, before reading) and the errors of
/// [`read_capability_statement`].
pub fn read_capability_statement_file(path: &Path, limits: &Limits) -> Result<Parsed, Error> {
    let bytes = read_file(path, limits)?;
    read_capability_statement(&bytes, None, limits)
}

/// Reads a SMART configuration (`.well-known/smart-configuration`) from JSON bytes. Documents
/// over 1 MiB are refused whatever [`Limits::max_bytes`] says (real ones are a few kB).
///
/// # Errors
/// [`Error::TooLarge`], [`Error::TooDeep`], [`Error::Json`] and [`Error::NotSmartConfiguration`].
pub fn read_smart_configuration(input: &[u8], limits: &Limits) -> Result<SmartDocument, Error> {
    let limits = Limits {
        max_bytes: limits.max_bytes.min(smart::MAX_SMART_BYTES),
        ..*limits
    };
    check_size(input, "the SMART configuration", &limits)?;
    let mut loaded = load::load_json(input, load::LoadLimits::new(&limits))?;
    // What the loader cut was found first; all under the one warning cap.
    let mut warnings = loaded.warnings("smart-configuration#");
    let mut smart = smart::read(&loaded.value)?;
    warnings.extend(smart.warnings);
    smart.warnings = warnings.finish();
    Ok(smart)
}

/// Reads a SMART configuration file.
///
/// # Errors
/// [`Error::Io`], then those of [`read_smart_configuration`].
pub fn read_smart_configuration_file(path: &Path, limits: &Limits) -> Result<SmartDocument, Error> {
    let bytes = read_file(path, limits)?;
    read_smart_configuration(&bytes, limits)
}

/// Reads a file whole, refusing one over the limit before reading it (from its metadata) and
/// never reading more than the limit plus one byte (for files whose size metadata lies, such as
/// `/dev/zero` or a file still growing).
///
/// # Errors
/// [`Error::Io`] and [`Error::TooLarge`].
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let too_large = |size| Error::TooLarge {
        what: path.display().to_string(),
        size,
        limit: limits.max_bytes,
    };
    if len > limits.max_bytes {
        return Err(too_large(Some(len)));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_large(None));
    }
    Ok(bytes)
}
