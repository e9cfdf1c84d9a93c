//! The intermediate representation between the model and the tokens: every name resolved,
//! unique and checked, every option applied. Emitting code from a plan makes no decisions.
//!
//! Every name the model has (accessors, type stems, parameter and operation methods) is read
//! from it, never derived here: [`fhirforge_model::names::assign`] decided them and
//! [`fhirforge_model::names::check`] re-checks them, so `inspect --json` and the generated code
//! agree. The reserved lists (the generated code's own method names) live there too. Only the
//! names the model has no field for (include variants, options structs) are claimed here.

use crate::ident::is_plain_ident;
use crate::options::{AuthKind, GenerateOptions, RangeMode};
use crate::Error;
use fhirforge_model::names::{self, Namespace};
use fhirforge_model::{
    ConditionalDelete, Connector, ExportLevel, GenericOperation, HttpMethod, ListStyle, Operation,
    ParamLocation, Resource, ResourceInteraction, SearchParam, SearchParamType, SimpleType,
    SystemInteraction, RESULT_PARAMETERS,
};
use std::collections::HashSet;

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
        // Result parameters without a builder method of their own (`_contained`, `_maxresults`)
        // are sent as written: the runtime refuses typed values for them.
        if RESULT_PARAMETERS.contains(&param.name.as_str()) {
            return Self::Raw;
        }
        let range = param.range && range_mode == RangeMode::ValueOrRange;
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
    /// Modifiers the server declares for it (`exact`, `missing`), documented on the method.
    pub(crate) modifiers: Vec<String>,
}

/// One `_include` / `_revinclude` enum variant.
#[derive(Debug, Clone)]
pub(crate) struct IncludePlan {
    pub(crate) variant: String,
    pub(crate) value: String,
}

/// One `$operation` method, or a Bulk Data export entry point.
#[derive(Debug, Clone)]
pub(crate) struct OperationPlan {
    /// The name as declared (`group-export`).
    pub(crate) wire: String,
    pub(crate) method: String,
    pub(crate) definition: Option<String>,
    pub(crate) documentation: Option<String>,
    /// `Some` when it is a Bulk Data export entry point ([`Operation::export_level`]): the
    /// method returns the runtime's export request at that level, not an operation request.
    pub(crate) export: Option<ExportLevel>,
}

impl OperationPlan {
    /// The name the server is called with: `export` for an export entry point (Epic declares
    /// `group-export`, the Bulk Data IG invokes `$export`), else the declared name.
    pub(crate) fn invoked(&self) -> &str {
        if self.export.is_some() {
            "export"
        } else {
            &self.wire
        }
    }
}

/// One resource type.
#[derive(Debug, Clone)]
pub(crate) struct ResourcePlan {
    pub(crate) wire: String,
    pub(crate) accessor: String,
    pub(crate) documentation: Option<String>,
    pub(crate) profile: Option<String>,
    pub(crate) interactions: Vec<ResourceInteraction>,
    /// `conditionalCreate` as declared: `true`, the server honours `If-None-Exist` (a
    /// conditional create may be retried); `false`, it says it does not (never retried, whatever
    /// the client's default); absent, the client's default decides.
    pub(crate) conditional_create: Option<bool>,
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
    /// What the spec is (statement, OpenAPI document, live `/metadata`): docs are worded by it.
    pub(crate) source_kind: fhirforge_model::SourceKind,
    pub(crate) fhir_version: String,
    pub(crate) release: Option<&'static str>,
    pub(crate) publisher: Option<String>,
    pub(crate) software: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) auth: Vec<AuthKind>,
    pub(crate) security_description: Option<String>,
    pub(crate) token_url: Option<String>,
    /// The OAuth2 authorize endpoint the statement declares (SMART App Launch).
    pub(crate) authorize_url: Option<String>,
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

/// The operations declared on `owner` (a resource type, `None` at system level).
fn operations(ops: &[Operation], owner: Option<&str>) -> Result<Vec<OperationPlan>, Error> {
    ops.iter()
        .map(|op| {
            Ok(OperationPlan {
                wire: op.name.clone(),
                method: checked(op.rust_name.clone())?,
                definition: op.definition.clone(),
                documentation: op.documentation.clone(),
                export: op.export_level(owner),
            })
        })
        .collect()
}

fn includes(values: &[String]) -> Vec<IncludePlan> {
    let mut local = Namespace::default();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for value in values {
        if !seen.insert(value) {
            continue;
        }
        let stem = if value == "*" {
            "All".to_owned()
        } else {
            names::type_stem(value)
        };
        out.push(IncludePlan {
            variant: local.claim_camel(&stem),
            value: value.clone(),
        });
    }
    out
}

fn resource(
    r: &Resource,
    system_params: &[SearchParam],
    options: &GenerateOptions,
) -> Result<ResourcePlan, Error> {
    let searchable = r.supports(ResourceInteraction::SearchType);
    let mut params = Vec::new();
    if searchable {
        let declared: HashSet<&str> = r.search_params.iter().map(|p| p.name.as_str()).collect();
        let own = r.search_params.iter().map(|p| (p, false));
        let system = system_params
            .iter()
            .filter(|p| !declared.contains(p.name.as_str()))
            .map(|p| (p, true));
        // A result parameter with a builder method of its own (`_count`) is set through that
        // method, which the model names it after.
        let all = own
            .chain(system)
            .filter(|(p, _)| names::result_param_method(&p.name).is_none());
        for (p, system_wide) in all {
            params.push(ParamPlan {
                wire: p.name.clone(),
                method: checked(p.rust_name.clone())?,
                type_code: p.param_type.code().to_owned(),
                kind: ValueKind::of(p, options.range_for(&r.resource_type, &p.name)),
                documentation: p.documentation.clone(),
                system_wide,
                modifiers: p.modifiers.clone(),
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
        accessor: checked(r.rust_name.clone())?,
        documentation: r.documentation.clone(),
        profile: r.profile.clone(),
        interactions: r.interactions.clone(),
        conditional_create: r.conditional_create,
        conditional_update: r.conditional_update == Some(true),
        conditional_delete: matches!(
            r.conditional_delete,
            Some(ConditionalDelete::Single | ConditionalDelete::Multiple)
        ),
        params,
        includes: incl,
        rev_includes: rev,
        operations: operations(&r.operations, Some(&r.resource_type))?,
    })
}

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
    top_level: &mut Namespace,
) -> Result<(Vec<GenericPlan>, Vec<SkippedGeneric>), Error> {
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
        let fn_name = checked(op.rust_name.clone())?;
        let mut params = Vec::new();
        for p in &op.params {
            params.push(GenericParamPlan {
                wire: p.name.clone(),
                arg: checked(p.rust_name.clone())?,
                location: p.location,
                required: p.required || p.location == ParamLocation::Path,
                value_type: p.value_type,
                list: p.list,
                documentation: p.documentation.clone(),
            });
        }
        let options_type = if params.iter().any(|p| !p.required) {
            Some(checked(top_level.claim_camel(&format!(
                "{}Options",
                names::type_stem(&fn_name)
            )))?)
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
        // A model from a reader passes the check and its names are used as they are; a
        // hand-built one whose names break the rules (empty, hostile, colliding) is named by
        // the same function the readers use, never trusted.
        let renamed;
        let connector = if names::check(connector).is_ok() {
            connector
        } else {
            let mut copy = connector.clone();
            names::assign(&mut copy);
            renamed = copy;
            &renamed
        };
        // `api` and `Api` are reserved in the model's lists, so no resource or system operation
        // has them.
        let has_generic = !connector.generic_operations.is_empty();
        let generic_accessor = has_generic.then(|| "api".to_owned());
        let generic_type = "Api".to_owned();
        let mut top_level = Namespace::new(names::RESERVED_TYPE_NAMES);
        let mut resources = Vec::new();
        let mut seen_types: HashSet<&str> = HashSet::new();
        for r in &connector.resources {
            if !options.wants_resource(&r.resource_type) || !seen_types.insert(&r.resource_type) {
                continue;
            }
            resources.push(resource(r, &connector.system.search_params, options)?);
        }
        let system_operations = operations(&connector.system.operations, None)?;
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
            source_kind: connector.source_kind,
            fhir_version: connector.fhir_version.clone(),
            release: connector.fhir_release.map(|r| r.name()),
            publisher: connector.publisher.clone(),
            software,
            // Defence in depth: whatever a reader or an option let through, no user info reaches
            // `DEFAULT_BASE_URL`, `TOKEN_URL` or the README.
            base_url: options
                .base_url
                .as_deref()
                .or(connector.base_url.as_deref())
                .map(fhirforge_model::redact::strip_user_info),
            auth: options.auth_kinds(connector),
            security_description: connector.security.description.clone(),
            token_url: connector
                .security
                .oauth
                .token
                .as_deref()
                .map(fhirforge_model::redact::strip_user_info),
            authorize_url: connector
                .security
                .oauth
                .authorize
                .as_deref()
                .map(fhirforge_model::redact::strip_user_info),
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
