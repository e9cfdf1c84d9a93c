//! Generate: the page's generation options become a [`GenerateOptions`] and go through the same
//! `fhirforge_codegen::generate_crate` that `fhirforge generate` calls, so the preview and the
//! download are the CLI's output byte for byte.

use fhirforge_codegen::{
    generate_crate, AuthKind, GenerateOptions, GeneratedCrate, ParamOptions, RangeMode, Source,
};
use fhirforge_model::Connector;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The options the Generate page edits.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct PageOptions {
    /// The package name; empty for the default.
    #[serde(default)]
    pub(crate) name: String,
    /// Every date, number and quantity parameter takes one value only.
    #[serde(default)]
    pub(crate) value_only: bool,
    /// Parameters (`Type.name`) that take one value only.
    #[serde(default)]
    pub(crate) value_only_params: Vec<String>,
    /// Only these resource types (all when empty).
    #[serde(default)]
    pub(crate) include_resources: Vec<String>,
    /// Never these resource types.
    #[serde(default)]
    pub(crate) exclude_resources: Vec<String>,
    /// Auth kinds (`basic`, `oauth2`, `smart-backend`); empty for the spec's default.
    #[serde(default)]
    pub(crate) auth: Vec<String>,
    /// The resource whose module the preview shows.
    #[serde(default)]
    pub(crate) resource: String,
}

/// The options the studio was started with, as the page starts from them.
#[derive(Debug, Serialize)]
pub(crate) struct InitialOptions {
    pub(crate) name: Option<String>,
    pub(crate) value_only: bool,
    pub(crate) value_only_params: Vec<String>,
    pub(crate) include_resources: Vec<String>,
    pub(crate) exclude_resources: Vec<String>,
    pub(crate) auth: Vec<&'static str>,
}

impl InitialOptions {
    pub(crate) fn of(options: &GenerateOptions) -> Self {
        Self {
            name: options.name.clone(),
            value_only: options.range == RangeMode::ValueOnly,
            value_only_params: options
                .params
                .iter()
                .filter(|(_, p)| p.range == Some(RangeMode::ValueOnly))
                .map(|(k, _)| k.clone())
                .collect(),
            include_resources: options.include_resources.clone(),
            exclude_resources: options.exclude_resources.clone(),
            auth: options.auth.iter().flatten().map(|k| k.code()).collect(),
        }
    }
}

/// The page's options laid over the studio's starting options (which keep what the page does not
/// edit: base URL, runtime path, default parameters, quirks).
///
/// # Errors
///
/// An unknown auth kind.
pub(crate) fn options(
    base: &GenerateOptions,
    page: &PageOptions,
) -> Result<GenerateOptions, String> {
    let mut options = base.clone();
    let name = page.name.trim();
    options.name = (!name.is_empty()).then(|| name.to_owned());
    options.range = if page.value_only {
        RangeMode::ValueOnly
    } else {
        RangeMode::ValueOrRange
    };
    let mut params: BTreeMap<String, ParamOptions> = BTreeMap::new();
    for key in &page.value_only_params {
        params.insert(
            key.clone(),
            ParamOptions {
                range: Some(RangeMode::ValueOnly),
            },
        );
    }
    options.params = params;
    options.include_resources = page.include_resources.clone();
    options.exclude_resources = page.exclude_resources.clone();
    options.auth = if page.auth.is_empty() {
        None
    } else {
        Some(
            page.auth
                .iter()
                .map(|code| {
                    AuthKind::ALL
                        .into_iter()
                        .find(|k| k.code() == code)
                        .ok_or_else(|| format!("unknown auth kind {code:?}"))
                })
                .collect::<Result<_, _>>()?,
        )
    };
    Ok(options)
}

/// The spec's identity in the generated `@generated` header: the same name and bytes the CLI
/// hashes.
#[derive(Debug, Clone)]
pub struct SourceId {
    /// The file name (or the display URL for a live statement).
    pub name: String,
    /// The bytes hashed into the header.
    pub bytes: Vec<u8>,
}

/// Generates the crate.
///
/// # Errors
///
/// The generator's error, in words.
pub(crate) fn crate_for(
    connector: &Connector,
    options: &GenerateOptions,
    source: &SourceId,
) -> Result<GeneratedCrate, String> {
    generate_crate(
        connector,
        options,
        &Source::new(&source.name, &source.bytes),
    )
    .map_err(|e| e.to_string())
}

/// What the Generate page previews.
#[derive(Debug, Serialize)]
pub(crate) struct GeneratePreview {
    pub(crate) package_name: String,
    pub(crate) files: Vec<String>,
    pub(crate) readme: String,
    pub(crate) module_path: Option<String>,
    pub(crate) module: Option<String>,
}

pub(crate) fn preview(
    connector: &Connector,
    krate: &GeneratedCrate,
    resource: &str,
) -> GeneratePreview {
    let module_path = connector
        .resource(resource)
        .map(|r| format!("src/{}.rs", r.rust_name));
    let module = module_path
        .as_deref()
        .and_then(|p| krate.file(p))
        .map(|f| f.contents.clone());
    GeneratePreview {
        package_name: krate.package_name.clone(),
        files: krate.files.iter().map(|f| f.path.clone()).collect(),
        readme: krate
            .file("README.md")
            .map(|f| f.contents.clone())
            .unwrap_or_default(),
        module_path: module.as_ref().and(module_path),
        module,
    }
}
