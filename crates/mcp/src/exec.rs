//! Running one tool call through the runtime client: check the arguments, send the request,
//! bound and summarize what came back. Independent of the MCP SDK: the handler turns the
//! [`Reply`] into a tool result.

use crate::args::{self, shown, ArgError};
use crate::tools::{Action, Catalog, ToolSpec};
use fhirforge_model::suggest::did_you_mean;
use fhirforge_model::{Resource, ResourceInteraction};
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::{Bundle, Client, Scope, SearchRequest};
use futures::StreamExt;
use serde_json::{Map, Value};

/// What a call produced.
#[derive(Debug)]
pub enum Reply {
    /// Success: a one-paragraph summary, and the resources (or result) as JSON.
    Ok {
        /// The summary, for the model to read first.
        summary: String,
        /// The resources (an array for searches), the read resource or the operation result.
        json: Option<Value>,
    },
    /// The call was refused before anything was sent (bad argument, undeclared interaction,
    /// read-only mode).
    Refused(String),
    /// The server or the connection failed; an OperationOutcome is put in words.
    Failed(String),
}

/// What the log says about a call (no values).
#[derive(Debug, Default)]
pub struct Trace {
    /// The HTTP method, or `-`.
    pub method: &'static str,
    /// The path with `[id]`.
    pub path: String,
    /// The parameter names sent.
    pub params: Vec<String>,
}

/// The shared state a call needs.
#[derive(Debug)]
pub struct Context<'a> {
    /// The tools and the model.
    pub catalog: &'a Catalog,
    /// The runtime client (auth, retries, errors).
    pub client: &'a Client,
    /// Parameters the profile adds to every search.
    pub default_params: &'a [(String, String)],
}

impl From<ArgError> for Reply {
    fn from(e: ArgError) -> Self {
        Reply::Refused(e.0)
    }
}

/// Puts a runtime error in words: the outcome's issues for an OperationOutcome.
pub fn describe_error(e: &fhirforge_runtime::Error) -> Reply {
    if let Some(outcome) = e.operation_outcome() {
        let status = e.status().map(|s| s.to_string()).unwrap_or_default();
        let mut text =
            format!("The FHIR server refused the request ({status}) with an OperationOutcome:");
        for issue in &outcome.issue {
            text.push_str(&format!("\n- {} ({})", issue.severity, issue.code));
            if let Some(d) = issue.diagnostics.as_deref().or(issue.details_text()) {
                text.push_str(": ");
                text.push_str(&crate::tools::clean(d, 500));
            }
            if !issue.expression.is_empty() {
                text.push_str(&format!(" [at {}]", issue.expression.join(", ")));
            }
        }
        return Reply::Failed(text);
    }
    match e {
        fhirforge_runtime::Error::InvalidInput { .. } | fhirforge_runtime::Error::Search(_) => {
            Reply::Refused(e.to_string())
        }
        _ => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            Reply::Failed(text)
        }
    }
}

fn interaction_of(action: &Action) -> ResourceInteraction {
    match action {
        Action::Search(_) => ResourceInteraction::SearchType,
        Action::Read(_) | Action::Operation(_) => ResourceInteraction::Read,
        Action::History(_) => ResourceInteraction::HistoryInstance,
        Action::Create(_) => ResourceInteraction::Create,
        Action::Update(_) => ResourceInteraction::Update,
        Action::Patch(_) => ResourceInteraction::Patch,
        Action::Delete(_) => ResourceInteraction::Delete,
    }
}

/// The resource the call is about: the tool's own, or (compact mode) the `resourceType`
/// argument, which must be offered with this interaction.
fn resource_for<'a>(
    cx: &Context<'a>,
    fixed: Option<&str>,
    action: &Action,
    args: &Map<String, Value>,
) -> Result<&'a Resource, ArgError> {
    let ty = match fixed {
        Some(t) => t.to_owned(),
        None => args::string(args, "resourceType")?
            .ok_or_else(|| ArgError("`resourceType` is required".into()))?
            .to_owned(),
    };
    let interaction = interaction_of(action);
    let found = cx.catalog.resources().find(|r| {
        r.resource_type == ty
            && match action {
                Action::History(_) => {
                    r.supports(ResourceInteraction::HistoryInstance)
                        || r.supports(ResourceInteraction::HistoryType)
                }
                Action::Operation(_) => true,
                _ => r.supports(interaction),
            }
    });
    found.ok_or_else(|| {
        let offered: Vec<&str> = cx
            .catalog
            .resources()
            .filter(|r| r.supports(interaction))
            .map(|r| r.resource_type.as_str())
            .collect();
        ArgError(format!(
            "`{}` is not a resource type offered for {}{}",
            shown(&ty),
            action.kind(),
            did_you_mean(&ty, &offered)
                .map(|h| format!("; did you mean `{h}`?"))
                .unwrap_or_default()
        ))
    })
}

fn required_id(args: &Map<String, Value>) -> Result<&str, ArgError> {
    args::string(args, "id")?.ok_or_else(|| ArgError("`id` is required".into()))
}

fn object<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a Value, ArgError> {
    match args.get(name) {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(ArgError(format!("`{name}` must be a JSON object"))),
    }
}

/// Runs `tool` with `args`; `trace` is filled in for the log as far as the call got.
pub async fn run(
    cx: &Context<'_>,
    tool: &ToolSpec,
    args: &Map<String, Value>,
    trace: &mut Trace,
) -> Reply {
    trace.method = "-";
    if let Err(e) = args::check_names(tool, args) {
        return e.into();
    }
    match run_checked(cx, tool, args, trace).await {
        Ok(reply) => reply,
        Err(e) => e.into(),
    }
}

async fn run_checked(
    cx: &Context<'_>,
    tool: &ToolSpec,
    args: &Map<String, Value>,
    trace: &mut Trace,
) -> Result<Reply, ArgError> {
    let client = cx.client;
    let connector = cx.catalog.connector();
    let max_limit = cx.catalog.options().max_results;
    match &tool.action {
        Action::Search(fixed) => {
            let r = resource_for(cx, fixed.as_deref(), &tool.action, args)?;
            let ty = r.resource_type.as_str();
            let search = if fixed.is_some() {
                args::full_search(connector, r, args)?
            } else {
                let mut params = SearchParams::new();
                let mut names = Vec::new();
                args::additional(
                    connector,
                    r,
                    &args::pairs(args, "parameters")?,
                    &mut params,
                    &mut names,
                )?;
                args::finish(params, names)?
            };
            let max = args::max_results(args, max_limit)?;
            let mut params = search.params;
            for (n, v) in cx.default_params {
                params.raw(n.clone(), v.clone());
            }
            let has_count = params
                .pairs()
                .is_ok_and(|p| p.iter().any(|(n, _)| n == "_count"));
            if !has_count {
                // One page holds the whole bounded result when the server allows it.
                params.count(u32::try_from(max).unwrap_or(u32::MAX));
            }
            *trace = Trace {
                method: "GET",
                path: format!("/{ty}"),
                params: search.names,
            };
            let request = client.search(ty, params).max_resources(max);
            Ok(collect(request, max, ty, "matched").await)
        }
        Action::History(fixed) => {
            let r = resource_for(cx, fixed.as_deref(), &tool.action, args)?;
            let ty = r.resource_type.as_str();
            let id = args::string(args, "id")?;
            let max = args::max_results(args, max_limit)?;
            let mut params = SearchParams::new();
            params.count(u32::try_from(max).unwrap_or(u32::MAX));
            let scope = match id {
                Some(id) if r.supports(ResourceInteraction::HistoryInstance) => {
                    Scope::Instance(ty, id)
                }
                Some(_) => {
                    return Err(ArgError(format!(
                        "{ty} declares type history only: leave out `id`"
                    )))
                }
                None if r.supports(ResourceInteraction::HistoryType) => Scope::Type(ty),
                None => {
                    return Err(ArgError(format!(
                        "{ty} declares instance history only: `id` is required"
                    )))
                }
            };
            *trace = Trace {
                method: "GET",
                path: if id.is_some() {
                    format!("/{ty}/[id]/_history")
                } else {
                    format!("/{ty}/_history")
                },
                params: Vec::new(),
            };
            let request = client.history(scope, params).max_resources(max);
            Ok(collect(request, max, ty, "versions").await)
        }
        Action::Read(fixed) => {
            let r = resource_for(cx, fixed.as_deref(), &tool.action, args)?;
            let ty = r.resource_type.as_str();
            let id = required_id(args)?;
            *trace = Trace {
                method: "GET",
                path: format!("/{ty}/[id]"),
                params: Vec::new(),
            };
            Ok(match client.read(ty, id).await {
                Ok(resource) => {
                    let version = resource
                        .pointer("/meta/versionId")
                        .and_then(Value::as_str)
                        .map(|v| format!(", version {v}"))
                        .unwrap_or_default();
                    Reply::Ok {
                        summary: format!("Read {ty}/{}{version}.", shown(id)),
                        json: Some(resource),
                    }
                }
                Err(e) => describe_error(&e),
            })
        }
        Action::Operation(fixed) => {
            let (ty, name) = match fixed {
                Some((t, n)) => (t.clone(), n.clone()),
                None => (
                    args::string(args, "resourceType")?
                        .unwrap_or_default()
                        .to_owned(),
                    args::string(args, "operation")?
                        .unwrap_or_default()
                        .trim_start_matches('$')
                        .to_owned(),
                ),
            };
            let declared = cx.catalog.resources().any(|r| {
                r.resource_type == ty
                    && r.operations
                        .iter()
                        .any(|o| o.name.trim_start_matches('$') == name)
            });
            if !declared {
                let names: Vec<String> = cx
                    .catalog
                    .resources()
                    .flat_map(|r| {
                        r.operations.iter().map(move |o| {
                            format!("{}/${}", r.resource_type, o.name.trim_start_matches('$'))
                        })
                    })
                    .collect();
                return Err(ArgError(format!(
                    "the server declares no operation ${} on {} (declared: {})",
                    shown(&name),
                    shown(&ty),
                    names.join(", ")
                )));
            }
            let id = args::string(args, "id")?;
            let body = args.get("body").filter(|v| !v.is_null());
            if body.is_some() && !cx.catalog.options().write {
                return Err(ArgError("read-only mode: operations are sent by GET only, without a body (the server was started without --write)".into()));
            }
            let mut query = SearchParams::new();
            let mut names = Vec::new();
            for (n, v) in args::pairs(args, "parameters")? {
                query.raw(n, v);
                names.push(n.to_owned());
            }
            let scope = Scope::Type(&ty);
            let mut request = client.operation(scope, &name);
            if let Some(id) = id {
                request = request.instance(id);
            }
            *trace = Trace {
                method: if body.is_some() { "POST" } else { "GET" },
                path: match id {
                    Some(_) => format!("/{ty}/[id]/${name}"),
                    None => format!("/{ty}/${name}"),
                },
                params: names,
            };
            let result = match body {
                Some(b) => request.parameters(b).send().await,
                None => request.query(query).send().await,
            };
            Ok(match result {
                Ok(value) => {
                    let summary = match value.get("resourceType").and_then(Value::as_str) {
                        Some("Bundle") => format!(
                            "${name} on {ty} returned a Bundle with {} entries.",
                            value
                                .get("entry")
                                .and_then(Value::as_array)
                                .map_or(0, Vec::len)
                        ),
                        Some(rt) => format!("${name} on {ty} returned a {}.", shown(rt)),
                        None => format!("${name} on {ty} returned no resource."),
                    };
                    Reply::Ok {
                        summary,
                        json: (!value.is_null()).then_some(value),
                    }
                }
                Err(e) => describe_error(&e),
            })
        }
        Action::Create(fixed)
        | Action::Update(fixed)
        | Action::Patch(fixed)
        | Action::Delete(fixed) => {
            if !cx.catalog.options().write {
                return Ok(Reply::Refused(read_only(&tool.name)));
            }
            let r = resource_for(cx, fixed.as_deref(), &tool.action, args)?;
            let ty = r.resource_type.as_str();
            let (method, request) = match &tool.action {
                Action::Create(_) => ("POST", client.create(ty, object(args, "resource")?)),
                Action::Update(_) => {
                    let id = required_id(args)?;
                    let mut req = client.update(ty, id, object(args, "resource")?);
                    if let Some(v) = args::string(args, "version")? {
                        req = req.if_match_version(v);
                    }
                    ("PUT", req)
                }
                Action::Patch(_) => {
                    let id = required_id(args)?;
                    let patch = args.get("patch").filter(|p| p.is_array()).ok_or_else(|| {
                        ArgError("`patch` must be an array of JSON Patch operations".into())
                    })?;
                    ("PATCH", client.patch(ty, id, patch))
                }
                _ => ("DELETE", client.delete(ty, required_id(args)?)),
            };
            *trace = Trace {
                method,
                path: if method == "POST" {
                    format!("/{ty}")
                } else {
                    format!("/{ty}/[id]")
                },
                params: Vec::new(),
            };
            Ok(match request.send().await {
                Ok(response) => {
                    let mut summary = format!("{method} {ty}: {}", response.status());
                    if let Some(id) = response.id() {
                        summary.push_str(&format!(", id {}", shown(id)));
                    }
                    if let Some(v) = response.version_id() {
                        summary.push_str(&format!(", version {}", shown(v)));
                    }
                    summary.push('.');
                    Reply::Ok {
                        summary,
                        json: response.into_resource(),
                    }
                }
                Err(e) => describe_error(&e),
            })
        }
    }
}

/// The refusal of a write tool in read-only mode.
pub fn read_only(tool: &str) -> String {
    format!(
        "refused: `{}` writes to the EHR and this server is read-only (it was started without \
         --write); nothing was sent",
        shown(tool)
    )
}

/// Reads pages until `max` resources were seen; summarizes totals, truncation and warnings.
async fn collect(request: SearchRequest, max: usize, ty: &str, what: &str) -> Reply {
    let mut pages = Box::pin(request.pages());
    let mut matches: Vec<Value> = Vec::new();
    let mut included: Vec<Value> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut total = None;
    let mut more = false;
    let mut count_pages = 0usize;
    while let Some(page) = pages.next().await {
        let page: Bundle = match page {
            Ok(p) => p,
            Err(e) if count_pages == 0 => return describe_error(&e),
            Err(e) => {
                warnings.push(format!("stopped after {count_pages} pages: {e}"));
                break;
            }
        };
        count_pages += 1;
        total = total.or(page.total());
        for outcome in page.outcomes() {
            for issue in &outcome.issue {
                let text = issue
                    .diagnostics
                    .as_deref()
                    .or(issue.details_text())
                    .unwrap_or("");
                warnings.push(format!(
                    "{} ({}): {}",
                    issue.severity,
                    issue.code,
                    crate::tools::clean(text, 300)
                ));
            }
        }
        for m in page.matches() {
            if matches.len() < max {
                matches.push(m.clone());
            } else {
                more = true;
            }
        }
        for i in page.includes() {
            if included.len() < max {
                included.push(i.clone());
            }
        }
        if matches.len() >= max {
            more |= page.next_link().is_some();
            break;
        }
    }
    let mut summary = format!("{} {ty} {what}", matches.len());
    if let Some(t) = total {
        summary.push_str(&format!(" (the server counts {t} in all)"));
    }
    summary.push('.');
    if more || total.is_some_and(|t| t > matches.len() as u64) {
        summary.push_str(&format!(
            " The result is cut at {max} (max_results); narrow the search or raise max_results."
        ));
    }
    if !included.is_empty() {
        summary.push_str(&format!(
            " {} included resources follow the matches.",
            included.len()
        ));
    }
    if !warnings.is_empty() {
        summary.push_str("\nServer warnings:");
        for w in &warnings {
            summary.push_str("\n- ");
            summary.push_str(w);
        }
    }
    matches.extend(included);
    Reply::Ok {
        summary,
        json: Some(Value::Array(matches)),
    }
}
