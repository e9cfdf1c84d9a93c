//! Tool derivation: the connector model → MCP tool definitions (names, descriptions, JSON
//! Schemas). Pure: no I/O, no MCP SDK types, so it is unit-tested and benchmarked on its own.
//!
//! Two shapes:
//!
//! * **Full** (the default): one tool per resource type and interaction, `search_Patient` with
//!   one schema property per declared search parameter, typed by the parameter's FHIR type.
//! * **Compact** (`--compact`): one tool per interaction kind (`search`, `read`, ...) with the
//!   resource type as an enum argument and the search parameters as `name`/`value` pairs in
//!   FHIR syntax, checked against the declared names when called. For vendors with dozens of
//!   resources, the tool list stays a few kilobytes instead of hundreds.

use crate::error::Error;
use fhirforge_model::suggest::did_you_mean;
use fhirforge_model::{Connector, Resource, ResourceInteraction, SearchParam, SearchParamType};
use serde_json::{json, Map, Value};

/// The longest description text taken from a vendor's documentation, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 240;

/// The FHIR search prefixes, as the schema's enum.
pub const PREFIXES: [&str; 9] = ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"];

/// How tools are derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Offer the declared create/update/patch/delete interactions (and POST operations).
    pub write: bool,
    /// Only these resource types (as declared); `None` for all.
    pub resources: Option<Vec<String>>,
    /// One tool per interaction kind instead of one per resource type and interaction.
    pub compact: bool,
    /// The most resources one search or history call returns.
    pub max_results: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            write: false,
            resources: None,
            compact: false,
            max_results: 50,
        }
    }
}

/// What a tool does when called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A search-type interaction; `None`: the type is the `resourceType` argument (compact).
    Search(Option<String>),
    /// A read.
    Read(Option<String>),
    /// Instance or type history, as declared.
    History(Option<String>),
    /// An operation (`$name` without the `$`) at type or instance level; in compact mode the
    /// type and name come from the arguments.
    Operation(Option<(String, String)>),
    /// Create (write).
    Create(Option<String>),
    /// Update (write).
    Update(Option<String>),
    /// JSON Patch (write).
    Patch(Option<String>),
    /// Delete (write).
    Delete(Option<String>),
}

impl Action {
    /// The interaction kind, as the tool name's prefix (`search`, `read`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Search(_) => "search",
            Self::Read(_) => "read",
            Self::History(_) => "history",
            Self::Operation(_) => "operation",
            Self::Create(_) => "create",
            Self::Update(_) => "update",
            Self::Patch(_) => "patch",
            Self::Delete(_) => "delete",
        }
    }

    /// Whether the action changes data on the server.
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Self::Create(_) | Self::Update(_) | Self::Patch(_) | Self::Delete(_)
        )
    }
}

/// One derived tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The tool name (`search_Patient`, or `search` in compact mode).
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// The JSON Schema of the arguments (`type: object`).
    pub input_schema: Map<String, Value>,
    /// What a call does.
    pub action: Action,
}

/// The derived tools over one connector, with the connector kept for checking calls.
#[derive(Debug, Clone)]
pub struct Catalog {
    connector: Connector,
    options: Options,
    tools: Vec<ToolSpec>,
}

impl Catalog {
    /// Derives the tools for `connector`.
    ///
    /// # Errors
    /// [`Error::UnknownResource`] when `options.resources` names a type the statement does not
    /// declare (with the closest declared one), [`Error::NoTools`] when nothing is left.
    pub fn new(connector: Connector, options: Options) -> Result<Self, Error> {
        if let Some(wanted) = &options.resources {
            for ty in wanted {
                if connector.resource(ty).is_none() {
                    let hint =
                        did_you_mean(ty, connector.resources.iter().map(|r| &r.resource_type));
                    return Err(Error::UnknownResource {
                        name: clean(ty, 64),
                        hint,
                    });
                }
            }
        }
        let mut catalog = Self {
            connector,
            options,
            tools: Vec::new(),
        };
        catalog.tools = if catalog.options.compact {
            compact_tools(&catalog)
        } else {
            full_tools(&catalog)
        };
        if catalog.tools.is_empty() {
            return Err(Error::NoTools);
        }
        Ok(catalog)
    }

    /// The tools, in a stable order (by resource type, then interaction).
    pub fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    /// The tool called `name`.
    pub fn tool(&self, name: &str) -> Option<&ToolSpec> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The connector the tools were derived from.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The resources offered (declared, and chosen by `--resources`), in declaration order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.connector.resources.iter().filter(|r| {
            self.options
                .resources
                .as_ref()
                .is_none_or(|w| w.contains(&r.resource_type))
        })
    }

    /// The offered resource `ty`, when it supports `interaction`.
    pub fn resource_with(&self, ty: &str, interaction: ResourceInteraction) -> Option<&Resource> {
        self.resources()
            .find(|r| r.resource_type == ty && r.supports(interaction))
    }

    /// The name a write tool would have if `--write` were given: for refusing it with a reason
    /// instead of "unknown tool".
    pub fn would_be_write_tool(&self, name: &str) -> bool {
        if self.options.write {
            return false;
        }
        let kinds = [
            ("create", ResourceInteraction::Create),
            ("update", ResourceInteraction::Update),
            ("patch", ResourceInteraction::Patch),
            ("delete", ResourceInteraction::Delete),
        ];
        kinds.iter().any(|(kind, interaction)| {
            if self.options.compact {
                return name == *kind && self.resources().any(|r| r.supports(*interaction));
            }
            name.strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|ty| self.resource_with(ty, *interaction).is_some())
        })
    }
}

/// Text from a vendor's document made safe for a description: control characters and markup
/// removed, whitespace collapsed, at most `max` characters (cut at a word, with `…`).
pub fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 4));
    let mut in_tag = false;
    let mut space = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                space = true;
            }
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => space = true,
            c => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    if out.chars().count() <= max {
        return out;
    }
    let cut: String = out.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{cut}…")
}

fn object(properties: Map<String, Value>, required: &[&str]) -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

fn id_schema() -> Value {
    json!({
        "type": "string",
        "description": "The resource id (FHIR id: letters, digits, '-' and '.', up to 64)",
        "pattern": "^[A-Za-z0-9\\-\\.]{1,64}$"
    })
}

fn max_results_schema(max: u32) -> Value {
    json!({
        "type": "integer",
        "minimum": 1,
        "maximum": max,
        "description": format!("The most resources to return (default and limit {max}); the summary says when more matched")
    })
}

fn pairs_schema(what: &str) -> Value {
    json!({
        "type": "array",
        "description": what,
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "value": {"type": "string"}
            },
            "required": ["name", "value"],
            "additionalProperties": false
        }
    })
}

const ADDITIONAL: &str = "Further parameters as NAME=VALUE pairs in FHIR search syntax, sent \
    after a check of the name: modifiers and chains (`family:exact`, `birthdate:missing`, \
    `subject:Patient.name`), OR lists (`a,b`), prefixes (`ge2020`)";

/// The schema of one search parameter's value, by its FHIR type.
fn param_schema(param: &SearchParam) -> Value {
    let doc = param
        .documentation
        .as_deref()
        .map(|d| clean(d, MAX_DESCRIPTION_CHARS))
        .filter(|d| !d.is_empty());
    let with_doc = |mut v: Value, fallback: &str| {
        let text = match &doc {
            Some(d) => format!("{d} ({fallback})"),
            None => fallback.to_owned(),
        };
        if let Some(o) = v.as_object_mut() {
            o.insert("description".into(), Value::String(text));
        }
        v
    };
    if param.name == "_id" {
        return with_doc(json!({"type": "string"}), "resource id; a,b for several");
    }
    match &param.param_type {
        SearchParamType::String => with_doc(
            json!({"type": "string"}),
            "string: matches the start, case- and accent-insensitive",
        ),
        SearchParamType::Token => with_doc(
            json!({
                "type": "object",
                "properties": {
                    "system": {"type": "string", "description": "code system URI"},
                    "code": {"type": "string"}
                },
                "additionalProperties": false
            }),
            "token: code, with its system when known",
        ),
        SearchParamType::Reference => with_doc(
            json!({"type": "string"}),
            "reference: Type/id, id, or absolute URL",
        ),
        SearchParamType::Uri => with_doc(json!({"type": "string"}), "uri"),
        t @ (SearchParamType::Date | SearchParamType::Number | SearchParamType::Quantity) => {
            let (value, hint) = match t {
                SearchParamType::Date => (
                    json!({"type": "string", "description": "YYYY, YYYY-MM, YYYY-MM-DD or a dateTime"}),
                    "date: one value with a prefix, or a range",
                ),
                SearchParamType::Number => (
                    json!({"type": "number"}),
                    "number: one value with a prefix, or a range",
                ),
                _ => (
                    json!({"type": "number"}),
                    "quantity: one value with a prefix, or a range; unit as system and code",
                ),
            };
            let mut by_value = Map::new();
            by_value.insert(
                "prefix".into(),
                json!({"type": "string", "enum": PREFIXES, "description": "eq (default), ne, gt, lt, ge, le, sa (starts after), eb (ends before), ap (approximately)"}),
            );
            by_value.insert("value".into(), value.clone());
            let mut by_range = Map::new();
            by_range.insert("lower".into(), value.clone());
            by_range.insert("upper".into(), value);
            if *t == SearchParamType::Quantity {
                for o in [&mut by_value, &mut by_range] {
                    o.insert("system".into(), json!({"type": "string"}));
                    o.insert(
                        "code".into(),
                        json!({"type": "string", "description": "unit code"}),
                    );
                }
            }
            let mut by_value = object(by_value, &["value"]);
            by_value.insert("title".into(), json!("by value"));
            let mut by_range = object(by_range, &[]);
            by_range.insert(
                "title".into(),
                json!("by range (inclusive bounds; either may be left out)"),
            );
            with_doc(
                json!({"oneOf": [Value::Object(by_value), Value::Object(by_range)]}),
                hint,
            )
        }
        // Composite, special and unknown types: sent as typed.
        other => with_doc(
            json!({"type": "string"}),
            &format!("{}: FHIR search syntax", clean(other.code(), 32)),
        ),
    }
}

/// The property names of `resource`'s search tool besides its parameters.
pub(crate) const SEARCH_EXTRA: [&str; 2] = ["additional", "max_results"];

fn search_schema(resource: &Resource, max: u32) -> Map<String, Value> {
    let mut properties = Map::new();
    for p in &resource.search_params {
        // Result parameters other than `_count`/`_elements` go in `additional`.
        let described = |what: &str| match p
            .documentation
            .as_deref()
            .map(|d| clean(d, MAX_DESCRIPTION_CHARS))
        {
            Some(d) if !d.is_empty() => format!("{d} ({what})"),
            _ => what.to_owned(),
        };
        if p.name == "_count" {
            properties.insert(
                "_count".into(),
                json!({"type": "integer", "minimum": 1, "description": described("page size asked of the server")}),
            );
            continue;
        }
        if p.name == "_elements" {
            properties.insert(
                "_elements".into(),
                json!({"type": "array", "items": {"type": "string"}, "description": described("only these top-level elements of each resource")}),
            );
            continue;
        }
        if fhirforge_model::RESULT_PARAMETERS.contains(&p.name.as_str()) {
            continue;
        }
        properties.insert(p.name.clone(), param_schema(p));
    }
    properties.insert("additional".into(), pairs_schema(ADDITIONAL));
    properties.insert("max_results".into(), max_results_schema(max));
    object(properties, &[])
}

fn resource_doc(resource: &Resource) -> String {
    resource
        .documentation
        .as_deref()
        .map(|d| clean(d, MAX_DESCRIPTION_CHARS))
        .filter(|d| !d.is_empty())
        .map(|d| format!(" Vendor notes: {d}"))
        .unwrap_or_default()
}

fn full_tools(catalog: &Catalog) -> Vec<ToolSpec> {
    let max = catalog.options.max_results;
    let write = catalog.options.write;
    let mut tools = Vec::new();
    for r in catalog.resources() {
        let ty = &r.resource_type;
        let doc = resource_doc(r);
        if r.supports(ResourceInteraction::SearchType) {
            tools.push(ToolSpec {
                name: format!("search_{ty}"),
                description: format!(
                    "Search {ty} resources (GET {ty}?...). Every property is a search parameter \
                     the server declares; values are checked and encoded by type. Returns at most \
                     max_results resources as JSON, with a summary and the server's warnings.{doc}"
                ),
                input_schema: search_schema(r, max),
                action: Action::Search(Some(ty.clone())),
            });
        }
        if r.supports(ResourceInteraction::Read) {
            let mut p = Map::new();
            p.insert("id".into(), id_schema());
            tools.push(ToolSpec {
                name: format!("read_{ty}"),
                description: format!("Read one {ty} by id (GET {ty}/[id])."),
                input_schema: object(p, &["id"]),
                action: Action::Read(Some(ty.clone())),
            });
        }
        let instance = r.supports(ResourceInteraction::HistoryInstance);
        let type_level = r.supports(ResourceInteraction::HistoryType);
        if instance || type_level {
            let mut p = Map::new();
            p.insert("id".into(), id_schema());
            p.insert("max_results".into(), max_results_schema(max));
            let required: &[&str] = if type_level { &[] } else { &["id"] };
            let what = match (instance, type_level) {
                (true, true) => "of one resource (with id) or of the whole type (without)",
                (true, false) => "of one resource",
                _ => "of the whole type (id not supported)",
            };
            tools.push(ToolSpec {
                name: format!("history_{ty}"),
                description: format!("The version history {what} for {ty}, newest first."),
                input_schema: object(p, required),
                action: Action::History(Some(ty.clone())),
            });
        }
        for op in &r.operations {
            let bare = op.name.trim_start_matches('$');
            if !tool_name_ok(bare) {
                continue;
            }
            tools.push(ToolSpec {
                name: format!("op_{ty}_{bare}"),
                description: operation_description(ty, bare, op.documentation.as_deref(), write),
                input_schema: operation_schema(write, None),
                action: Action::Operation(Some((ty.clone(), bare.to_owned()))),
            });
        }
        if !write {
            continue;
        }
        for (interaction, action, description) in [
            (
                ResourceInteraction::Create,
                Action::Create(Some(ty.clone())),
                format!("Create a {ty} (POST {ty}). WRITES to the EHR."),
            ),
            (
                ResourceInteraction::Update,
                Action::Update(Some(ty.clone())),
                format!("Replace the {ty} with this id (PUT {ty}/[id]). WRITES to the EHR."),
            ),
            (
                ResourceInteraction::Patch,
                Action::Patch(Some(ty.clone())),
                format!("Change the {ty} with this id by JSON Patch (PATCH {ty}/[id]). WRITES to the EHR."),
            ),
            (
                ResourceInteraction::Delete,
                Action::Delete(Some(ty.clone())),
                format!("Delete the {ty} with this id (DELETE {ty}/[id]). WRITES to the EHR."),
            ),
        ] {
            if r.supports(interaction) {
                tools.push(ToolSpec {
                    name: format!("{}_{ty}", action.kind()),
                    description,
                    input_schema: write_schema(&action, None),
                    action,
                });
            }
        }
    }
    tools
}

fn tool_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn operation_description(ty: &str, name: &str, doc: Option<&str>, write: bool) -> String {
    let doc = doc
        .map(|d| clean(d, MAX_DESCRIPTION_CHARS))
        .filter(|d| !d.is_empty())
        .map(|d| format!(" Vendor notes: {d}"))
        .unwrap_or_default();
    let how = if write {
        "GET with `parameters` as the query, or POST with a FHIR Parameters `body`"
    } else {
        "GET with `parameters` as the query (read-only mode: no POST)"
    };
    format!("Invoke ${name} on {ty} (or one {ty} with id): {how}.{doc}")
}

fn operation_schema(write: bool, compact: Option<(&[String], &[String])>) -> Map<String, Value> {
    let mut p = Map::new();
    if let Some((types, names)) = compact {
        p.insert(
            "resourceType".into(),
            json!({"type": "string", "enum": types}),
        );
        p.insert(
            "operation".into(),
            json!({"type": "string", "enum": names, "description": "without the $"}),
        );
    }
    p.insert("id".into(), id_schema());
    p.insert(
        "parameters".into(),
        pairs_schema("Operation parameters as NAME=VALUE pairs, sent in the query"),
    );
    if write {
        p.insert(
            "body".into(),
            json!({"type": "object", "description": "A FHIR Parameters resource to POST instead of the query"}),
        );
    }
    let required: &[&str] = if compact.is_some() {
        &["resourceType", "operation"]
    } else {
        &[]
    };
    object(p, required)
}

fn write_schema(action: &Action, types: Option<&[String]>) -> Map<String, Value> {
    let mut p = Map::new();
    let mut required = Vec::new();
    if let Some(types) = types {
        p.insert(
            "resourceType".into(),
            json!({"type": "string", "enum": types}),
        );
        required.push("resourceType");
    }
    match action {
        Action::Create(_) => {
            p.insert(
                "resource".into(),
                json!({"type": "object", "description": "The FHIR resource as JSON, with its resourceType"}),
            );
            required.push("resource");
        }
        Action::Update(_) => {
            p.insert("id".into(), id_schema());
            p.insert(
                "resource".into(),
                json!({"type": "object", "description": "The whole new FHIR resource as JSON"}),
            );
            p.insert(
                "version".into(),
                json!({"type": "string", "description": "Only if this is still the current version (If-Match)"}),
            );
            required.extend(["id", "resource"]);
        }
        Action::Patch(_) => {
            p.insert("id".into(), id_schema());
            p.insert(
                "patch".into(),
                json!({"type": "array", "items": {"type": "object"}, "description": "JSON Patch operations (RFC 6902)"}),
            );
            required.extend(["id", "patch"]);
        }
        _ => {
            p.insert("id".into(), id_schema());
            required.push("id");
        }
    }
    object(p, &required)
}

fn compact_tools(catalog: &Catalog) -> Vec<ToolSpec> {
    let max = catalog.options.max_results;
    let types_with = |i: ResourceInteraction| -> Vec<String> {
        catalog
            .resources()
            .filter(|r| r.supports(i))
            .map(|r| r.resource_type.clone())
            .collect()
    };
    let mut tools = Vec::new();
    let searchable = types_with(ResourceInteraction::SearchType);
    if !searchable.is_empty() {
        let mut p = Map::new();
        p.insert(
            "resourceType".into(),
            json!({"type": "string", "enum": searchable}),
        );
        p.insert(
            "parameters".into(),
            pairs_schema("Search parameters as NAME=VALUE pairs in FHIR search syntax (`birthdate`=`ge1970`, `family:exact`=`Smith`, `code`=`system|code`). Names are checked against the declared ones: an unknown name is refused with the closest declared name and the list of declared names"),
        );
        p.insert("max_results".into(), max_results_schema(max));
        tools.push(ToolSpec {
            name: "search".into(),
            description: "Search resources of one type. Returns at most max_results resources as JSON, with a summary and the server's warnings. The declared search parameters of each type are in the capability statement resource.".into(),
            input_schema: object(p, &["resourceType"]),
            action: Action::Search(None),
        });
    }
    let readable = types_with(ResourceInteraction::Read);
    if !readable.is_empty() {
        let mut p = Map::new();
        p.insert(
            "resourceType".into(),
            json!({"type": "string", "enum": readable}),
        );
        p.insert("id".into(), id_schema());
        tools.push(ToolSpec {
            name: "read".into(),
            description: "Read one resource by type and id.".into(),
            input_schema: object(p, &["resourceType", "id"]),
            action: Action::Read(None),
        });
    }
    let mut history = types_with(ResourceInteraction::HistoryInstance);
    for t in types_with(ResourceInteraction::HistoryType) {
        if !history.contains(&t) {
            history.push(t);
        }
    }
    if !history.is_empty() {
        let mut p = Map::new();
        p.insert(
            "resourceType".into(),
            json!({"type": "string", "enum": history}),
        );
        p.insert("id".into(), id_schema());
        p.insert("max_results".into(), max_results_schema(max));
        tools.push(ToolSpec {
            name: "history".into(),
            description: "The version history of one resource (with id) or of a type, as declared."
                .into(),
            input_schema: object(p, &["resourceType"]),
            action: Action::History(None),
        });
    }
    let mut op_types = Vec::new();
    let mut op_names = Vec::new();
    for r in catalog.resources() {
        for op in &r.operations {
            let bare = op.name.trim_start_matches('$');
            if !tool_name_ok(bare) {
                continue;
            }
            if !op_types.contains(&r.resource_type) {
                op_types.push(r.resource_type.clone());
            }
            if !op_names.iter().any(|n| n == bare) {
                op_names.push(bare.to_owned());
            }
        }
    }
    if !op_names.is_empty() {
        tools.push(ToolSpec {
            name: "operation".into(),
            description: "Invoke a declared $operation on a type (or one resource with id).".into(),
            input_schema: operation_schema(catalog.options.write, Some((&op_types, &op_names))),
            action: Action::Operation(None),
        });
    }
    if catalog.options.write {
        for (interaction, action, description) in [
            (
                ResourceInteraction::Create,
                Action::Create(None),
                "Create a resource. WRITES to the EHR.",
            ),
            (
                ResourceInteraction::Update,
                Action::Update(None),
                "Replace a resource by id. WRITES to the EHR.",
            ),
            (
                ResourceInteraction::Patch,
                Action::Patch(None),
                "Change a resource by JSON Patch. WRITES to the EHR.",
            ),
            (
                ResourceInteraction::Delete,
                Action::Delete(None),
                "Delete a resource by id. WRITES to the EHR.",
            ),
        ] {
            let types = types_with(interaction);
            if !types.is_empty() {
                tools.push(ToolSpec {
                    name: action.kind().into(),
                    description: description.into(),
                    input_schema: write_schema(&action, Some(&types)),
                    action,
                });
            }
        }
    }
    tools
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_cleaned_and_capped() {
        assert_eq!(clean("a <b>bold</b>\n\tword\u{7}", 100), "a bold word");
        let long = "word ".repeat(100);
        let cut = clean(&long, 20);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(cut.chars().count() <= 21, "{cut}");
        assert_eq!(clean("", 10), "");
    }

    #[test]
    fn operation_names_that_are_not_tool_names_are_skipped() {
        assert!(tool_name_ok("group-export"));
        assert!(!tool_name_ok("bad name"));
        assert!(!tool_name_ok(""));
    }
}
