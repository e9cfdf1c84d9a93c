//! The OpenAPI/Swagger document walk: paths to resources, interactions, search parameters,
//! operations and generic operations; security schemes to [`Security`].

use super::fhir::{self, FhirPath, Segment};
use super::refs::{self, escape, RefProblem};
use super::{OpenApiParsed, Options, SpecVersion};
use crate::{Error, Parsed, Warning};
use fhirforge_model::names::{assign_unique, RESERVED_OPERATION_METHODS, RESERVED_SEARCH_METHODS};
use fhirforge_model::{
    ConditionalDelete, Connector, FhirRelease, GenericBody, GenericOperation, GenericParam,
    HttpMethod, ListStyle, Operation, ParamLocation, Resource, ResourceInteraction, SearchParam,
    SearchParamType, Security, SimpleType, Software, SystemCapabilities, SystemInteraction,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Query parameters that shape the HTTP response rather than the search (`_format`, `_pretty`):
/// Firely declares them on every path; they are not search parameters.
const FORMAT_PARAMETERS: &[&str] = &["_format", "_pretty"];

/// Method names a generated client defines beside its resource accessors; generic operations
/// never take them (a route with `operationId: new` becomes `new_2`).
pub(crate) const RESERVED_CLIENT_METHODS: &[&str] = &[
    "new",
    "builder",
    "base_url",
    "capabilities",
    "metadata",
    "transaction",
    "batch",
    "search",
    "history",
    "operation",
    "request",
    "send",
    "client",
    "auth",
    "clone",
    "fmt",
    "default",
];

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

/// A name for a warning message: quoted, escaped and cut short.
pub(crate) fn shown(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

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
    /// Search parameter names in first-seen order, with the spec's description.
    params: Vec<(String, Option<String>, String)>,
    operations: Vec<Operation>,
    conditional_update: bool,
    conditional_delete: bool,
    conditional_create: bool,
}

/// A generic operation before naming.
#[derive(Debug)]
struct GenericAcc {
    op: GenericOperation,
    /// Name source for the Rust method: `operationId` or the derived words.
    name_source: String,
    pointer: String,
}

/// The walk's state.
pub(crate) struct Reader<'a> {
    root: &'a Value,
    version: SpecVersion,
    options: &'a Options<'a>,
    warnings: Vec<Warning>,
    /// The document-level server URL (absolute when it could be made so).
    server_url: Option<String>,
    resources: BTreeMap<String, ResourceAcc>,
    system: SystemCapabilities,
    system_ops: Vec<Operation>,
    generic: Vec<GenericAcc>,
    formats: Vec<String>,
    patch_formats: Vec<String>,
    smart_configuration_url: Option<String>,
    /// Pointers of `security` maps written where a list belongs (OpenEMR), reported once.
    security_maps: Vec<String>,
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
            warnings: Vec::new(),
            server_url: None,
            resources: BTreeMap::new(),
            system: SystemCapabilities::default(),
            system_ops: Vec::new(),
            generic: Vec::new(),
            formats: Vec::new(),
            patch_formats: Vec::new(),
            smart_configuration_url: None,
            security_maps: Vec::new(),
        }
    }

    pub(crate) fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Warning {
            pointer: printable_pointer(pointer.into()),
            message: message.into(),
        });
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
        if let Some(paths) = paths {
            for (path, item) in paths {
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
        let generic_operations = self.finish_generic(&resources);
        let mut system = std::mem::take(&mut self.system);
        system.interactions.sort();
        system.interactions.dedup();
        let mut system_ops = std::mem::take(&mut self.system_ops);
        name_operations(&mut system_ops);
        system.operations = system_ops;

        let connector = Connector {
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
            formats: std::mem::take(&mut self.formats),
            patch_formats: std::mem::take(&mut self.patch_formats),
            security,
            system,
            resources,
            generic_operations,
        };
        Ok(OpenApiParsed {
            parsed: Parsed {
                connector,
                warnings: self.warnings,
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
        let mut url = url.to_owned();
        if let Some(Value::Object(vars)) = first.get("variables") {
            for (name, var) in vars {
                if let Some(default) = var.get("default").and_then(Value::as_str) {
                    url = url.replace(&format!("{{{name}}}"), default);
                }
            }
        }
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
        let fhir_path = base.and_then(|b| {
            let segs = fhir::segments(path);
            let base_segs = fhir::segments(b);
            segs.starts_with(&base_segs)
                .then(|| fhir::classify(&segs[base_segs.len()..]))
                .flatten()
        });
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
            for (i, p) in list.iter().enumerate() {
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
                    description: text(p.get("description")),
                    schema,
                    style: p
                        .get("style")
                        .or_else(|| p.get("collectionFormat"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    explode: p.get("explode").and_then(Value::as_bool),
                    pointer: p_ptr,
                };
                match out
                    .iter_mut()
                    .find(|q| q.name == raw.name && q.location == raw.location)
                {
                    Some(existing) => *existing = raw,
                    None => out.push(raw),
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
        let docs = text(op.get("summary")).or_else(|| text(op.get("description")));
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
                    let acc = self.resource(t, op_ptr);
                    if !acc.params.iter().any(|(n, _, _)| *n == name) {
                        acc.params.push((name, doc, ptr));
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
                        text(prop.get("description")),
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
                            .flat_map(|c| c.keys())
                        {
                            found.push((m.clone(), method == HttpMethod::Patch));
                        }
                    }
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    for (code, resp) in responses {
                        if !code.starts_with('2') {
                            continue;
                        }
                        let ptr = format!("{op_ptr}/responses/{}", escape(code));
                        if let Some((resp, _)) = self.deref(resp, &ptr) {
                            for m in resp
                                .get("content")
                                .and_then(Value::as_object)
                                .into_iter()
                                .flat_map(|c| c.keys())
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
                push_unique(&mut self.patch_formats, media);
            } else if media != "application/x-www-form-urlencoded"
                && !media.starts_with("multipart/")
            {
                push_unique(&mut self.formats, media);
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
            let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            let rust = assign_unique(&names, RESERVED_SEARCH_METHODS);
            for (p, n) in params.iter_mut().zip(rust) {
                p.rust_name = n;
            }
            r.search_params = params;
            name_operations(&mut acc.operations);
            r.operations = acc.operations;
            out.push(r);
        }
        // `Resource::new` sanitizes each name alone; make the accessors unique together.
        let names: Vec<&str> = out.iter().map(|r| r.resource_type.as_str()).collect();
        let rust = assign_unique(&names, &[]);
        for (r, n) in out.iter_mut().zip(rust) {
            r.rust_name = n;
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
        let operation_id = text(op.get("operationId"));
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
        for var in &vars {
            match out_params
                .iter()
                .position(|p| p.location == ParamLocation::Path && p.name == *var)
            {
                Some(i) => ordered.push(out_params.remove(i)),
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
        for p in out_params {
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
        let names: Vec<&str> = ordered.iter().map(|p| p.name.as_str()).collect();
        let rust = assign_unique(&names, &["body"]);
        for (p, n) in ordered.iter_mut().zip(rust) {
            p.rust_name = n;
        }
        if self.version != SpecVersion::Swagger2 {
            if let Some(body) = op.get("requestBody") {
                request_body = self.request_body(body, &format!("{op_ptr}/requestBody"));
            }
        }
        let response_body = self.response_body(op, op_ptr);
        let name_source = match &operation_id {
            Some(id) => id.clone(),
            None => {
                let mut words = vec![method.as_str().to_ascii_lowercase()];
                for seg in fhir::segments(path) {
                    match seg {
                        Segment::Literal(l) => words.push(l.to_owned()),
                        Segment::Var(v) => words.push(format!("by_{v}")),
                    }
                }
                words.join("_")
            }
        };
        let op_out = GenericOperation {
            method,
            path: path.to_owned(),
            server_url,
            rust_name: String::new(),
            operation_id,
            summary: text(op.get("summary")),
            documentation: text(op.get("description")),
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
            name_source,
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
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        pick_media(list.iter().copied()).unwrap_or_else(|| "application/json".to_owned())
    }

    fn request_body(&mut self, body: &'a Value, ptr: &str) -> Option<GenericBody> {
        let (body, _) = self.deref(body, ptr)?;
        let content = body.get("content")?.as_object()?;
        let media = pick_media(content.keys().map(String::as_str))?;
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
        let mut codes: Vec<&String> = responses.keys().filter(|c| c.starts_with('2')).collect();
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

    /// Names the generic operations (unique among themselves and apart from the client's own
    /// methods and resource accessors), warning about duplicate `operationId`s.
    fn finish_generic(&mut self, resources: &[Resource]) -> Vec<GenericOperation> {
        let accs = std::mem::take(&mut self.generic);
        let mut seen: Vec<&str> = Vec::new();
        for acc in &accs {
            if let Some(id) = acc.op.operation_id.as_deref() {
                if seen.contains(&id) {
                    self.warn(
                        acc.pointer.clone(),
                        format!(
                            "duplicate operationId {}; the method gets a numbered name",
                            shown(id)
                        ),
                    );
                } else {
                    seen.push(id);
                }
            }
        }
        let mut reserved: Vec<&str> = RESERVED_CLIENT_METHODS.to_vec();
        reserved.extend(resources.iter().map(|r| r.rust_name.as_str()));
        reserved.extend(self.system_ops.iter().map(|o| o.rust_name.as_str()));
        let sources: Vec<&str> = accs.iter().map(|a| a.name_source.as_str()).collect();
        let names = assign_unique(&sources, &reserved);
        accs.into_iter()
            .zip(names)
            .map(|(acc, name)| GenericOperation {
                rust_name: name,
                ..acc.op
            })
            .collect()
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
        for (name, scheme) in schemes {
            let s_ptr = format!("{ptr}/{}", escape(name));
            let Some((scheme, _)) = self.deref(scheme, &s_ptr) else {
                continue;
            };
            if let Some(d) = text(scheme.get("description")) {
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
                for scope in scopes.keys() {
                    if scope.len() <= 256 && scope.chars().all(|c| c.is_ascii_graphic()) {
                        push_unique(&mut security.scopes, scope.clone());
                    } else {
                        self.warn(
                            format!("{f_ptr}/scopes"),
                            format!("scope {} is not a valid scope token; skipped", shown(scope)),
                        );
                    }
                }
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

fn push_operation(ops: &mut Vec<Operation>, name: &str, docs: Option<String>) {
    match ops.iter_mut().find(|o| o.name == name) {
        Some(existing) => {
            if existing.documentation.is_none() {
                existing.documentation = docs;
            }
        }
        None => ops.push(Operation {
            name: name.to_owned(),
            rust_name: String::new(),
            definition: None,
            documentation: docs,
        }),
    }
}

fn name_operations(ops: &mut [Operation]) {
    let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
    let rust = assign_unique(&names, RESERVED_OPERATION_METHODS);
    for (o, n) in ops.iter_mut().zip(rust) {
        o.rust_name = n;
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
