//! The one spec-loading entry point: a file or a URL, a CapabilityStatement (or Conformance) or
//! an OpenAPI document, told apart by content unless the caller says which. `inspect` and
//! `generate` (and anything else that turns "the spec the user named" into a model) share it,
//! so they accept exactly the same inputs.

use crate::{fetch, openapi, Error, Limits, Parsed};
use fhirforge_model::Connector;
use std::path::Path;

/// Which kind of document a spec is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecKind {
    /// A FHIR CapabilityStatement or DSTU2 Conformance (JSON or XML); for a URL, the server's
    /// `<base>/metadata`.
    CapabilityStatement,
    /// An OpenAPI 3.x or Swagger 2.0 document (JSON or YAML).
    OpenApi,
}

/// How to load a spec.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions<'a> {
    /// The kind of document; `None` detects it: a file by its content ([`openapi::sniff`]), a
    /// URL is a FHIR base whose `/metadata` is read.
    pub kind: Option<SpecKind>,
    /// For OpenAPI documents: a CapabilityStatement of the same server, read beforehand, whose
    /// search parameter types win (see [`openapi::Options::capability`]). Refused for a
    /// CapabilityStatement, where it would mean nothing.
    pub capability: Option<&'a Connector>,
    /// Size and nesting limits.
    pub limits: Limits,
}

/// A loaded spec.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loaded {
    /// The connector model and the warnings.
    pub parsed: Parsed,
    /// What the document was.
    pub kind: SpecKind,
    /// The document's bytes, for a file (a caller may want to hash or copy them); `None` for a
    /// URL.
    pub bytes: Option<Vec<u8>>,
    /// For OpenAPI documents: the SMART configuration URL the document points at, if any (see
    /// [`openapi::OpenApiParsed::smart_configuration_url`]). Never fetched here.
    pub smart_configuration_url: Option<String>,
}

/// Whether `source` is an `http://` or `https://` URL rather than a file path.
pub fn is_url(source: &str) -> bool {
    let lower = source.get(..8).unwrap_or(source).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Loads a spec from a file path or an `http(s)` URL (see [`LoadOptions`] for how its kind is
/// decided). Files are read with the same bounds as [`crate::read_file`], URLs with the bounded
/// client of [`crate::fetch`] (a FHIR base: `<base>/metadata`; an OpenAPI document: the URL
/// itself). File reads block the calling thread, which is fine for a command-line tool.
///
/// # Errors
/// [`Error::InvalidOptions`] for a capability given with a CapabilityStatement, then the errors
/// of [`load_file`], [`fetch::fetch_capability_statement`] and [`openapi::fetch`].
pub async fn load(source: &str, options: &LoadOptions<'_>) -> Result<Loaded, Error> {
    if !is_url(source) {
        return load_file(Path::new(source), options);
    }
    let openapi_options = openapi_options(options);
    match options.kind {
        Some(SpecKind::OpenApi) => {
            let read = openapi::fetch(source, &openapi_options).await?;
            Ok(Loaded {
                parsed: read.parsed,
                kind: SpecKind::OpenApi,
                bytes: None,
                smart_configuration_url: read.smart_configuration_url,
            })
        }
        Some(SpecKind::CapabilityStatement) | None => {
            refuse_capability(options)?;
            let parsed = fetch::fetch_capability_statement(source, &options.limits).await?;
            Ok(Loaded {
                parsed,
                kind: SpecKind::CapabilityStatement,
                bytes: None,
                smart_configuration_url: None,
            })
        }
    }
}

/// Loads a spec file: a CapabilityStatement or Conformance (JSON or XML) or an OpenAPI document
/// (JSON or YAML), detected by content unless [`LoadOptions::kind`] says which.
///
/// # Errors
/// [`Error::Io`], [`Error::TooLarge`] (before reading), [`Error::InvalidOptions`], and the
/// errors of [`crate::read_capability_statement`] and [`openapi::read`].
pub fn load_file(path: &Path, options: &LoadOptions<'_>) -> Result<Loaded, Error> {
    let bytes = crate::read_file(path, &options.limits)?;
    let kind = options.kind.unwrap_or(if openapi::sniff(&bytes) {
        SpecKind::OpenApi
    } else {
        SpecKind::CapabilityStatement
    });
    let (parsed, smart_configuration_url) = match kind {
        SpecKind::OpenApi => {
            let read = openapi::read(&bytes, &openapi_options(options))?;
            (read.parsed, read.smart_configuration_url)
        }
        SpecKind::CapabilityStatement => {
            refuse_capability(options)?;
            (
                crate::read_capability_statement(&bytes, None, &options.limits)?,
                None,
            )
        }
    };
    Ok(Loaded {
        parsed,
        kind,
        bytes: Some(bytes),
        smart_configuration_url,
    })
}

fn openapi_options<'a>(options: &LoadOptions<'a>) -> openapi::Options<'a> {
    openapi::Options {
        capability: options.capability,
        source_url: None,
        limits: options.limits,
    }
}

fn refuse_capability(options: &LoadOptions<'_>) -> Result<(), Error> {
    match options.capability {
        Some(_) => Err(Error::InvalidOptions {
            reason: "a CapabilityStatement to type search parameters applies only to OpenAPI \
                     documents"
                .to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../specs")
            .join(name)
    }

    #[test]
    fn files_are_told_apart_by_content_or_by_the_caller() {
        let opts = LoadOptions::default();
        let cap = load_file(&spec("vendors/epic-r4-capability.json"), &opts).unwrap();
        assert_eq!(cap.kind, SpecKind::CapabilityStatement);
        assert!(cap.bytes.is_some());
        let oa = load_file(&spec("openapi/firely-r4-patient.json"), &opts).unwrap();
        assert_eq!(oa.kind, SpecKind::OpenApi);
        // Told it is a CapabilityStatement, an OpenAPI document is refused as one.
        let forced = LoadOptions {
            kind: Some(SpecKind::CapabilityStatement),
            ..opts
        };
        assert!(matches!(
            load_file(&spec("openapi/firely-r4-patient.json"), &forced),
            Err(Error::NotCapabilityStatement { .. })
        ));
        // A capability only types OpenAPI documents.
        let with_cap = LoadOptions {
            capability: Some(&cap.parsed.connector),
            ..opts
        };
        assert!(matches!(
            load_file(&spec("vendors/epic-r4-capability.json"), &with_cap),
            Err(Error::InvalidOptions { .. })
        ));
        assert!(load_file(&spec("openapi/firely-r4-patient.json"), &with_cap).is_ok());
    }

    #[test]
    fn urls_and_paths() {
        assert!(is_url("https://ehr.example/fhir"));
        assert!(is_url("HTTP://ehr.example"));
        assert!(!is_url("specs/vendors/epic-r4-capability.json"));
        assert!(!is_url("httpx"));
    }
}
