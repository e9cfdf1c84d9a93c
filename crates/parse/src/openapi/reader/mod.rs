//! The OpenAPI/Swagger document walk: paths to resources, interactions, search parameters,
//! operations and generic operations; security schemes to [`Security`].

use super::fhir::{self, FhirPath};
use super::refs::{self, escape, RefProblem};
use super::{OpenApiParsed, Options, SpecVersion};
use crate::capability::{fold_modifiers, split_modifier, PendingModifier};
use crate::collect::{Named, Pushed, UniqueList, Warnings, MAX_ITEMS};
use crate::{Error, Parsed};
use fhirforge_model::{
    ConditionalDelete, Connector, FhirRelease, GenericBody, GenericOperation, GenericParam,
    HttpMethod, ListStyle, Operation, ParamLocation, Resource, ResourceInteraction, SearchParam,
    SearchParamType, Security, SimpleType, Software, SystemCapabilities, SystemInteraction,
};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Query parameters that shape the HTTP response rather than the search (`_format`, `_pretty`):
/// Firely declares them on every path; they are not search parameters.
const FORMAT_PARAMETERS: &[&str] = &["_format", "_pretty"];

/// Types of the FHIR search and result parameters that apply to every resource but have no
/// entry in the R4 core SearchParameter bundle (FHIR R4 search, "Parameters for all resources"
/// and "Modifying search results").
const COMMON_PARAMETER_TYPES: &[(&str, &str)] = &[
    ("_count", "number"),
    ("_offset", "number"),
    ("_maxresults", "number"),
    ("_sort", "string"),
    ("_elements", "string"),
    ("_include", "special"),
    ("_revinclude", "special"),
    ("_summary", "token"),
    ("_total", "token"),
    ("_contained", "token"),
    ("_containedType", "token"),
    ("_type", "token"),
    ("_has", "special"),
    ("_filter", "special"),
    ("_list", "special"),
    ("_graph", "reference"),
    ("_score", "token"),
    ("_in", "reference"),
    ("_language", "token"),
];

/// Longest accepted parameter, header or path variable name.
const MAX_NAME_LEN: usize = 128;

/// Longest path template accepted for a generic operation.
const MAX_PATH_LEN: usize = 2048;

/// Longest documentation text kept (longer text is cut at a character boundary).
const MAX_TEXT_LEN: usize = 16 * 1024;

/// Most media types and responses read per operation (real ones list a handful).
const MAX_PER_OPERATION: usize = 64;

/// Most parameters read from one `parameters` list. Real operations declare a few dozen.
const MAX_PARAMS: usize = 256;

/// Most bytes of documentation text kept for the whole document (the same `$ref` reuse would
/// otherwise copy one 16 kB description into every operation). Real documents hold well under
/// 1 MiB.
const MAX_TOTAL_TEXT: usize = 8 * 1024 * 1024;

/// Most parameters (search and generic) kept for the whole document. `$ref`s let a small
/// document reuse one large path item under thousands of paths, so per-list caps alone would
/// still let the model grow to millions of parameters; real documents keep a few thousand.
const MAX_TOTAL_PARAMS: usize = 50_000;

pub(crate) use crate::collect::shown;

/// A JSON pointer fit for a terminal: control characters (only possible in hostile keys) are
/// written as escapes (`\u{1b}`), so a warning can never carry one. Pointers into ordinary
/// documents are unchanged and resolve with `Value::pointer`.
pub(crate) fn printable_pointer(pointer: String) -> String {
    if pointer.chars().any(char::is_control) {
        pointer
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        pointer
    }
}

/// Documentation text: control characters other than newline and tab removed, trimmed, cut at
/// [`MAX_TEXT_LEN`]; empty is absent.
fn text(value: Option<&Value>) -> Option<String> {
    let s = value?.as_str()?;
    let mut out: String = s
        .chars()
        .filter(|&c| !c.is_control() || c == '\n' || c == '\t')
        .collect();
    if out.len() > MAX_TEXT_LEN {
        let mut end = MAX_TEXT_LEN;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    let trimmed = out.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Whether `name` is acceptable as a query parameter name on the wire: printable ASCII without
/// quotes, backslashes, whitespace or URL delimiters.
fn valid_query_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | ':' | '~' | '[' | ']' | '$' | '*')
        })
        && name.chars().any(|c| c.is_ascii_alphanumeric())
}

/// Whether `name` is an HTTP header name (RFC 9110 token, minus the rarer symbols).
fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether a path template may be emitted as it is: printable ASCII, no quote, backslash,
/// whitespace, query or fragment, balanced `{name}` variables with valid names.
fn valid_path_template(path: &str) -> bool {
    if path.is_empty() || path.len() > MAX_PATH_LEN || !path.starts_with('/') {
        return false;
    }
    if !path.chars().all(|c| {
        c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '`' | '#' | '?' | '<' | '>' | '^' | '|')
    }) {
        return false;
    }
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if &rest[open..=open] == "}" {
            return false;
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find(['{', '}']) else {
            return false;
        };
        if &after[close..=close] == "{" || !valid_query_name(&after[..close]) {
            return false;
        }
        rest = &after[close + 1..];
    }
    true
}

/// Whether a media type may be used as it is (`application/fhir+json; charset=utf-8`).
fn valid_media_type(media: &str) -> bool {
    !media.is_empty()
        && media.len() <= 128
        && media.contains('/')
        && media.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '/' | '+' | '.' | '-' | '_' | ';' | '=' | ' ' | '*')
        })
}

/// The `{name}` variables of a path template, in order.
fn path_variables(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

/// One parameter as declared, after `$ref`s and path-level merging.
#[derive(Debug, Clone)]
struct RawParam<'a> {
    name: String,
    location: String,
    required: bool,
    description: Option<String>,
    /// The OpenAPI 3 `schema`, or for Swagger 2 the parameter object itself (it holds `type`).
    schema: Option<&'a Value>,
    style: Option<String>,
    explode: Option<bool>,
    pointer: String,
}

/// Collected facts about one resource type.
#[derive(Debug, Default)]
struct ResourceAcc {
    interactions: Vec<ResourceInteraction>,
    /// Search parameter names in first-seen order, with the spec's description and pointer.
    params: Vec<(String, Option<String>, String)>,
    /// The names in `params`, for a linear duplicate check.
    param_names: HashSet<String>,
    /// Query parameters written `name:modifier`, folded into their base at the end.
    modifiers: Vec<PendingModifier>,
    operations: Named<Operation>,
    conditional_update: bool,
    conditional_delete: bool,
    conditional_create: bool,
}

/// A generic operation, with its pointer for the duplicate `operationId` warning.
#[derive(Debug)]
struct GenericAcc {
    op: GenericOperation,
    pointer: String,
}

/// The walk's state.
pub(crate) struct Reader<'a> {
    root: &'a Value,
    version: SpecVersion,
    options: &'a Options<'a>,
    warnings: Warnings,
    /// The document-level server URL (absolute when it could be made so).
    server_url: Option<String>,
    resources: BTreeMap<String, ResourceAcc>,
    system: SystemCapabilities,
    system_ops: Named<Operation>,
    generic: Vec<GenericAcc>,
    formats: UniqueList<String>,
    patch_formats: UniqueList<String>,
    smart_configuration_url: Option<String>,
    /// Pointers of `security` maps written where a list belongs (OpenEMR), reported once.
    security_maps: Vec<String>,
    /// Whether some path under the FHIR base is an instance path (`/Patient/{id}`), so that a
    /// `/Observation{id}` typo can be read as one.
    instance_paths: bool,
    /// Parameters kept so far, against [`MAX_TOTAL_PARAMS`].
    params_kept: usize,
    /// Bytes of documentation text still allowed, against [`MAX_TOTAL_TEXT`].
    text_left: usize,
    /// Whether the documentation budget ran out (and the warning was given).
    text_spent: bool,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(root: &'a Value, version: SpecVersion, options: &'a Options<'a>) -> Self {
        Self {
            root,
            version,
            options,
            warnings: Warnings::default(),
            server_url: None,
            resources: BTreeMap::new(),
            system: SystemCapabilities::default(),
            system_ops: Named::default(),
            generic: Vec::new(),
            formats: UniqueList::default(),
            patch_formats: UniqueList::default(),
            smart_configuration_url: None,
            security_maps: Vec::new(),
            instance_paths: false,
            params_kept: 0,
            text_left: MAX_TOTAL_TEXT,
            text_spent: false,
        }
    }

    pub(crate) fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.warnings
            .push(printable_pointer(pointer.into()), message.into());
    }

    /// Documentation text (see [`text`]), charged against [`MAX_TOTAL_TEXT`]; once that is spent,
    /// further text is dropped with one warning.
    fn docs(&mut self, value: Option<&Value>) -> Option<String> {
        let t = text(value)?;
        if t.len() <= self.text_left {
            self.text_left -= t.len();
            return Some(t);
        }
        if !self.text_spent {
            self.text_spent = true;
            self.text_left = 0;
            self.warn(
                "",
                format!("more than {MAX_TOTAL_TEXT} bytes of documentation; the rest is dropped"),
            );
        }
        None
    }

    /// Follows `$ref`s; a dangling or cyclic chain is a warning and `None`.
    fn deref(&mut self, value: &'a Value, pointer: &str) -> Option<(&'a Value, String)> {
        match refs::resolve(self.root, value, pointer) {
            Ok(found) => Some(found),
            Err(RefProblem::Dangling { pointer, reference }) => {
                self.warn(
                    pointer,
                    format!("$ref {} points at nothing; skipped", shown(&reference)),
                );
                None
            }
            Err(RefProblem::Cycle { pointer, reference }) => {
                self.warn(
                    pointer,
                    format!("$ref {} is part of a cycle; skipped", shown(&reference)),
                );
                None
            }
            Err(RefProblem::External { pointer, reference }) => {
                self.warn(
                    pointer,
                    format!(
                        "external $ref {} is not followed; skipped",
                        shown(&reference)
                    ),
                );
                None
            }
        }
    }

    /// Reads the whole document.
    pub(crate) fn read(mut self) -> Result<OpenApiParsed, Error> {
        let root = self.root;
        let info = root.get("info");
        let title = text(info.and_then(|i| i.get("title")));
        self.server_url = self.document_server();
        self.check_requirements(root.get("security"), "/security");

        let paths = match root.get("paths") {
            Some(Value::Object(paths)) => Some(paths),
            Some(_) => {
                self.warn("/paths", "`paths` is not an object; no operations read");
                None
            }
            None => {
                self.warn("", "the document has no `paths`; no operations read");
                None
            }
        };
        let base = paths.and_then(|p| fhir::find_base(p.keys().map(String::as_str)));
        self.instance_paths = base.as_deref().is_some_and(|b| {
            let base_segs = fhir::segments(b);
            paths.into_iter().flat_map(|p| p.keys()).any(|path| {
                let segs = fhir::segments(path);
                segs.starts_with(&base_segs)
                    && matches!(
                        fhir::classify(&segs[base_segs.len()..]),
                        Some(
                            FhirPath::Instance(_)
                                | FhirPath::InstanceHistory(_)
                                | FhirPath::Version(_)
                                | FhirPath::InstanceOperation(..)
                        )
                    )
            })
        });
        if let Some(paths) = paths {
            if paths.len() > MAX_ITEMS {
                self.warn(
                    "/paths",
                    format!("{} paths; only the first {MAX_ITEMS} are read", paths.len()),
                );
            }
            for (path, item) in paths.iter().take(MAX_ITEMS) {
                self.read_path(path, item, base.as_deref());
            }
        }
        if !self.security_maps.is_empty() {
            let first = self.security_maps[0].clone();
            let more = self.security_maps.len() - 1;
            self.warn(
                first,
                format!(
                    "scopes of a security requirement written as a map where a list belongs; \
                     read as an empty list{}",
                    if more > 0 {
                        format!(" (and {more} more like it)")
                    } else {
                        String::new()
                    }
                ),
            );
        }
        let security = self.read_security();

        let (fhir_version, fhir_release) = self.fhir_version(base.as_deref(), title.as_deref());
        let base_url = base.as_deref().map(|prefix| match &self.server_url {
            Some(server) => format!("{}{prefix}", server.trim_end_matches('/')),
            None => prefix.to_owned(),
        });
        let resources = self.finish_resources();
        let generic_operations = self.finish_generic();
        let mut system = std::mem::take(&mut self.system);
        system.interactions.sort();
        system.interactions.dedup();
        system.operations = std::mem::take(&mut self.system_ops).into_vec();

        let mut connector = Connector {
            source_kind: fhirforge_model::SourceKind::OpenApi,
            name: title
                .clone()
                .unwrap_or_else(|| "OpenAPI document".to_owned()),
            fhir_version,
            fhir_release,
            base_url: base_url.filter(|u| !u.is_empty()),
            publisher: text(
                info.and_then(|i| i.get("contact"))
                    .and_then(|c| c.get("name")),
            ),
            software: Some(Software {
                name: title,
                version: text(info.and_then(|i| i.get("version"))),
                release_date: None,
            }),
            formats: std::mem::take(&mut self.formats).into_vec(),
            patch_formats: std::mem::take(&mut self.patch_formats).into_vec(),
            security,
            system,
            resources,
            generic_operations,
        };
        // Rust names are decided once, by the model's one naming pass.
        fhirforge_model::names::assign(&mut connector);
        Ok(OpenApiParsed {
            parsed: Parsed {
                connector,
                warnings: self.warnings.finish(),
            },
            version: self.version,
            smart_configuration_url: self.smart_configuration_url,
        })
    }
}

pub(super) fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

mod generic;
mod paths;
mod security;
mod servers;

#[cfg(test)]
mod tests {
    use super::generic::{pick_media, scalar, type_name};
    use super::servers::{plain_url, resolve_reference};
    use super::*;

    #[test]
    fn references_resolve_against_absolute_and_relative_servers() {
        let r = resolve_reference;
        assert_eq!(
            r(Some("https://a.example/api/"), "/oauth/token"),
            "https://a.example/oauth/token"
        );
        assert_eq!(
            r(Some("https://a.example/api/"), "oauth/token"),
            "https://a.example/api/oauth/token"
        );
        assert_eq!(
            r(Some("https://a.example"), "https://b.example/t"),
            "https://b.example/t"
        );
        assert_eq!(
            r(Some("/apis/default/"), "/oauth2/default/token"),
            "/oauth2/default/token"
        );
        assert_eq!(r(Some("/apis/default/"), "token"), "/apis/default/token");
        assert_eq!(r(None, "/token"), "/token");
    }

    #[test]
    fn path_templates_and_urls_are_checked_before_use() {
        assert!(valid_path_template("/api/2.0/patients/{id}/"));
        assert!(valid_path_template(
            "/api/patient/{puuid}/insurance/$swap-insurance"
        ));
        for bad in [
            "", "api/x", "/a b", "/a\"b", "/a\\b", "/{a", "/a}", "/{a{b}}", "/{}", "/{a b}",
            "/x?y=1", "/é",
        ] {
            assert!(!valid_path_template(bad), "{bad:?}");
        }
        assert_eq!(path_variables("/a/{b}/c/{d}"), ["b", "d"]);
        assert!(plain_url("https://a.example/x?y=1"));
        assert!(!plain_url("https://a.example/\"x"));
        assert!(!plain_url("https://a.example/{v}"));
        assert!(!plain_url(""));
    }

    #[test]
    fn media_types_prefer_json_and_refuse_odd_text() {
        let pick = |m: &[&str]| pick_media(m.iter().copied());
        assert_eq!(
            pick(&["application/fhir+xml", "application/fhir+json"]).as_deref(),
            Some("application/fhir+json")
        );
        assert_eq!(pick(&["text/xml"]).as_deref(), Some("text/xml"));
        assert_eq!(pick(&["application/json\"; x"]), None);
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn type_arrays_and_text_are_normalised() {
        assert_eq!(
            type_name(&serde_json::json!({"type": ["null", "integer"]})).as_deref(),
            Some("integer")
        );
        assert_eq!(
            type_name(&serde_json::json!({"type": "string", "nullable": true})).as_deref(),
            Some("string")
        );
        assert_eq!(scalar(Some("boolean")), SimpleType::Boolean);
        assert_eq!(scalar(Some("object")), SimpleType::String);
        assert_eq!(
            text(Some(&Value::from(" a\u{1b}[31m\tb\r\n "))).as_deref(),
            Some("a[31m\tb")
        );
        assert_eq!(text(Some(&Value::from("  "))), None);
        assert_eq!(
            printable_pointer("/paths/~1a\nb".into()),
            "/paths/~1a\\u{a}b"
        );
    }
}
