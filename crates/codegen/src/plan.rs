//! The intermediate representation between the model and the tokens: every name resolved,
//! unique and checked, every option applied. Emitting code from a plan makes no decisions.

use crate::ident::{camel, claim, is_plain_ident, snake};
use crate::options::{AuthKind, GenerateOptions, RangeMode};
use crate::Error;
use fhirforge_model::{
    ConditionalDelete, Connector, GenericOperation, HttpMethod, ListStyle, Operation,
    ParamLocation, Resource, ResourceInteraction, SearchParam, SearchParamType, SimpleType,
    SystemInteraction,
};

/// Methods of the generated `Client` that resource accessors and system operations must avoid.
const CLIENT_METHODS: &[&str] = &[
    "builder",
    "default_builder",
    "from_runtime",
    "runtime",
    "into_runtime",
    "base_url",
    "capabilities",
    "batch",
    "transaction",
    "history_system",
    "smart_backend_credentials",
];

/// Methods of a generated `<Type>Api` that operations must avoid.
const API_METHODS: &[&str] = &[
    "resource_type",
    "read",
    "vread",
    "update",
    "update_with",
    "update_conditional",
    "patch",
    "patch_with",
    "delete",
    "delete_with",
    "delete_conditional",
    "create_with",
    "history_instance",
    "history_type",
    "create",
    "search",
    "search_without_defaults",
    "client",
];

/// Methods of a generated `<Type>Search` that search parameters must avoid.
const SEARCH_METHODS: &[&str] = &[
    "new",
    "param",
    "include",
    "include_iterate",
    "rev_include",
    "rev_include_iterate",
    "elements",
    "summary",
    "total",
    "count",
    "sort",
    "post",
    "params",
    "into_params",
    "request",
    "send",
    "pages",
    "resources",
    "clone",
    "fmt",
];

/// Declared parameters that get a dedicated, result-shaping method instead of a typed one.
const DEDICATED_PARAMS: &[&str] = &[
    "_count",
    "_sort",
    "_include",
    "_revinclude",
    "_elements",
    "_summary",
    "_total",
];

/// Top-level names of the generated module that type stems must avoid.
const TOP_LEVEL: &[&str] = &[
    "Client",
    "ClientBuilder",
    "DEFAULT_BASE_URL",
    "DEFAULT_SEARCH_PARAMS",
    "TOKEN_URL",
];

/// How a search parameter's value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// `search::Date` (range) or `search::DateValue` (value only).
    Date { range: bool },
    /// `search::Number` / `search::NumberValue`.
    Number { range: bool },
    /// `search::Quantity` / `search::QuantityValue`.
    Quantity { range: bool },
    /// `search::Token`.
    Token,
    /// `search::Str`.
    Str,
    /// `search::Reference`.
    Reference,
    /// `search::Uri`.
    Uri,
    /// `search::Composite`.
    Composite,
    /// `search::Special`.
    Special,
    /// A type the runtime has no value type for: passed through as a raw string.
    Raw,
}

impl ValueKind {
    fn of(param: &SearchParam, range_mode: RangeMode) -> Self {
        let range = param.range
            && SearchParam::range_applies(&param.name, &param.param_type)
            && range_mode == RangeMode::ValueOrRange;
        match param.param_type {
            SearchParamType::Date => Self::Date { range },
            SearchParamType::Number => Self::Number { range },
            SearchParamType::Quantity => Self::Quantity { range },
            SearchParamType::Token => Self::Token,
            SearchParamType::String => Self::Str,
            SearchParamType::Reference => Self::Reference,
            SearchParamType::Uri => Self::Uri,
            SearchParamType::Composite => Self::Composite,
            SearchParamType::Special => Self::Special,
            SearchParamType::Resource | SearchParamType::Other(_) => Self::Raw,
        }
    }

    /// The runtime `search` type name, `None` for [`ValueKind::Raw`].
    pub(crate) fn type_name(self) -> Option<&'static str> {
        Some(match self {
            Self::Date { range: true } => "Date",
            Self::Date { range: false } => "DateValue",
            Self::Number { range: true } => "Number",
            Self::Number { range: false } => "NumberValue",
            Self::Quantity { range: true } => "Quantity",
            Self::Quantity { range: false } => "QuantityValue",
            Self::Token => "Token",
            Self::Str => "Str",
            Self::Reference => "Reference",
            Self::Uri => "Uri",
            Self::Composite => "Composite",
            Self::Special => "Special",
            Self::Raw => return None,
        })
    }

    /// Whether the value may be a range.
    pub(crate) fn is_range(self) -> bool {
        matches!(
            self,
            Self::Date { range: true }
                | Self::Number { range: true }
                | Self::Quantity { range: true }
        )
    }

    /// Whether the type is ordered (prefixes apply).
    pub(crate) fn is_ordered(self) -> bool {
        matches!(
            self,
            Self::Date { .. } | Self::Number { .. } | Self::Quantity { .. }
        )
    }
}

/// One search parameter method.
#[derive(Debug, Clone)]
pub(crate) struct ParamPlan {
    /// Wire name (`general-practitioner`).
    pub(crate) wire: String,
    /// Method name (`general_practitioner`).
    pub(crate) method: String,
    /// FHIR type code as declared (`date`, `fancy`).
    pub(crate) type_code: String,
    pub(crate) kind: ValueKind,
    pub(crate) documentation: Option<String>,
    /// Declared for the whole system rather than this resource.
    pub(crate) system_wide: bool,
}

/// One `_include` / `_revinclude` enum variant.
#[derive(Debug, Clone)]
pub(crate) struct IncludePlan {
    pub(crate) variant: String,
    pub(crate) value: String,
}

/// One `$operation` method.
#[derive(Debug, Clone)]
pub(crate) struct OperationPlan {
    pub(crate) wire: String,
    pub(crate) method: String,
    pub(crate) definition: Option<String>,
    pub(crate) documentation: Option<String>,
}

/// One resource type.
#[derive(Debug, Clone)]
pub(crate) struct ResourcePlan {
    pub(crate) wire: String,
    pub(crate) accessor: String,
    pub(crate) api_type: String,
    pub(crate) search_type: String,
    pub(crate) include_type: Option<String>,
    pub(crate) rev_include_type: Option<String>,
    pub(crate) documentation: Option<String>,
    pub(crate) profile: Option<String>,
    pub(crate) interactions: Vec<ResourceInteraction>,
    /// `conditionalUpdate: true`.
    pub(crate) conditional_update: bool,
    /// `conditionalDelete: single | multiple`.
    pub(crate) conditional_delete: bool,
    pub(crate) params: Vec<ParamPlan>,
    pub(crate) includes: Vec<IncludePlan>,
    pub(crate) rev_includes: Vec<IncludePlan>,
    pub(crate) operations: Vec<OperationPlan>,
}

impl ResourcePlan {
    pub(crate) fn supports(&self, interaction: ResourceInteraction) -> bool {
        self.interactions.contains(&interaction)
    }
}

/// One parameter of a generic operation.
#[derive(Debug, Clone)]
pub(crate) struct GenericParamPlan {
    /// Wire name, emitted only as a string literal.
    pub(crate) wire: String,
    /// Argument (or options field) name, a checked identifier.
    pub(crate) arg: String,
    pub(crate) location: ParamLocation,
    pub(crate) required: bool,
    pub(crate) value_type: SimpleType,
    pub(crate) list: Option<ListStyle>,
    pub(crate) documentation: Option<String>,
}

/// How a generic operation takes its request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyPlan {
    /// No body.
    None,
    /// A JSON body, `&serde_json::Value` (`Option<&..>` when not required).
    Json { required: bool },
}

/// One generic (non-FHIR) operation: a method on the generated `Api`.
#[derive(Debug, Clone)]
pub(crate) struct GenericPlan {
    pub(crate) method: HttpMethod,
    /// The absolute path template (server path + document path), emitted only as a literal.
    pub(crate) template: String,
    /// The path as the document writes it, for docs.
    pub(crate) path: String,
    pub(crate) fn_name: String,
    /// The options struct for optional parameters, when there are any.
    pub(crate) options_type: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) documentation: Option<String>,
    pub(crate) params: Vec<GenericParamPlan>,
    pub(crate) body: BodyPlan,
    /// Whether the success response is JSON (returned as `serde_json::Value`).
    pub(crate) returns_json: bool,
    /// The response media type when it is not JSON (not returned).
    pub(crate) other_response: Option<String>,
    pub(crate) deprecated: bool,
}

/// A generic operation without a method, and why.
#[derive(Debug, Clone)]
pub(crate) struct SkippedGeneric {
    pub(crate) method: HttpMethod,
    pub(crate) path: String,
    pub(crate) reason: String,
}

/// The whole generated module.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) name: String,
    pub(crate) fhir_version: String,
    pub(crate) release: Option<&'static str>,
    pub(crate) publisher: Option<String>,
    pub(crate) software: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) auth: Vec<AuthKind>,
    pub(crate) security_description: Option<String>,
    pub(crate) token_url: Option<String>,
    pub(crate) system_interactions: Vec<SystemInteraction>,
    pub(crate) system_operations: Vec<OperationPlan>,
    pub(crate) default_params: Vec<(String, String)>,
    pub(crate) resources: Vec<ResourcePlan>,
    /// The `Client::api()` accessor name, when there are generic operations.
    pub(crate) generic_accessor: Option<String>,
    /// The type `Client::api()` returns.
    pub(crate) generic_type: String,
    pub(crate) generic: Vec<GenericPlan>,
    pub(crate) generic_skipped: Vec<SkippedGeneric>,
}

fn checked(name: String) -> Result<String, Error> {
    if is_plain_ident(&name) {
        Ok(name)
    } else {
        Err(Error::InvalidIdent(name.escape_debug().to_string()))
    }
}

fn operations(ops: &[Operation], reserved: &[&str]) -> Result<Vec<OperationPlan>, Error> {
    let mut taken: Vec<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    let mut out = Vec::new();
    for op in ops {
        let mut candidate = snake(&op.name);
        if taken.contains(&candidate) {
            // `$create` on ChargeItem must not shadow the create interaction.
            candidate = format!("{}_operation", candidate.trim_end_matches('_'));
        }
        out.push(OperationPlan {
            wire: op.name.clone(),
            method: checked(claim(&candidate, &mut taken, false))?,
            definition: op.definition.clone(),
            documentation: op.documentation.clone(),
        });
    }
    Ok(out)
}

fn includes(values: &[String]) -> Vec<IncludePlan> {
    let mut local: Vec<String> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for value in values {
        if seen.contains(&value.as_str()) {
            continue;
        }
        seen.push(value);
        let stem = if value == "*" {
            "All".to_owned()
        } else {
            camel(value)
        };
        out.push(IncludePlan {
            variant: claim(&stem, &mut local, true),
            value: value.clone(),
        });
    }
    out
}

fn resource(
    r: &Resource,
    system_params: &[SearchParam],
    options: &GenerateOptions,
    accessor: String,
    top_level: &mut Vec<String>,
) -> Result<ResourcePlan, Error> {
    // A stem whose derived type names are all free.
    let base = camel(&r.resource_type);
    let mut stem = base.clone();
    let mut n = 2;
    let derived = |s: &str| {
        [
            format!("{s}Api"),
            format!("{s}Search"),
            format!("{s}Include"),
            format!("{s}RevInclude"),
        ]
    };
    while derived(&stem).iter().any(|d| top_level.contains(d)) {
        stem = format!("{base}{n}");
        n += 1;
    }
    let [api_type, search_type, include_type, rev_include_type] = derived(&stem);
    top_level.extend(derived(&stem));

    let searchable = r.supports(ResourceInteraction::SearchType);
    let mut params = Vec::new();
    let mut taken: Vec<String> = SEARCH_METHODS.iter().map(|s| (*s).to_owned()).collect();
    if searchable {
        let own = r.search_params.iter().map(|p| (p, false));
        let system = system_params
            .iter()
            .filter(|p| r.search_param(&p.name).is_none())
            .map(|p| (p, true));
        let all: Vec<(&SearchParam, bool)> = own
            .chain(system)
            .filter(|(p, _)| !DEDICATED_PARAMS.contains(&p.name.as_str()))
            .collect();
        // Names whose wire form already is their identifier claim it first, as in the model.
        let order = (0..all.len())
            .filter(|&i| snake(&all[i].0.name) == all[i].0.name)
            .chain((0..all.len()).filter(|&i| snake(&all[i].0.name) != all[i].0.name));
        let mut methods = vec![String::new(); all.len()];
        for i in order {
            methods[i] = checked(claim(&snake(&all[i].0.name), &mut taken, false))?;
        }
        for ((p, system_wide), method) in all.into_iter().zip(methods) {
            params.push(ParamPlan {
                wire: p.name.clone(),
                method,
                type_code: p.param_type.code().to_owned(),
                kind: ValueKind::of(p, options.range_for(&r.resource_type, &p.name)),
                documentation: p.documentation.clone(),
                system_wide,
            });
        }
    }
    let incl = if searchable {
        includes(&r.search_include)
    } else {
        Vec::new()
    };
    let rev = if searchable {
        includes(&r.search_rev_include)
    } else {
        Vec::new()
    };
    Ok(ResourcePlan {
        wire: r.resource_type.clone(),
        accessor,
        include_type: (!incl.is_empty()).then_some(include_type),
        rev_include_type: (!rev.is_empty()).then_some(rev_include_type),
        api_type,
        search_type,
        documentation: r.documentation.clone(),
        profile: r.profile.clone(),
        interactions: r.interactions.clone(),
        conditional_update: r.conditional_update == Some(true),
        conditional_delete: matches!(
            r.conditional_delete,
            Some(ConditionalDelete::Single | ConditionalDelete::Multiple)
        ),
        params,
        includes: incl,
        rev_includes: rev,
        operations: operations(&r.operations, API_METHODS)?,
    })
}

/// Names a generic operation's arguments may not take: the fixed ones of the emitted method.
const GENERIC_ARGS: &[&str] = &["options", "body", "request"];

/// The path of a server URL (`https://h/api/` → `/api`, `/apis/default/` → `/apis/default`), or
/// `""` when it has none or holds characters a template must not (server variables, quotes).
fn server_path(url: &str) -> String {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let plain = path.starts_with('/')
        && path
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '{' | '}' | '"' | '\\'));
    if plain {
        path.trim_end_matches('/').to_owned()
    } else {
        String::new()
    }
}

fn generic(
    ops: &[GenericOperation],
    top_level: &mut Vec<String>,
) -> Result<(Vec<GenericPlan>, Vec<SkippedGeneric>), Error> {
    let mut fn_taken: Vec<String> = Vec::new();
    let mut plans = Vec::new();
    let mut skipped = Vec::new();
    for op in ops {
        let body = match &op.request_body {
            None => BodyPlan::None,
            Some(b) if b.is_json() => BodyPlan::Json {
                required: b.required,
            },
            Some(b) => {
                skipped.push(SkippedGeneric {
                    method: op.method,
                    path: op.path.clone(),
                    reason: format!("its request body is {}, not JSON", b.media_type),
                });
                continue;
            }
        };
        let fn_name = checked(claim(&snake(&op.rust_name), &mut fn_taken, false))?;
        let mut arg_taken: Vec<String> = GENERIC_ARGS.iter().map(|s| (*s).to_owned()).collect();
        let mut params = Vec::new();
        for p in &op.params {
            params.push(GenericParamPlan {
                wire: p.name.clone(),
                arg: checked(claim(&snake(&p.rust_name), &mut arg_taken, false))?,
                location: p.location,
                required: p.required || p.location == ParamLocation::Path,
                value_type: p.value_type,
                list: p.list,
                documentation: p.documentation.clone(),
            });
        }
        let options_type = if params.iter().any(|p| !p.required) {
            Some(checked(claim(
                &format!("{}Options", camel(&fn_name)),
                top_level,
                true,
            ))?)
        } else {
            None
        };
        let server = op
            .server_url
            .as_deref()
            .map(server_path)
            .unwrap_or_default();
        let (returns_json, other_response) = match &op.response_body {
            Some(b) if b.is_json() => (true, None),
            Some(b) => (false, Some(b.media_type.clone())),
            None => (false, None),
        };
        plans.push(GenericPlan {
            method: op.method,
            template: format!("{server}{}", op.path),
            path: op.path.clone(),
            fn_name,
            options_type,
            summary: op.summary.clone(),
            documentation: op.documentation.clone(),
            params,
            body,
            returns_json,
            other_response,
            deprecated: op.deprecated,
        });
    }
    Ok((plans, skipped))
}

impl Plan {
    /// Resolves every name of `connector` under `options`.
    pub(crate) fn new(connector: &Connector, options: &GenerateOptions) -> Result<Self, Error> {
        let mut client_taken: Vec<String> =
            CLIENT_METHODS.iter().map(|s| (*s).to_owned()).collect();
        let mut top_level: Vec<String> = TOP_LEVEL.iter().map(|s| (*s).to_owned()).collect();
        let has_generic = !connector.generic_operations.is_empty();
        // Claimed before the resources so a resource called `Api` cannot take them (and only
        // when needed, so statements without generic operations keep their names).
        let generic_accessor = if has_generic {
            Some(checked(claim("api", &mut client_taken, false))?)
        } else {
            None
        };
        let generic_type = if has_generic {
            checked(claim("Api", &mut top_level, true))?
        } else {
            "Api".to_owned()
        };
        let mut resources = Vec::new();
        let mut seen_types: Vec<&str> = Vec::new();
        for r in &connector.resources {
            if !options.wants_resource(&r.resource_type)
                || seen_types.contains(&r.resource_type.as_str())
            {
                continue;
            }
            seen_types.push(&r.resource_type);
            let accessor = checked(claim(&snake(&r.resource_type), &mut client_taken, false))?;
            resources.push(resource(
                r,
                &connector.system.search_params,
                options,
                accessor,
                &mut top_level,
            )?);
        }
        let reserved: Vec<&str> = client_taken.iter().map(String::as_str).collect();
        let system_operations = operations(&connector.system.operations, &reserved)?;
        let (generic, generic_skipped) = generic(&connector.generic_operations, &mut top_level)?;
        let software = connector.software.as_ref().and_then(|s| {
            let mut text = s.name.clone()?;
            if let Some(v) = &s.version {
                text = format!("{text} {v}");
            }
            Some(text)
        });
        Ok(Plan {
            name: connector.name.clone(),
            fhir_version: connector.fhir_version.clone(),
            release: connector.fhir_release.map(|r| r.name()),
            publisher: connector.publisher.clone(),
            software,
            base_url: options
                .base_url
                .clone()
                .or_else(|| connector.base_url.clone()),
            auth: options.auth_kinds(connector),
            security_description: connector.security.description.clone(),
            token_url: connector.security.oauth.token.clone(),
            system_interactions: connector.system.interactions.clone(),
            system_operations,
            default_params: options
                .default_params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            resources,
            generic_accessor,
            generic_type,
            generic,
            generic_skipped,
        })
    }
}
