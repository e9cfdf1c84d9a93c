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

/// Whether a URL from the document may be used as it is: printable ASCII without quotes,
/// backslashes, angle brackets, backticks, braces or whitespace (RFC 3986 characters plus `%`).
fn plain_url(url: &str) -> bool {
    !url.is_empty()
        && url.len() <= MAX_PATH_LEN
        && url.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(c, '"' | '\\' | '<' | '>' | '`' | '{' | '}' | '|' | '^')
        })
}

/// Why a server URL template could not be expanded: where (relative to the server object) and
/// what.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ServerProblem {
    pointer: String,
    message: String,
}

/// A server URL template with each `{name}` replaced by its variable's `default`, in one pass
/// over the template: inserted text is never scanned again, so a default that names another
/// variable (`{a}` → `{b}{b}` → ...) cannot grow the URL exponentially. Each default must be
/// plain URL text without braces, every variable in the template must be declared, and the
/// result is at most [`MAX_PATH_LEN`] bytes; anything else is a [`ServerProblem`].
pub(crate) fn expand_server_url(
    template: &str,
    vars: Option<&Map<String, Value>>,
) -> Result<String, ServerProblem> {
    let problem = |pointer: String, message: String| ServerProblem { pointer, message };
    if template.len() > MAX_PATH_LEN {
        return Err(problem(
            "/url".to_owned(),
            format!("server URL is longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(problem(
                "/url".to_owned(),
                format!("server URL {} has an unclosed `{{`", shown(template)),
            ));
        };
        let name = &after[..close];
        let var_ptr = format!("/variables/{}/default", escape(name));
        let default = vars
            .and_then(|v| v.get(name))
            .and_then(|v| v.get("default"));
        match default {
            Some(Value::String(d))
                // `plain_url` refuses braces, so no default can smuggle in another variable.
                if d.is_empty() || plain_url(d) =>
            {
                out.push_str(d);
            }
            Some(d) => {
                return Err(problem(
                    var_ptr,
                    format!(
                        "default of server variable {} is not plain URL text (found {})",
                        shown(name),
                        match d {
                            Value::String(s) => shown(s),
                            other => crate::collect::kind(other).to_owned(),
                        }
                    ),
                ));
            }
            None => {
                return Err(problem(
                    "/url".to_owned(),
                    format!("server variable {} has no default", shown(name)),
                ));
            }
        }
        if out.len() > MAX_PATH_LEN {
            return Err(problem(
                "/url".to_owned(),
                format!(
                    "server URL is longer than {MAX_PATH_LEN} bytes once its variables are replaced"
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if out.len() > MAX_PATH_LEN {
        return Err(problem(
            "/url".to_owned(),
            format!(
                "server URL is longer than {MAX_PATH_LEN} bytes once its variables are replaced"
            ),
        ));
    }
    Ok(out)
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

    // ---------------------------------------------------------------------------------------
    // Servers and URLs

    /// The document-level server URL: OpenAPI 3 `servers[0]`, Swagger 2 `schemes`/`host`/`basePath`.
    fn document_server(&mut self) -> Option<String> {
        match self.version {
            SpecVersion::Swagger2 => self.swagger_server(),
            _ => {
                let servers = self.root.get("servers");
                self.server_from(servers, "/servers")
            }
        }
    }

    /// The first entry of an OpenAPI 3 `servers` list, variables replaced by their defaults and
    /// made absolute against the document's own URL when it is relative.
    fn server_from(&mut self, servers: Option<&'a Value>, pointer: &str) -> Option<String> {
        let first = servers?.as_array()?.first()?;
        let Some(url) = first.get("url").and_then(Value::as_str) else {
            self.warn(format!("{pointer}/0"), "server without a `url`; ignored");
            return None;
        };
        let vars = match first.get("variables") {
            Some(Value::Object(vars)) => Some(vars),
            _ => None,
        };
        let url = match expand_server_url(url, vars) {
            Ok(url) => url,
            Err(problem) => {
                self.warn(
                    format!("{pointer}/0{}", problem.pointer),
                    format!("{}; server ignored", problem.message),
                );
                return None;
            }
        };
        if !plain_url(&url) {
            self.warn(
                format!("{pointer}/0/url"),
                format!("server URL {} is not usable; ignored", shown(&url)),
            );
            return None;
        }
        Some(self.absolute(&url, &format!("{pointer}/0/url")))
    }

    fn swagger_server(&mut self) -> Option<String> {
        let base_path = self
            .root
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("");
        let base_path = if base_path.is_empty() || base_path.starts_with('/') {
            base_path.to_owned()
        } else {
            format!("/{base_path}")
        };
        let Some(host) = self.root.get("host").and_then(Value::as_str) else {
            return (!base_path.is_empty()).then(|| self.absolute(&base_path, "/basePath"));
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            self.warn(
                "/host",
                format!("host {} is not a host name; ignored", shown(host)),
            );
            return None;
        }
        let schemes: Vec<&str> = self
            .root
            .get("schemes")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let scheme = if schemes.contains(&"https") || schemes.is_empty() {
            "https"
        } else if schemes.contains(&"http") {
            "http"
        } else {
            "https"
        };
        Some(format!("{scheme}://{host}{base_path}"))
    }

    /// `url` made absolute against the document's own URL when it is relative; a relative URL
    /// that cannot be made absolute is kept with a warning.
    fn absolute(&mut self, url: &str, pointer: &str) -> String {
        if url::Url::parse(url).is_ok() {
            return url.to_owned();
        }
        if let Some(joined) = self
            .options
            .source_url
            .and_then(|s| url::Url::parse(s).ok())
            .and_then(|s| s.join(url).ok())
        {
            return joined.to_string();
        }
        self.warn(
            pointer,
            format!(
                "relative server URL {}: kept relative (give the document's own URL to resolve it)",
                shown(url)
            ),
        );
        url.to_owned()
    }

    /// Resolves `reference` (a token or authorization URL) against the server URL.
    fn against_server(&self, reference: &str) -> String {
        resolve_reference(self.server_url.as_deref(), reference)
    }

    // ---------------------------------------------------------------------------------------
    // Paths

    fn read_path(&mut self, path: &'a str, item: &'a Value, base: Option<&str>) {
        let pointer = format!("/paths/{}", escape(path));
        let Some((item, item_ptr)) = self.deref(item, &pointer) else {
            return;
        };
        let Some(item_map) = item.as_object() else {
            self.warn(pointer, "path item is not an object; skipped");
            return;
        };
        let mut fhir_path = base.and_then(|b| {
            let segs = fhir::segments(path);
            let base_segs = fhir::segments(b);
            segs.starts_with(&base_segs)
                .then(|| fhir::classify(&segs[base_segs.len()..]))
                .flatten()
        });
        if fhir_path.is_none() && self.instance_paths {
            // `/Observation{id}`: the slash is missing, but the document's other instance paths
            // say what was meant. Read as `/Observation/{id}` rather than as a generic route
            // that would request `/Observation123`.
            let repaired = base.and_then(|b| {
                let segs = fhir::segments(path);
                let base_segs = fhir::segments(b);
                let rel = segs
                    .get(base_segs.len()..)
                    .filter(|_| segs.starts_with(&base_segs))?;
                fhir::classify(&fhir::repair_missing_slash(rel)?)
            });
            if let Some(fp) = repaired {
                self.warn(
                    pointer.clone(),
                    format!(
                        "path {} lacks the slash between resource type and id; read as the FHIR \
                         path the document's other instance paths use",
                        shown(path)
                    ),
                );
                fhir_path = Some(fp);
            }
        }
        for (key, op) in item_map {
            let Some(method) = HttpMethod::from_name(key) else {
                if !matches!(
                    key.as_str(),
                    "parameters" | "summary" | "description" | "servers" | "$ref"
                ) && !key.starts_with("x-")
                {
                    self.warn(
                        format!("{item_ptr}/{}", escape(key)),
                        format!("unknown path item key {}; ignored", shown(key)),
                    );
                }
                continue;
            };
            if key != &key.to_ascii_lowercase() {
                self.warn(
                    format!("{item_ptr}/{}", escape(key)),
                    format!("method {} should be lower case; read anyway", shown(key)),
                );
            }
            let op_ptr = format!("{item_ptr}/{}", escape(key));
            let Some(op) = op.as_object() else {
                self.warn(op_ptr, "operation is not an object; skipped");
                continue;
            };
            self.check_requirements(op.get("security"), &format!("{op_ptr}/security"));
            let params = self.params(item_map, &item_ptr, op, &op_ptr);
            if let Some(fp) = &fhir_path {
                self.read_fhir(fp, path, method, op, &op_ptr, &params);
            } else {
                if base.is_some_and(|b| {
                    let base_segs = fhir::segments(b);
                    fhir::segments(path).starts_with(&base_segs) && !base_segs.is_empty()
                }) {
                    self.warn(
                        op_ptr.clone(),
                        "under the FHIR base but not a FHIR interaction; read as a generic operation",
                    );
                }
                self.read_generic(path, method, item_map, &item_ptr, op, &op_ptr, params);
            }
        }
    }

    /// Path-level parameters merged with the operation's (the operation's win by name and
    /// location), `$ref`s followed, invalid ones warned about and dropped.
    fn params(
        &mut self,
        item: &'a Map<String, Value>,
        item_ptr: &str,
        op: &'a Map<String, Value>,
        op_ptr: &str,
    ) -> Vec<RawParam<'a>> {
        let mut out: Vec<RawParam<'a>> = Vec::new();
        // (name, location) -> index in `out`: the operation's declaration replaces the path's.
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        for (list, ptr) in [
            (item.get("parameters"), item_ptr),
            (op.get("parameters"), op_ptr),
        ] {
            let Some(list) = list else { continue };
            let Some(list) = list.as_array() else {
                self.warn(
                    format!("{ptr}/parameters"),
                    "`parameters` is not a list; ignored",
                );
                continue;
            };
            if list.len() > MAX_PARAMS {
                self.warn(
                    format!("{ptr}/parameters"),
                    format!(
                        "{} parameters; only the first {MAX_PARAMS} are read",
                        list.len()
                    ),
                );
            }
            for (i, p) in list.iter().take(MAX_PARAMS).enumerate() {
                let p_ptr = format!("{ptr}/parameters/{i}");
                let Some((p, _)) = self.deref(p, &p_ptr) else {
                    continue;
                };
                let (Some(name), Some(location)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    self.warn(p_ptr, "parameter without `name` or `in`; skipped");
                    continue;
                };
                let schema = match self.version {
                    SpecVersion::Swagger2 => Some(p),
                    // A parameter with `content` instead of `schema` is a serialized value: it
                    // has no schema here and reads as a string.
                    _ => p.get("schema"),
                };
                let raw = RawParam {
                    name: name.to_owned(),
                    location: location.to_owned(),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    description: self.docs(p.get("description")),
                    schema,
                    style: p
                        .get("style")
                        .or_else(|| p.get("collectionFormat"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    explode: p.get("explode").and_then(Value::as_bool),
                    pointer: p_ptr,
                };
                match index.get(&(raw.name.clone(), raw.location.clone())) {
                    Some(&i) => out[i] = raw,
                    None => {
                        index.insert((raw.name.clone(), raw.location.clone()), out.len());
                        out.push(raw);
                    }
                }
            }
        }
        out
    }

    // ---------------------------------------------------------------------------------------
    // FHIR paths

    fn read_fhir(
        &mut self,
        fp: &FhirPath<'a>,
        path: &str,
        method: HttpMethod,
        op: &'a Map<String, Value>,
        op_ptr: &str,
        params: &[RawParam<'a>],
    ) {
        use HttpMethod::{Delete, Get, Patch, Post, Put};
        use ResourceInteraction as I;
        self.collect_formats(method, op, op_ptr);
        let docs = self
            .docs(op.get("summary"))
            .or_else(|| self.docs(op.get("description")));
        let unexpected = |r: &mut Self| {
            r.warn(
                op_ptr.to_owned(),
                format!(
                    "{} {} is not a FHIR interaction; ignored",
                    method.as_str(),
                    shown(path)
                ),
            );
        };
        match (fp, method) {
            (FhirPath::Root, Post) => {
                let words = [
                    op.get("summary"),
                    op.get("description"),
                    op.get("operationId"),
                ]
                .into_iter()
                .filter_map(|v| v.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
                let batch = words.contains("batch");
                let transaction = words.contains("transaction");
                if batch || !transaction {
                    self.system.interactions.push(SystemInteraction::Batch);
                }
                if transaction || !batch {
                    self.system
                        .interactions
                        .push(SystemInteraction::Transaction);
                }
                if !batch && !transaction {
                    self.warn(
                        op_ptr.to_owned(),
                        "POST [base] does not say batch or transaction; both recorded",
                    );
                }
            }
            (FhirPath::Root | FhirPath::SystemSearch, Get | Post) => {
                self.system
                    .interactions
                    .push(SystemInteraction::SearchSystem);
            }
            (FhirPath::SystemHistory, Get) => {
                self.system
                    .interactions
                    .push(SystemInteraction::HistorySystem);
            }
            (FhirPath::Metadata, Get) => {}
            (FhirPath::SmartConfiguration, Get) => {
                if self.smart_configuration_url.is_none() {
                    self.smart_configuration_url =
                        Some(self.against_server(path.trim_start_matches('/')));
                }
            }
            (FhirPath::SystemOperation(name), _) => {
                push_operation(&mut self.system_ops, name, docs);
            }
            (FhirPath::Type(t), Get) | (FhirPath::TypeSearch(t), Get | Post) => {
                let acc = self.resource(t, op_ptr);
                push_unique(&mut acc.interactions, I::SearchType);
                let mut names: Vec<(String, Option<String>, String)> = params
                    .iter()
                    .filter(|p| p.location == "query" || p.location == "formData")
                    .map(|p| (p.name.clone(), p.description.clone(), p.pointer.clone()))
                    .collect();
                if method == Post {
                    names.extend(self.form_fields(op, op_ptr));
                }
                for (name, doc, ptr) in names {
                    if FORMAT_PARAMETERS.contains(&name.as_str()) {
                        continue;
                    }
                    if let Some((base, modifier)) = split_modifier(&name) {
                        let pending = PendingModifier {
                            base: base.to_owned(),
                            modifier: modifier.to_owned(),
                            pointer: ptr,
                        };
                        self.resource(t, op_ptr).modifiers.push(pending);
                        continue;
                    }
                    if !crate::capability::valid_param_name(&name) {
                        self.warn(
                            ptr,
                            format!(
                                "{} is not a valid search parameter name; skipped",
                                shown(&name)
                            ),
                        );
                        continue;
                    }
                    if self.params_kept >= MAX_TOTAL_PARAMS {
                        continue;
                    }
                    let acc = self.resource(t, op_ptr);
                    if acc.params.len() < MAX_ITEMS && acc.param_names.insert(name.clone()) {
                        acc.params.push((name, doc, ptr));
                        self.params_kept += 1;
                    }
                }
            }
            (FhirPath::Type(t), Post) => {
                let conditional = params.iter().any(|p| {
                    p.location == "header" && p.name.eq_ignore_ascii_case("If-None-Exist")
                });
                let acc = self.resource(t, op_ptr);
                push_unique(&mut acc.interactions, I::Create);
                acc.conditional_create |= conditional;
            }
            (FhirPath::Type(t), Put) => self.resource(t, op_ptr).conditional_update = true,
            (FhirPath::Type(t), Delete) => self.resource(t, op_ptr).conditional_delete = true,
            (FhirPath::TypeHistory(t), Get) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::HistoryType)
            }
            (FhirPath::Instance(t), Get) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Read)
            }
            (FhirPath::Instance(t), Put) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Update)
            }
            (FhirPath::Instance(t), Patch) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Patch)
            }
            (FhirPath::Instance(t), Delete) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Delete)
            }
            (FhirPath::InstanceHistory(t), Get) => {
                push_unique(
                    &mut self.resource(t, op_ptr).interactions,
                    I::HistoryInstance,
                );
            }
            (FhirPath::Version(t), Get) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Vread)
            }
            (FhirPath::TypeOperation(t, name) | FhirPath::InstanceOperation(t, name), _) => {
                let acc = self.resource(t, op_ptr);
                push_operation(&mut acc.operations, name, docs);
            }
            _ => unexpected(self),
        }
    }

    /// The accumulator for resource type `t`, warning once when it is not an R4 type.
    fn resource(&mut self, t: &str, pointer: &str) -> &mut ResourceAcc {
        if !self.resources.contains_key(t) && !fhir::is_r4_type(t) {
            self.warn(
                pointer,
                format!(
                    "{} is not an R4 resource type; read as one anyway",
                    shown(t)
                ),
            );
        }
        self.resources.entry(t.to_owned()).or_default()
    }

    /// The field names of a form-encoded request body (`POST [type]/_search`).
    fn form_fields(
        &mut self,
        op: &'a Map<String, Value>,
        op_ptr: &str,
    ) -> Vec<(String, Option<String>, String)> {
        let Some(body) = op.get("requestBody") else {
            return Vec::new();
        };
        let body_ptr = format!("{op_ptr}/requestBody");
        let Some((body, body_ptr)) = self.deref(body, &body_ptr) else {
            return Vec::new();
        };
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (media, entry) in content {
            if !media.starts_with("application/x-www-form-urlencoded")
                && !media.starts_with("multipart/form-data")
            {
                continue;
            }
            let schema_ptr = format!("{body_ptr}/content/{}/schema", escape(media));
            let Some(schema) = entry.get("schema") else {
                continue;
            };
            let Some((schema, schema_ptr)) = self.deref(schema, &schema_ptr) else {
                continue;
            };
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    out.push((
                        name.clone(),
                        self.docs(prop.get("description")),
                        format!("{schema_ptr}/properties/{}", escape(name)),
                    ));
                }
            }
        }
        out
    }

    /// Media types of FHIR requests and responses become `formats` (`patch_formats` for PATCH
    /// request bodies).
    fn collect_formats(&mut self, method: HttpMethod, op: &'a Map<String, Value>, op_ptr: &str) {
        let mut found: Vec<(String, bool)> = Vec::new();
        match self.version {
            SpecVersion::Swagger2 => {
                for key in ["produces", "consumes"] {
                    let list = op.get(key).or_else(|| self.root.get(key));
                    for m in list
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .take(MAX_PER_OPERATION)
                        .filter_map(Value::as_str)
                    {
                        found.push((
                            m.to_owned(),
                            key == "consumes" && method == HttpMethod::Patch,
                        ));
                    }
                }
            }
            _ => {
                if let Some(body) = op.get("requestBody") {
                    if let Some((body, _)) = self.deref(body, &format!("{op_ptr}/requestBody")) {
                        for m in body
                            .get("content")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flat_map(|c| c.keys().take(MAX_PER_OPERATION))
                        {
                            found.push((m.clone(), method == HttpMethod::Patch));
                        }
                    }
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    for (code, resp) in responses.iter().take(MAX_PER_OPERATION) {
                        if !code.starts_with('2') {
                            continue;
                        }
                        let ptr = format!("{op_ptr}/responses/{}", escape(code));
                        if let Some((resp, _)) = self.deref(resp, &ptr) {
                            for m in resp
                                .get("content")
                                .and_then(Value::as_object)
                                .into_iter()
                                .flat_map(|c| c.keys().take(MAX_PER_OPERATION))
                            {
                                found.push((m.clone(), false));
                            }
                        }
                    }
                }
            }
        }
        for (media, patch) in found {
            if !valid_media_type(&media) {
                continue;
            }
            if patch {
                self.patch_formats.push(media);
            } else if media != "application/x-www-form-urlencoded"
                && !media.starts_with("multipart/")
            {
                self.formats.push(media);
            }
        }
    }

    /// Resources with their interactions in canonical order and typed, named search parameters.
    fn finish_resources(&mut self) -> Vec<Resource> {
        let accs = std::mem::take(&mut self.resources);
        let mut out = Vec::new();
        for (t, mut acc) in accs {
            let mut r = Resource::new(t.clone());
            acc.interactions.sort();
            r.interactions = acc.interactions;
            if acc.conditional_update {
                r.conditional_update = Some(true);
            }
            if acc.conditional_delete {
                // OpenAPI cannot say whether several matches may be deleted; one is the safe claim.
                r.conditional_delete = Some(ConditionalDelete::Single);
            }
            if acc.conditional_create {
                r.conditional_create = Some(true);
            }
            let mut params: Vec<SearchParam> = Vec::new();
            for (name, doc, ptr) in acc.params {
                params.push(self.search_param(&t, name, doc, &ptr));
            }
            let mut warnings = Vec::new();
            fold_modifiers(&mut params, acc.modifiers, |p, m| warnings.push((p, m)));
            for (p, m) in warnings {
                self.warn(p, m);
            }
            r.search_params = params;
            r.operations = acc.operations.into_vec();
            out.push(r);
        }
        out
    }

    /// Types one search parameter: the CapabilityStatement given alongside, else the FHIR core
    /// definition for (type, name), else the common-parameter table, else `string`.
    fn search_param(
        &mut self,
        t: &str,
        name: String,
        doc: Option<String>,
        ptr: &str,
    ) -> SearchParam {
        let declared = self
            .options
            .capability
            .and_then(|c| c.resource(t))
            .and_then(|r| r.search_param(&name))
            .or_else(|| {
                self.options
                    .capability
                    .and_then(|c| c.system.search_params.iter().find(|p| p.name == name))
            });
        let core = crate::core_params::lookup(t, &name);
        let mut from_core = false;
        let (param_type, mut definition, mut documentation) = if let Some(d) = declared {
            (
                d.param_type.clone(),
                d.definition.clone(),
                doc.or_else(|| d.documentation.clone()),
            )
        } else if let Some(c) = core {
            (SearchParamType::from(c.param_type.clone()), None, doc)
        } else if let Some((_, code)) = COMMON_PARAMETER_TYPES.iter().find(|(n, _)| *n == name) {
            (SearchParamType::from((*code).to_owned()), None, doc)
        } else {
            self.warn(
                ptr.to_owned(),
                format!(
                    "search parameter {} of {t} has no CapabilityStatement or FHIR core definition; typed string",
                    shown(&name)
                ),
            );
            (SearchParamType::String, None, doc)
        };
        if let Some(c) = core.filter(|c| c.param_type == param_type.code()) {
            if definition.is_none() {
                definition = Some(c.url.clone());
                from_core = true;
            }
            if documentation.is_none() && !c.description.is_empty() {
                documentation = Some(c.description.clone());
                from_core = true;
            }
        }
        SearchParam {
            range: SearchParam::range_applies(&name, &param_type),
            rust_name: String::new(),
            name,
            param_type,
            documentation,
            definition,
            from_core,
            modifiers: Vec::new(),
        }
    }

    fn fhir_version(
        &mut self,
        base: Option<&str>,
        title: Option<&str>,
    ) -> (String, Option<FhirRelease>) {
        if let Some(c) = self.options.capability {
            return (c.fhir_version.clone(), c.fhir_release);
        }
        let hints = base.unwrap_or_default().to_ascii_lowercase()
            + " "
            + &title.unwrap_or_default().to_ascii_lowercase();
        let words: Vec<&str> = hints.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        for (word, version) in [
            ("dstu2", "1.0.2"),
            ("stu3", "3.0.2"),
            ("r4b", "4.3.0"),
            ("r4", "4.0.1"),
            ("r5", "5.0.0"),
        ] {
            if words.contains(&word) {
                return (version.to_owned(), FhirRelease::from_version(version));
            }
        }
        if self.resources.is_empty()
            && self.system_ops.is_empty()
            && self.system.interactions.is_empty()
        {
            return (String::new(), None);
        }
        self.warn(
            "",
            "the document does not say which FHIR version it serves; R4 (4.0.1) assumed",
        );
        ("4.0.1".to_owned(), Some(FhirRelease::R4))
    }

    // ---------------------------------------------------------------------------------------
    // Generic operations

    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the pieces come from the walk"
    )]
    fn read_generic(
        &mut self,
        path: &str,
        method: HttpMethod,
        item: &'a Map<String, Value>,
        item_ptr: &str,
        op: &'a Map<String, Value>,
        op_ptr: &str,
        params: Vec<RawParam<'a>>,
    ) {
        if !valid_path_template(path) {
            self.warn(
                op_ptr.to_owned(),
                format!(
                    "path {} cannot be used as a URL template; skipped",
                    shown(path)
                ),
            );
            return;
        }
        if self.generic.len() >= MAX_ITEMS {
            self.warn(
                op_ptr.to_owned(),
                format!("more than {MAX_ITEMS} generic operations; skipped"),
            );
            return;
        }
        if self.params_kept + params.len() > MAX_TOTAL_PARAMS {
            self.warn(
                op_ptr.to_owned(),
                format!(
                    "more than {MAX_TOTAL_PARAMS} parameters in the document; operation skipped"
                ),
            );
            return;
        }
        self.params_kept += params.len();
        let server_url = match self.version {
            SpecVersion::Swagger2 => self.server_url.clone(),
            _ => {
                let own = op
                    .get("servers")
                    .map(|s| (s, format!("{op_ptr}/servers")))
                    .or_else(|| {
                        item.get("servers")
                            .map(|s| (s, format!("{item_ptr}/servers")))
                    });
                match own {
                    Some((servers, ptr)) => self
                        .server_from(Some(servers), &ptr)
                        .or_else(|| self.server_url.clone()),
                    None => self.server_url.clone(),
                }
            }
        };
        // Kept for documentation, minus control characters; the Rust name is sanitized apart.
        let operation_id = self.docs(op.get("operationId"));
        let mut out_params: Vec<GenericParam> = Vec::new();
        let mut request_body = None;
        let mut form = false;
        for p in &params {
            let location = match p.location.as_str() {
                "path" => ParamLocation::Path,
                "query" => ParamLocation::Query,
                "header" => ParamLocation::Header,
                "body" => {
                    request_body = Some(GenericBody {
                        media_type: self.swagger_media(op, "consumes"),
                        required: p.required,
                    });
                    continue;
                }
                "formData" => {
                    form = true;
                    continue;
                }
                other => {
                    self.warn(
                        p.pointer.clone(),
                        format!(
                            "{} parameter {} is not supported; skipped",
                            shown(other),
                            shown(&p.name)
                        ),
                    );
                    continue;
                }
            };
            let valid = match location {
                ParamLocation::Header => valid_header_name(&p.name),
                _ => valid_query_name(&p.name),
            };
            if !valid {
                self.warn(
                    p.pointer.clone(),
                    format!("{} is not a usable parameter name; skipped", shown(&p.name)),
                );
                continue;
            }
            if location == ParamLocation::Header
                && [
                    "authorization",
                    "accept",
                    "content-type",
                    "content-length",
                    "host",
                ]
                .contains(&p.name.to_ascii_lowercase().as_str())
            {
                // The runtime sets these itself (auth, JSON), so a parameter would fight it.
                continue;
            }
            let (value_type, list) = self.simple_type(p);
            out_params.push(GenericParam {
                name: p.name.clone(),
                rust_name: String::new(),
                location,
                required: p.required || location == ParamLocation::Path,
                value_type,
                list,
                documentation: p.description.clone(),
            });
        }
        if form && request_body.is_none() {
            let consumes = self.swagger_media(op, "consumes");
            let media = if consumes.starts_with("multipart/") {
                consumes
            } else {
                "application/x-www-form-urlencoded".to_owned()
            };
            request_body = Some(GenericBody {
                media_type: media,
                required: true,
            });
        }
        // Path parameters: exactly the template's variables, in template order.
        let vars = path_variables(path);
        let mut ordered: Vec<GenericParam> = Vec::new();
        // Declared path parameters by name (a map: a position search per variable was
        // quadratic for hostile paths with hundreds of variables).
        let mut declared: HashMap<String, (usize, GenericParam)> = HashMap::new();
        let mut others: Vec<(usize, GenericParam)> = Vec::new();
        for (i, p) in out_params.into_iter().enumerate() {
            if p.location == ParamLocation::Path && !declared.contains_key(&p.name) {
                declared.insert(p.name.clone(), (i, p));
            } else {
                others.push((i, p));
            }
        }
        for var in &vars {
            match declared.remove(*var) {
                Some((_, p)) => ordered.push(p),
                None => {
                    self.warn(
                        op_ptr.to_owned(),
                        format!(
                            "path variable {} is not declared; read as a required string",
                            shown(var)
                        ),
                    );
                    ordered.push(GenericParam {
                        name: (*var).to_owned(),
                        rust_name: String::new(),
                        location: ParamLocation::Path,
                        required: true,
                        value_type: SimpleType::String,
                        list: None,
                        documentation: None,
                    });
                }
            }
        }
        let mut rest: Vec<(usize, GenericParam)> = declared.into_values().chain(others).collect();
        // Back to declaration order (the map has none).
        rest.sort_by_key(|(i, _)| *i);
        for (_, p) in rest {
            if p.location == ParamLocation::Path {
                self.warn(
                    op_ptr.to_owned(),
                    format!(
                        "path parameter {} is not in the path; skipped",
                        shown(&p.name)
                    ),
                );
            } else {
                ordered.push(p);
            }
        }
        if self.version != SpecVersion::Swagger2 {
            if let Some(body) = op.get("requestBody") {
                request_body = self.request_body(body, &format!("{op_ptr}/requestBody"));
            }
        }
        let response_body = self.response_body(op, op_ptr);
        let op_out = GenericOperation {
            method,
            path: path.to_owned(),
            server_url,
            rust_name: String::new(),
            operation_id,
            summary: self.docs(op.get("summary")),
            documentation: self.docs(op.get("description")),
            params: ordered,
            request_body,
            response_body,
            deprecated: op
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        self.generic.push(GenericAcc {
            op: op_out,
            pointer: op_ptr.to_owned(),
        });
    }

    /// A Swagger 2 media type from the operation's or the document's `consumes`/`produces`,
    /// a JSON one preferred; `application/json` when none is given.
    fn swagger_media(&self, op: &Map<String, Value>, key: &str) -> String {
        let list: Vec<&str> = op
            .get(key)
            .or_else(|| self.root.get(key))
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .take(MAX_PER_OPERATION)
                    .filter_map(Value::as_str)
                    .collect()
            })
            .unwrap_or_default();
        pick_media(list.iter().copied()).unwrap_or_else(|| "application/json".to_owned())
    }

    fn request_body(&mut self, body: &'a Value, ptr: &str) -> Option<GenericBody> {
        let (body, _) = self.deref(body, ptr)?;
        let content = body.get("content")?.as_object()?;
        let media = pick_media(content.keys().take(MAX_PER_OPERATION).map(String::as_str))?;
        Some(GenericBody {
            media_type: media,
            required: body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The body of the first 2xx response (lowest code first, `2XX` after the numbered ones).
    fn response_body(&mut self, op: &'a Map<String, Value>, op_ptr: &str) -> Option<GenericBody> {
        let responses = op.get("responses")?.as_object()?;
        let mut codes: Vec<&String> = responses
            .keys()
            .take(MAX_PER_OPERATION)
            .filter(|c| c.starts_with('2'))
            .collect();
        codes.sort();
        for code in codes {
            let ptr = format!("{op_ptr}/responses/{}", escape(code));
            let Some((resp, _)) = self.deref(&responses[code.as_str()], &ptr) else {
                continue;
            };
            let media = match self.version {
                SpecVersion::Swagger2 => resp
                    .get("schema")
                    .map(|_| self.swagger_media(op, "produces")),
                _ => resp
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| pick_media(c.keys().map(String::as_str))),
            };
            if let Some(media_type) = media {
                return Some(GenericBody {
                    media_type,
                    required: true,
                });
            }
            return None;
        }
        None
    }

    /// The simple type of a parameter, and its list style when it is an array.
    fn simple_type(&mut self, p: &RawParam<'a>) -> (SimpleType, Option<ListStyle>) {
        let Some(schema) = p.schema else {
            return (SimpleType::String, None);
        };
        let Some((schema, _)) = self.deref(schema, &format!("{}/schema", p.pointer)) else {
            return (SimpleType::String, None);
        };
        let ty = type_name(schema);
        if ty.as_deref() != Some("array") {
            return (scalar(ty.as_deref()), None);
        }
        let items = schema.get("items").and_then(|i| {
            self.deref(i, &format!("{}/items", p.pointer))
                .map(|(v, _)| v)
        });
        let item_type = scalar(items.and_then(type_name).as_deref());
        let list = match (self.version, p.style.as_deref(), p.explode) {
            (SpecVersion::Swagger2, Some("multi"), _) => ListStyle::Repeated,
            (SpecVersion::Swagger2, None | Some("csv"), _) => ListStyle::CommaSeparated,
            (SpecVersion::Swagger2, Some(other), _) => {
                self.warn(
                    p.pointer.clone(),
                    format!(
                        "collectionFormat {} is not supported; values are comma-separated",
                        shown(other)
                    ),
                );
                ListStyle::CommaSeparated
            }
            (_, None | Some("form"), explode) => {
                if explode.unwrap_or(true) {
                    ListStyle::Repeated
                } else {
                    ListStyle::CommaSeparated
                }
            }
            (_, Some("simple"), _) => ListStyle::CommaSeparated,
            (_, Some(other), _) => {
                self.warn(
                    p.pointer.clone(),
                    format!(
                        "parameter style {} is not supported; values are comma-separated",
                        shown(other)
                    ),
                );
                ListStyle::CommaSeparated
            }
        };
        (item_type, Some(list))
    }

    /// The generic operations in document order, warning about duplicate `operationId`s (the
    /// model's naming pass numbers them).
    fn finish_generic(&mut self) -> Vec<GenericOperation> {
        let accs = std::mem::take(&mut self.generic);
        // A hash set: `Vec::contains` per operation was quadratic in hostile documents.
        let mut seen: HashSet<&str> = HashSet::new();
        for acc in &accs {
            if let Some(id) = acc.op.operation_id.as_deref() {
                if !seen.insert(id) {
                    self.warn(
                        acc.pointer.clone(),
                        format!(
                            "duplicate operationId {}; the method gets a numbered name",
                            shown(id)
                        ),
                    );
                }
            }
        }
        accs.into_iter().map(|acc| acc.op).collect()
    }

    // ---------------------------------------------------------------------------------------
    // Security

    fn read_security(&mut self) -> Security {
        let mut security = Security::default();
        let (schemes, ptr) = match self.version {
            SpecVersion::Swagger2 => (
                self.root.get("securityDefinitions"),
                "/securityDefinitions".to_owned(),
            ),
            _ => (
                self.root
                    .get("components")
                    .and_then(|c| c.get("securitySchemes")),
                "/components/securitySchemes".to_owned(),
            ),
        };
        let Some(schemes) = schemes.and_then(Value::as_object) else {
            return security;
        };
        let mut descriptions = Vec::new();
        if schemes.len() > MAX_ITEMS {
            self.warn(
                ptr.clone(),
                format!(
                    "{} security schemes; only the first {MAX_ITEMS} are read",
                    schemes.len()
                ),
            );
        }
        for (name, scheme) in schemes.iter().take(MAX_ITEMS) {
            let s_ptr = format!("{ptr}/{}", escape(name));
            let Some((scheme, _)) = self.deref(scheme, &s_ptr) else {
                continue;
            };
            if let Some(d) = self.docs(scheme.get("description")) {
                descriptions.push(d);
            }
            let kind = scheme
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match kind {
                "basic" => push_unique(&mut security.services, "Basic".to_owned()),
                "http" => match scheme
                    .get("scheme")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("basic") => push_unique(&mut security.services, "Basic".to_owned()),
                    Some("bearer") => push_unique(&mut security.services, "Bearer".to_owned()),
                    other => self.warn(
                        s_ptr,
                        format!(
                            "HTTP auth scheme {} is not supported; ignored",
                            shown(other.unwrap_or("(none)"))
                        ),
                    ),
                },
                "oauth2" => {
                    push_unique(&mut security.services, "OAuth".to_owned());
                    self.oauth2(scheme, &s_ptr, &mut security);
                }
                "openIdConnect" => {
                    push_unique(&mut security.services, "OAuth".to_owned());
                    match scheme.get("openIdConnectUrl").and_then(Value::as_str) {
                        Some(url) if !plain_url(url) => {
                            self.warn(
                                format!("{s_ptr}/openIdConnectUrl"),
                                format!("{} is not a plain URL; skipped", shown(url)),
                            );
                        }
                        Some(url) => {
                            let url = self.against_server(url);
                            if url
                                .trim_end_matches('/')
                                .ends_with("/.well-known/smart-configuration")
                            {
                                push_unique(&mut security.services, "SMART-on-FHIR".to_owned());
                            }
                            self.smart_configuration_url = Some(url);
                        }
                        None => self.warn(s_ptr, "openIdConnect scheme without `openIdConnectUrl`"),
                    }
                }
                "apiKey" => self.warn(
                    s_ptr,
                    "apiKey security is not supported by the runtime; ignored",
                ),
                other => self.warn(
                    s_ptr,
                    format!(
                        "security scheme type {} is not supported; ignored",
                        shown(other)
                    ),
                ),
            }
        }
        if !descriptions.is_empty() {
            security.description = Some(descriptions.join("\n\n"));
        }
        security
    }

    fn oauth2(&mut self, scheme: &'a Value, ptr: &str, security: &mut Security) {
        let mut flows: Vec<(&str, &Value, String)> = Vec::new();
        match self.version {
            SpecVersion::Swagger2 => {
                let flow = scheme
                    .get("flow")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let grant = match flow {
                    "application" => "client_credentials",
                    "accessCode" => "authorization_code",
                    "implicit" => "implicit",
                    "password" => "password",
                    other => {
                        self.warn(
                            format!("{ptr}/flow"),
                            format!("OAuth2 flow {} is unknown; ignored", shown(other)),
                        );
                        return;
                    }
                };
                flows.push((grant, scheme, ptr.to_owned()));
            }
            _ => {
                let Some(map) = scheme.get("flows").and_then(Value::as_object) else {
                    self.warn(ptr.to_owned(), "oauth2 scheme without `flows`");
                    return;
                };
                for (flow, body) in map {
                    let grant = match flow.as_str() {
                        "clientCredentials" => "client_credentials",
                        "authorizationCode" => "authorization_code",
                        "implicit" => "implicit",
                        "password" => "password",
                        other => {
                            self.warn(
                                format!("{ptr}/flows/{}", escape(other)),
                                format!("OAuth2 flow {} is unknown; ignored", shown(other)),
                            );
                            continue;
                        }
                    };
                    flows.push((grant, body, format!("{ptr}/flows/{}", escape(flow))));
                }
            }
        }
        for (grant, body, f_ptr) in flows {
            push_unique(&mut security.grant_types, grant.to_owned());
            for (key, slot) in [("tokenUrl", 0), ("authorizationUrl", 1)] {
                let Some(raw) = body.get(key).and_then(Value::as_str) else {
                    continue;
                };
                if !plain_url(raw) {
                    self.warn(
                        format!("{f_ptr}/{key}"),
                        format!("{key} {} is not a plain URL; skipped", shown(raw)),
                    );
                    continue;
                }
                let url = self.against_server(raw);
                if !crate::capability::valid_endpoint(&url) {
                    self.warn(
                        format!("{f_ptr}/{key}"),
                        format!(
                            "{} is not an absolute http(s) URL after resolving; kept as written",
                            shown(&url)
                        ),
                    );
                }
                let target = if slot == 0 {
                    &mut security.oauth.token
                } else {
                    &mut security.oauth.authorize
                };
                match target {
                    Some(existing) if *existing != url => self.warn(
                        format!("{f_ptr}/{key}"),
                        format!(
                            "a second {key} {} differs from the first; the first is kept",
                            shown(&url)
                        ),
                    ),
                    Some(_) => {}
                    None => *target = Some(url),
                }
            }
            if let Some(scopes) = body.get("scopes").and_then(Value::as_object) {
                // A hash index, not `Vec::contains` per scope (quadratic for hostile lists).
                let mut kept = UniqueList::from_vec(std::mem::take(&mut security.scopes));
                for scope in scopes.keys() {
                    if scope.len() <= 256 && scope.chars().all(|c| c.is_ascii_graphic()) {
                        if kept.push(scope.clone()) == Pushed::Full {
                            self.warn(
                                format!("{f_ptr}/scopes"),
                                format!("more than {MAX_ITEMS} scopes; the rest are ignored"),
                            );
                            break;
                        }
                    } else {
                        self.warn(
                            format!("{f_ptr}/scopes"),
                            format!("scope {} is not a valid scope token; skipped", shown(scope)),
                        );
                    }
                }
                security.scopes = kept.into_vec();
            }
        }
    }

    /// Checks a `security` requirement list: a list of objects mapping scheme names to scope
    /// lists. A map where a list belongs (OpenEMR writes `openemr_auth: {}` for `[]`) is read as
    /// the list it stands for and reported once for the whole document.
    fn check_requirements(&mut self, value: Option<&Value>, ptr: &str) {
        let Some(value) = value else { return };
        let Some(list) = value.as_array() else {
            self.warn(
                ptr.to_owned(),
                "`security` is not a list of requirements; ignored",
            );
            return;
        };
        for (i, requirement) in list.iter().enumerate() {
            let Some(requirement) = requirement.as_object() else {
                self.warn(
                    format!("{ptr}/{i}"),
                    "security requirement is not an object; ignored",
                );
                continue;
            };
            for (scheme, scopes) in requirement {
                let s_ptr = format!("{ptr}/{i}/{}", escape(scheme));
                match scopes {
                    Value::Array(_) => {}
                    Value::Object(_) => self.security_maps.push(s_ptr),
                    _ => self.warn(s_ptr, "scopes are not a list; ignored"),
                }
            }
        }
    }
}

/// `reference` resolved against `base` (RFC 3986). A relative base is resolved against a
/// placeholder origin and the origin removed again, so `/oauth2/token` against `/apis/default/`
/// stays `/oauth2/token` and `token` becomes `/apis/default/token`.
pub(crate) fn resolve_reference(base: Option<&str>, reference: &str) -> String {
    if url::Url::parse(reference).is_ok() {
        return reference.to_owned();
    }
    let Some(base) = base else {
        return reference.to_owned();
    };
    if let Ok(abs) = url::Url::parse(base) {
        return abs
            .join(reference)
            .map_or_else(|_| reference.to_owned(), |u| u.to_string());
    }
    const PLACEHOLDER: &str = "http://relative.invalid";
    url::Url::parse(PLACEHOLDER)
        .and_then(|p| p.join(base))
        .and_then(|b| b.join(reference))
        .map_or_else(
            |_| reference.to_owned(),
            |u| u.as_str().trim_start_matches(PLACEHOLDER).to_owned(),
        )
}

/// A JSON media type when one is listed, else the first.
fn pick_media<'m>(mut media: impl Iterator<Item = &'m str> + Clone) -> Option<String> {
    let is_json = |m: &&str| {
        let essence = m
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    };
    let pick = media.clone().find(is_json).or_else(|| media.next())?;
    valid_media_type(pick).then(|| pick.to_owned())
}

/// A schema's `type`: a string, or the first non-`null` entry of an OpenAPI 3.1 type array.
fn type_name(schema: &Value) -> Option<String> {
    match schema.get("type")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_owned),
        _ => None,
    }
}

fn scalar(ty: Option<&str>) -> SimpleType {
    match ty {
        Some("integer") => SimpleType::Integer,
        Some("number") => SimpleType::Number,
        Some("boolean") => SimpleType::Boolean,
        _ => SimpleType::String,
    }
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Records operation `name` (documentation from its first declaration that has some).
fn push_operation(ops: &mut Named<Operation>, name: &str, docs: Option<String>) {
    match ops.get_mut(name) {
        Some(existing) => {
            if existing.documentation.is_none() {
                existing.documentation = docs;
            }
        }
        None => {
            // Full: the operation is dropped; the path cap keeps this from happening in practice.
            ops.insert(Operation {
                name: name.to_owned(),
                rust_name: String::new(),
                definition: None,
                documentation: docs,
            });
        }
    }
}

#[cfg(test)]
mod tests {
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
