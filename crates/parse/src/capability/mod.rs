//! CapabilityStatement (STU3, R4, R4B, R5) and DSTU2 Conformance, in their JSON form, to the model.
//!
//! The element names the model reads are the same in every release; the differences handled here
//! are the resource type (`Conformance` in DSTU2), `profile` and `operation.definition` being a
//! `Reference` object (`{"reference": ...}`) in DSTU2/STU3 and a canonical string from R4 on, and
//! `conditionalRead` existing only from STU3 on.

use crate::{core_params, Parsed, Warning};
use fhirforge_model::names::{assign_unique, RESERVED_OPERATION_METHODS, RESERVED_SEARCH_METHODS};
use fhirforge_model::{
    ConditionalDelete, ConditionalRead, Connector, FhirRelease, Operation, Resource,
    ResourceInteraction, SearchParam, SearchParamType, Security, Software, SystemCapabilities,
    SystemInteraction, Versioning,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

type Obj = Map<String, Value>;

/// The SMART extension holding the OAuth endpoints in `rest.security`.
pub(crate) const OAUTH_URIS: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/// Most elements read from any one array, and most resources, search parameters or operations
/// kept per owner. Real statements stay far below (Epic R4: 59 resources, at most 27 parameters
/// each); the cap keeps a hostile 16 MiB document from making name assignment and merging
/// (quadratic in the list length) take minutes.
pub(crate) const MAX_ITEMS: usize = 2_000;

/// Most warnings kept; the rest are counted in one final warning, so memory stays bounded.
const MAX_WARNINGS: usize = 1_000;

/// Longest resource type, parameter or operation name accepted.
const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a valid FHIR resource type name: an ASCII letter in upper case, then ASCII
/// letters and digits.
pub(crate) fn valid_resource_type(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `name` is a valid search parameter (or operation) name: ASCII letters, digits, `-`,
/// `_` and `.` with at least one letter or digit (FHIR codes such as `_lastUpdated`,
/// `general-practitioner`, Cerner's `-encounter`, athenahealth's `ah-practice`).
pub(crate) fn valid_param_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.chars().any(|c| c.is_ascii_alphanumeric())
}

/// What a value is, for warnings.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A name for a warning message: quoted and cut short, so hostile text stays one short line.
fn shown(name: &str) -> String {
    let cut: String = name.chars().take(40).collect();
    if cut.len() < name.len() {
        format!("{:?}…", cut)
    } else {
        format!("{cut:?}")
    }
}

/// Reads one statement; collects warnings as it goes.
struct Cx {
    warnings: Vec<Warning>,
    suppressed: usize,
}

impl Cx {
    fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        if self.warnings.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.warnings.push(Warning {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    fn finish(mut self) -> Vec<Warning> {
        if self.suppressed > 0 {
            self.warnings.push(Warning {
                pointer: String::new(),
                message: format!("{} more warnings not shown", self.suppressed),
            });
        }
        self.warnings
    }

    /// A string property; wrong types and empty strings are warned about and read as absent.
    fn str<'v>(&mut self, obj: &'v Obj, key: &str, ptr: &str) -> Option<&'v str> {
        match obj.get(key)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => {
                self.warn(format!("{ptr}/{key}"), "empty string ignored");
                None
            }
            Value::String(s) => Some(s),
            other => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!("expected a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    fn bool(&mut self, obj: &Obj, key: &str, ptr: &str) -> Option<bool> {
        match obj.get(key)? {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            other => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!("expected a boolean, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// An array property. A single value where an array belongs is read as a one-element array.
    fn array<'v>(&mut self, obj: &'v Obj, key: &str, ptr: &str) -> &'v [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) if items.len() > MAX_ITEMS => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!(
                        "{} elements; only the first {MAX_ITEMS} are read",
                        items.len()
                    ),
                );
                &items[..MAX_ITEMS]
            }
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!(
                        "expected an array, found {}; read as one element",
                        kind(other)
                    ),
                );
                std::slice::from_ref(other)
            }
        }
    }

    fn object<'v>(&mut self, v: &'v Value, ptr: &str) -> Option<&'v Obj> {
        match v {
            Value::Object(o) => Some(o),
            other => {
                self.warn(
                    ptr,
                    format!("expected an object, found {}; skipped", kind(other)),
                );
                None
            }
        }
    }

    /// An array of strings, deduplicated with a warning, in declaration order.
    fn strings(&mut self, obj: &Obj, key: &str, ptr: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let base = format!("{ptr}/{key}");
        for (i, v) in self.array(obj, key, ptr).iter().enumerate() {
            match v {
                Value::String(s) if s.trim().is_empty() => {
                    self.warn(format!("{base}/{i}"), "empty string ignored");
                }
                Value::String(s) if out.contains(s) => {
                    self.warn(
                        format!("{base}/{i}"),
                        format!("duplicate {} merged", shown(s)),
                    );
                }
                Value::String(s) => out.push(s.clone()),
                other => {
                    self.warn(
                        format!("{base}/{i}"),
                        format!("expected a string, found {}; skipped", kind(other)),
                    );
                }
            }
        }
        out
    }

    /// A canonical URL: a string (R4+) or a `Reference` object's `reference` (DSTU2, STU3).
    fn canonical(&mut self, obj: &Obj, key: &str, ptr: &str) -> Option<String> {
        match obj.get(key)? {
            Value::Object(r) => self
                .str(r, "reference", &format!("{ptr}/{key}"))
                .map(str::to_owned),
            _ => self.str(obj, key, ptr).map(str::to_owned),
        }
    }

    /// A code property parsed by `parse`; an unknown code is warned about and read as absent.
    fn code<T>(
        &mut self,
        obj: &Obj,
        key: &str,
        ptr: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let code = self.str(obj, key, ptr)?;
        let parsed = parse(code);
        if parsed.is_none() {
            self.warn(
                format!("{ptr}/{key}"),
                format!("unknown code {}; ignored", shown(code)),
            );
        }
        parsed
    }
}

fn versioning(code: &str) -> Option<Versioning> {
    match code {
        "no-version" => Some(Versioning::NoVersion),
        "versioned" => Some(Versioning::Versioned),
        "versioned-update" => Some(Versioning::VersionedUpdate),
        _ => None,
    }
}

fn conditional_read(code: &str) -> Option<ConditionalRead> {
    match code {
        "not-supported" => Some(ConditionalRead::NotSupported),
        "modified-since" => Some(ConditionalRead::ModifiedSince),
        "not-match" => Some(ConditionalRead::NotMatch),
        "full-support" => Some(ConditionalRead::FullSupport),
        _ => None,
    }
}

fn conditional_delete(code: &str) -> Option<ConditionalDelete> {
    match code {
        "not-supported" => Some(ConditionalDelete::NotSupported),
        "single" => Some(ConditionalDelete::Single),
        "multiple" => Some(ConditionalDelete::Multiple),
        _ => None,
    }
}

/// Reads a parsed JSON document as a CapabilityStatement or Conformance.
pub(crate) fn read(doc: &Value) -> Result<Parsed, crate::Error> {
    let root = match doc {
        Value::Object(o) => o,
        other => {
            return Err(crate::Error::NotCapabilityStatement {
                found: format!("{} at the top level", kind(other)),
            })
        }
    };
    let resource_type = match root.get("resourceType") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(crate::Error::NotCapabilityStatement {
                found: format!("resourceType is {}", kind(other)),
            })
        }
        None => {
            return Err(crate::Error::NotCapabilityStatement {
                found: "an object without resourceType".to_owned(),
            })
        }
    };
    if resource_type != "CapabilityStatement" && resource_type != "Conformance" {
        return Err(crate::Error::NotCapabilityStatement {
            found: format!("resourceType {}", shown(resource_type)),
        });
    }
    let mut cx = Cx {
        warnings: Vec::new(),
        suppressed: 0,
    };
    let connector = read_root(&mut cx, root, resource_type);
    Ok(Parsed {
        connector,
        warnings: cx.finish(),
    })
}

fn read_root(cx: &mut Cx, root: &Obj, resource_type: &str) -> Connector {
    let fhir_version = cx.str(root, "fhirVersion", "").map(str::to_owned);
    let fhir_release = fhir_version.as_deref().and_then(FhirRelease::from_version);
    match (&fhir_version, fhir_release) {
        (None, _) => cx.warn(
            "/fhirVersion",
            "no fhirVersion; the FHIR release is unknown",
        ),
        (Some(v), None) => cx.warn("/fhirVersion", format!("unknown FHIR version {}", shown(v))),
        (Some(_), Some(release)) => {
            let dstu2 = release == FhirRelease::Dstu2;
            if dstu2 != (resource_type == "Conformance") {
                cx.warn(
                    "/resourceType",
                    format!(
                        "{resource_type} in a FHIR {} document; read anyway",
                        release.name()
                    ),
                );
            }
        }
    }

    let software = root
        .get("software")
        .and_then(|v| cx.object(v, "/software"))
        .map(|s| Software {
            name: cx.str(s, "name", "/software").map(str::to_owned),
            version: cx.str(s, "version", "/software").map(str::to_owned),
            release_date: cx.str(s, "releaseDate", "/software").map(str::to_owned),
        });
    let publisher = cx.str(root, "publisher", "").map(str::to_owned);
    let name = cx
        .str(root, "title", "")
        .or_else(|| cx.str(root, "name", ""))
        .map(str::to_owned)
        .or_else(|| software.as_ref().and_then(|s| s.name.clone()))
        .or_else(|| publisher.clone())
        .unwrap_or_else(|| "unnamed".to_owned());
    let base_url = root
        .get("implementation")
        .and_then(|v| cx.object(v, "/implementation"))
        .and_then(|i| cx.str(i, "url", "/implementation"))
        .map(str::to_owned);

    let mut connector = Connector {
        name,
        fhir_version: fhir_version.unwrap_or_default(),
        fhir_release,
        base_url,
        publisher,
        software,
        formats: cx.strings(root, "format", ""),
        patch_formats: cx.strings(root, "patchFormat", ""),
        security: Security::default(),
        system: SystemCapabilities::default(),
        resources: Vec::new(),
        generic_operations: Vec::new(),
    };

    let mut resources: BTreeMap<String, (Resource, String)> = BTreeMap::new();
    let mut server_rests = 0;
    for (i, rest) in cx.array(root, "rest", "").iter().enumerate() {
        let ptr = format!("/rest/{i}");
        let Some(rest) = cx.object(rest, &ptr) else {
            continue;
        };
        match cx.str(rest, "mode", &ptr) {
            Some("server") | None => {}
            Some(mode) => {
                cx.warn(
                    format!("{ptr}/mode"),
                    format!("rest mode {}; skipped", shown(mode)),
                );
                continue;
            }
        }
        server_rests += 1;
        if server_rests == 2 {
            cx.warn(
                &ptr,
                "more than one server rest entry; merged into one connector",
            );
        }
        read_rest(cx, rest, &ptr, &mut connector, &mut resources);
    }
    if server_rests == 0 {
        cx.warn(
            "/rest",
            "no server rest entry: the statement declares no resources",
        );
    }

    // Rust names are assigned once, after every merge.
    connector.resources = resources.into_values().map(|(r, _)| r).collect();
    name_resources(&mut connector.resources);
    for r in &mut connector.resources {
        name_params(&mut r.search_params);
        name_operations(&mut r.operations);
    }
    name_params(&mut connector.system.search_params);
    name_operations(&mut connector.system.operations);
    connector
}

fn read_rest(
    cx: &mut Cx,
    rest: &Obj,
    ptr: &str,
    connector: &mut Connector,
    resources: &mut BTreeMap<String, (Resource, String)>,
) {
    if let Some(sec) = rest.get("security") {
        if let Some(sec) = cx.object(sec, &format!("{ptr}/security")) {
            read_security(cx, sec, &format!("{ptr}/security"), &mut connector.security);
        }
    }

    for (i, res) in cx.array(rest, "resource", ptr).iter().enumerate() {
        let rptr = format!("{ptr}/resource/{i}");
        let Some(res) = cx.object(res, &rptr) else {
            continue;
        };
        let Some(resource_type) = cx.str(res, "type", &rptr) else {
            cx.warn(&rptr, "resource without a type; skipped");
            continue;
        };
        if !valid_resource_type(resource_type) {
            cx.warn(
                format!("{rptr}/type"),
                format!(
                    "{} is not a valid FHIR resource type name; skipped",
                    shown(resource_type)
                ),
            );
            continue;
        }
        let resource = read_resource(cx, res, &rptr, resource_type);
        let full = resources.len() >= MAX_ITEMS;
        match resources.get_mut(resource_type) {
            Some((existing, first)) => {
                cx.warn(
                    &rptr,
                    format!("duplicate resource type {resource_type} merged into {first}"),
                );
                merge_resource(cx, existing, resource, &rptr);
            }
            None if full => {
                cx.warn(
                    &rptr,
                    format!("more than {MAX_ITEMS} resource types; skipped"),
                );
            }
            None => {
                resources.insert(resource_type.to_owned(), (resource, rptr));
            }
        }
    }

    let system = &mut connector.system;
    system.interactions = read_interactions(cx, rest, ptr, SystemInteraction::from_code, |code| {
        format!("unknown system interaction code {}; skipped", shown(code))
    });

    let params = read_search_params(cx, rest, ptr, "Resource");
    append_params(cx, &mut system.search_params, params);
    let ops = read_operations(cx, rest, ptr);
    append_operations(cx, &mut system.operations, ops);
}

/// Reads `interaction` codes at resource or system level: duplicates merge and unknown codes are
/// skipped, each with a warning; the result is in canonical order.
fn read_interactions<T: Ord + Copy>(
    cx: &mut Cx,
    obj: &Obj,
    ptr: &str,
    from_code: fn(&str) -> Option<T>,
    unknown: impl Fn(&str) -> String,
) -> Vec<T> {
    let mut interactions = Vec::new();
    for (i, it) in cx.array(obj, "interaction", ptr).iter().enumerate() {
        let iptr = format!("{ptr}/interaction/{i}");
        let Some(it) = cx.object(it, &iptr) else {
            continue;
        };
        let Some(code) = cx.str(it, "code", &iptr) else {
            cx.warn(&iptr, "interaction without a code; skipped");
            continue;
        };
        match from_code(code) {
            Some(known) if interactions.contains(&known) => {
                cx.warn(
                    format!("{iptr}/code"),
                    format!("duplicate interaction {code} merged"),
                );
            }
            Some(known) => interactions.push(known),
            None => cx.warn(format!("{iptr}/code"), unknown(code)),
        }
    }
    interactions.sort();
    interactions
}

fn read_resource(cx: &mut Cx, res: &Obj, ptr: &str, resource_type: &str) -> Resource {
    let mut r = Resource::new(resource_type);
    r.profile = cx.canonical(res, "profile", ptr);
    r.supported_profiles = cx.strings(res, "supportedProfile", ptr);
    r.documentation = cx.str(res, "documentation", ptr).map(str::to_owned);

    r.interactions = read_interactions(cx, res, ptr, ResourceInteraction::from_code, |code| {
        format!(
            "unknown interaction code {} for {resource_type}; skipped",
            shown(code)
        )
    });

    r.versioning = cx.code(res, "versioning", ptr, versioning);
    r.read_history = cx.bool(res, "readHistory", ptr);
    r.update_create = cx.bool(res, "updateCreate", ptr);
    r.conditional_create = cx.bool(res, "conditionalCreate", ptr);
    r.conditional_read = cx.code(res, "conditionalRead", ptr, conditional_read);
    r.conditional_update = cx.bool(res, "conditionalUpdate", ptr);
    r.conditional_delete = cx.code(res, "conditionalDelete", ptr, conditional_delete);
    r.search_include = cx.strings(res, "searchInclude", ptr);
    r.search_rev_include = cx.strings(res, "searchRevInclude", ptr);

    let params = read_search_params(cx, res, ptr, resource_type);
    append_params(cx, &mut r.search_params, params);
    let ops = read_operations(cx, res, ptr);
    append_operations(cx, &mut r.operations, ops);
    r
}

/// Appends the strings `into` lacks, up to [`MAX_ITEMS`] in all.
fn merge_strings(into: &mut Vec<String>, from: Vec<String>) {
    let mut seen: std::collections::BTreeSet<String> = into.iter().cloned().collect();
    for v in from {
        if into.len() >= MAX_ITEMS {
            break;
        }
        if seen.insert(v.clone()) {
            into.push(v);
        }
    }
}

/// Merges a second declaration of the same resource type into the first.
fn merge_resource(cx: &mut Cx, into: &mut Resource, from: Resource, ptr: &str) {
    for i in from.interactions {
        if !into.interactions.contains(&i) {
            into.interactions.push(i);
        }
    }
    into.interactions.sort();
    merge_strings(&mut into.supported_profiles, from.supported_profiles);
    merge_strings(&mut into.search_include, from.search_include);
    merge_strings(&mut into.search_rev_include, from.search_rev_include);
    into.profile = into.profile.take().or(from.profile);
    into.documentation = into.documentation.take().or(from.documentation);
    into.versioning = into.versioning.or(from.versioning);
    into.read_history = into.read_history.or(from.read_history);
    into.update_create = into.update_create.or(from.update_create);
    into.conditional_create = into.conditional_create.or(from.conditional_create);
    into.conditional_read = into.conditional_read.or(from.conditional_read);
    into.conditional_update = into.conditional_update.or(from.conditional_update);
    into.conditional_delete = into.conditional_delete.or(from.conditional_delete);
    let params = from
        .search_params
        .into_iter()
        .map(|p| (p, ptr.to_owned()))
        .collect();
    append_params(cx, &mut into.search_params, params);
    let ops = from
        .operations
        .into_iter()
        .map(|o| (o, ptr.to_owned()))
        .collect();
    append_operations(cx, &mut into.operations, ops);
}

/// Reads `searchParam` of a resource (or of `rest`, with `owner` = `Resource`), filling in core
/// documentation and definitions. Returns each parameter with its pointer; names are not yet
/// unique.
fn read_search_params(
    cx: &mut Cx,
    obj: &Obj,
    ptr: &str,
    owner: &str,
) -> Vec<(SearchParam, String)> {
    let mut out = Vec::new();
    for (i, p) in cx.array(obj, "searchParam", ptr).iter().enumerate() {
        let pptr = format!("{ptr}/searchParam/{i}");
        let Some(p) = cx.object(p, &pptr) else {
            continue;
        };
        let Some(name) = cx.str(p, "name", &pptr) else {
            cx.warn(&pptr, "search parameter without a name; skipped");
            continue;
        };
        if !valid_param_name(name) {
            cx.warn(
                format!("{pptr}/name"),
                format!(
                    "{} is not a valid search parameter name; skipped",
                    shown(name)
                ),
            );
            continue;
        }
        let core = core_params::lookup(owner, name);
        let param_type = match cx.str(p, "type", &pptr) {
            Some(t) => {
                let t = SearchParamType::from(t.to_owned());
                if !t.is_known() {
                    cx.warn(
                        format!("{pptr}/type"),
                        format!(
                            "unknown search parameter type {}; kept as written",
                            shown(t.code())
                        ),
                    );
                }
                t
            }
            None => match core {
                Some(c) => {
                    cx.warn(
                        &pptr,
                        format!(
                            "no type for {name}; the FHIR core type {} is used",
                            c.param_type
                        ),
                    );
                    SearchParamType::from(c.param_type.clone())
                }
                None => {
                    cx.warn(
                        &pptr,
                        format!(
                            "no type for {} and no core definition; skipped",
                            shown(name)
                        ),
                    );
                    continue;
                }
            },
        };
        let mut param = SearchParam {
            name: name.to_owned(),
            rust_name: String::new(),
            range: SearchParam::range_applies(name, &param_type),
            documentation: cx.str(p, "documentation", &pptr).map(str::to_owned),
            definition: cx.canonical(p, "definition", &pptr),
            param_type,
            from_core: false,
        };
        // Core text and URL only describe a parameter the vendor declares with the core type;
        // a vendor-only name or a core name with vendor semantics keeps the vendor's own.
        if let Some(core) = core.filter(|c| c.param_type == param.param_type.code()) {
            if param.documentation.is_none() && !core.description.is_empty() {
                param.documentation = Some(core.description.clone());
                param.from_core = true;
            }
            if param.definition.is_none() {
                param.definition = Some(core.url.clone());
                param.from_core = true;
            }
        }
        out.push((param, pptr));
    }
    out
}

/// Appends parameters, merging a repeated name into its first declaration with a warning.
fn append_params(cx: &mut Cx, into: &mut Vec<SearchParam>, params: Vec<(SearchParam, String)>) {
    // An index by name keeps merging linear-logarithmic even for hostile, huge lists.
    let mut index: BTreeMap<String, usize> = into
        .iter()
        .enumerate()
        .map(|(i, q)| (q.name.clone(), i))
        .collect();
    for (p, pptr) in params {
        let full = into.len() >= MAX_ITEMS;
        match index.get(&p.name).map(|&i| &mut into[i]) {
            Some(first) => {
                if first.param_type != p.param_type {
                    cx.warn(
                        &pptr,
                        format!(
                            "duplicate search parameter {} declared as {} (first as {}); the first is kept",
                            shown(&p.name),
                            p.param_type,
                            first.param_type
                        ),
                    );
                } else {
                    cx.warn(
                        &pptr,
                        format!("duplicate search parameter {} merged", shown(&p.name)),
                    );
                }
                if first.documentation.is_none() {
                    first.documentation = p.documentation;
                }
                if first.definition.is_none() {
                    first.definition = p.definition;
                }
            }
            None if full => {
                cx.warn(
                    &pptr,
                    format!("more than {MAX_ITEMS} search parameters; skipped"),
                );
            }
            None => {
                index.insert(p.name.clone(), into.len());
                into.push(p);
            }
        }
    }
}

fn name_params(params: &mut [SearchParam]) {
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let rust = assign_unique(&names, RESERVED_SEARCH_METHODS);
    for (p, r) in params.iter_mut().zip(rust) {
        p.rust_name = r;
    }
}

fn read_operations(cx: &mut Cx, obj: &Obj, ptr: &str) -> Vec<(Operation, String)> {
    let mut out = Vec::new();
    for (i, op) in cx.array(obj, "operation", ptr).iter().enumerate() {
        let optr = format!("{ptr}/operation/{i}");
        let Some(op) = cx.object(op, &optr) else {
            continue;
        };
        let Some(raw) = cx.str(op, "name", &optr) else {
            cx.warn(&optr, "operation without a name; skipped");
            continue;
        };
        // Some servers write the `$`; the element holds the bare name.
        let name = raw.strip_prefix('$').unwrap_or(raw);
        if !valid_param_name(name) {
            cx.warn(
                format!("{optr}/name"),
                format!("{} is not a valid operation name; skipped", shown(raw)),
            );
            continue;
        }
        let operation = Operation {
            name: name.to_owned(),
            rust_name: String::new(),
            definition: cx.canonical(op, "definition", &optr),
            documentation: cx.str(op, "documentation", &optr).map(str::to_owned),
        };
        out.push((operation, optr));
    }
    out
}

fn append_operations(cx: &mut Cx, into: &mut Vec<Operation>, ops: Vec<(Operation, String)>) {
    let mut index: BTreeMap<String, usize> = into
        .iter()
        .enumerate()
        .map(|(i, o)| (o.name.clone(), i))
        .collect();
    for (op, optr) in ops {
        let full = into.len() >= MAX_ITEMS;
        match index.get(&op.name).map(|&i| &mut into[i]) {
            Some(first) => {
                cx.warn(
                    &optr,
                    format!("duplicate operation {} merged", shown(&op.name)),
                );
                if first.definition.is_none() {
                    first.definition = op.definition;
                }
                if first.documentation.is_none() {
                    first.documentation = op.documentation;
                }
            }
            None if full => {
                cx.warn(&optr, format!("more than {MAX_ITEMS} operations; skipped"));
            }
            None => {
                index.insert(op.name.clone(), into.len());
                into.push(op);
            }
        }
    }
}

fn name_operations(ops: &mut [Operation]) {
    let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
    let rust = assign_unique(&names, RESERVED_OPERATION_METHODS);
    for (o, r) in ops.iter_mut().zip(rust) {
        o.rust_name = r;
    }
}

fn name_resources(resources: &mut [Resource]) {
    let names: Vec<&str> = resources.iter().map(|r| r.resource_type.as_str()).collect();
    let rust = assign_unique(&names, &[]);
    for (r, n) in resources.iter_mut().zip(rust) {
        r.rust_name = n;
    }
}

/// Whether `s` is an absolute `http` or `https` URL, written without whitespace, control
/// characters, quotes or backslashes (the URL parser would silently strip or fix those, and the
/// text is kept as written).
pub(crate) fn valid_endpoint(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '<' | '>' | '`'))
        && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn read_security(cx: &mut Cx, sec: &Obj, ptr: &str, security: &mut Security) {
    if let Some(cors) = cx.bool(sec, "cors", ptr) {
        security.cors = Some(security.cors.unwrap_or(false) || cors);
    }
    if let Some(d) = cx.str(sec, "description", ptr) {
        security.description.get_or_insert_with(|| d.to_owned());
    }
    for (i, svc) in cx.array(sec, "service", ptr).iter().enumerate() {
        let sptr = format!("{ptr}/service/{i}");
        let Some(svc) = cx.object(svc, &sptr) else {
            continue;
        };
        let mut code = None;
        for (j, coding) in cx.array(svc, "coding", &sptr).iter().enumerate() {
            let cptr = format!("{sptr}/coding/{j}");
            if let Some(c) = cx
                .object(coding, &cptr)
                .and_then(|c| cx.str(c, "code", &cptr))
            {
                code = Some(c.to_owned());
                break;
            }
        }
        let code = code.or_else(|| cx.str(svc, "text", &sptr).map(str::to_owned));
        match code {
            Some(c) if security.services.contains(&c) => {
                cx.warn(
                    &sptr,
                    format!("duplicate security service {} merged", shown(&c)),
                );
            }
            Some(c) => security.services.push(c),
            None => cx.warn(&sptr, "security service without a code or text; skipped"),
        }
    }

    // The SMART oauth-uris extension. athenahealth declares it twice, once under a malformed
    // URL: exact-URL extensions win; a near miss is used only when no exact one exists.
    let mut exact = Vec::new();
    let mut near = Vec::new();
    for (i, ext) in cx.array(sec, "extension", ptr).iter().enumerate() {
        let eptr = format!("{ptr}/extension/{i}");
        let Some(ext) = cx.object(ext, &eptr) else {
            continue;
        };
        match cx.str(ext, "url", &eptr) {
            Some(OAUTH_URIS) => exact.push((ext, eptr)),
            Some(u) if u.ends_with("/oauth-uris") => near.push((ext, eptr, u.to_owned())),
            _ => {}
        }
    }
    if exact.len() > 1 {
        cx.warn(&exact[1].1, "oauth-uris extension declared more than once; merged, the first value of each endpoint kept");
    }
    for (_, eptr, url) in &near {
        if exact.is_empty() {
            cx.warn(
                format!("{eptr}/url"),
                format!("oauth-uris extension under the malformed URL {}; used since no valid one exists", shown(url)),
            );
        } else {
            cx.warn(
                format!("{eptr}/url"),
                format!("oauth-uris extension under the malformed URL {}; ignored, the valid one is used", shown(url)),
            );
        }
    }
    let chosen: Vec<(&Obj, String)> = if exact.is_empty() {
        near.into_iter().map(|(e, p, _)| (e, p)).collect()
    } else {
        exact
    };
    for (ext, eptr) in chosen {
        read_oauth_uris(cx, ext, &eptr, security);
    }
}

fn read_oauth_uris(cx: &mut Cx, ext: &Obj, ptr: &str, security: &mut Security) {
    for (i, sub) in cx.array(ext, "extension", ptr).iter().enumerate() {
        let sptr = format!("{ptr}/extension/{i}");
        let Some(sub) = cx.object(sub, &sptr) else {
            continue;
        };
        let Some(kind) = cx.str(sub, "url", &sptr) else {
            continue;
        };
        let value_key = if sub.contains_key("valueUri") {
            "valueUri"
        } else {
            "valueUrl"
        };
        let Some(value) = cx.str(sub, value_key, &sptr) else {
            cx.warn(
                &sptr,
                format!("oauth-uris {} without a valueUri; skipped", shown(kind)),
            );
            continue;
        };
        if !valid_endpoint(value) {
            cx.warn(
                format!("{sptr}/{value_key}"),
                format!(
                    "oauth-uris {} is not an absolute http(s) URL; skipped",
                    shown(kind)
                ),
            );
            continue;
        }
        let slot = match kind {
            "token" => &mut security.oauth.token,
            "authorize" => &mut security.oauth.authorize,
            "revoke" => &mut security.oauth.revoke,
            "introspect" => &mut security.oauth.introspect,
            "register" => &mut security.oauth.register,
            "manage" => &mut security.oauth.manage,
            other => {
                cx.warn(
                    format!("{sptr}/url"),
                    format!("unknown oauth-uris endpoint {}; skipped", shown(other)),
                );
                continue;
            }
        };
        match slot {
            Some(existing) if existing != value => cx.warn(
                &sptr,
                format!("second, different {kind} endpoint; the first is kept"),
            ),
            Some(_) => {}
            None => *slot = Some(value.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_names() {
        for ok in ["Patient", "AllergyIntolerance", "A", "Observation2"] {
            assert!(valid_resource_type(ok), "{ok}");
        }
        for bad in [
            "",
            "patient",
            "Pat ient",
            "Patient\"",
            "Pätient",
            "1Patient",
            "P-atient",
        ] {
            assert!(!valid_resource_type(bad), "{bad}");
        }
        for ok in [
            "_id",
            "_lastUpdated",
            "-encounter",
            "ah-practice",
            "code-value-concept",
            "a.b",
        ] {
            assert!(valid_param_name(ok), "{ok}");
        }
        for bad in [
            "", "-", "_", "a b", "a\"b", "a*/b", "näme", "x\ny", "r#type", "a:b",
        ] {
            assert!(!valid_param_name(bad), "{bad}");
        }
    }
}
