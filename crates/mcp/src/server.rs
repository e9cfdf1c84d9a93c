//! The MCP handler (on the official Rust SDK, `rmcp`): lists the derived tools, runs calls
//! through [`exec`](crate::exec::run), logs every call, and serves the capability statement as a
//! resource. The stdio transport is here; streamable HTTP is in [`http`](crate::http::serve_http).

use crate::exec::{self, Context, Reply, Trace};
use crate::log::{CallLog, Entry};
use crate::tools::{Action, Catalog, ToolSpec};
use crate::Error;
use fhirforge_model::suggest::did_you_mean;
use fhirforge_runtime::Client;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Instant;

/// The URI of the capability statement resource.
pub const STATEMENT_URI: &str = "fhir://capability-statement";

/// The document the tools were derived from, served as the MCP resource [`STATEMENT_URI`].
#[derive(Debug, Clone)]
pub struct Statement {
    /// The document's text (a CapabilityStatement, or the OpenAPI document it was read from).
    pub text: String,
    /// Its media type (`application/fhir+json`, `application/yaml`, ...).
    pub mime_type: String,
    /// Where it came from (`GET /metadata`, a file name), for the resource description.
    pub source: String,
}

/// Everything the server needs.
#[derive(Debug)]
pub struct Config {
    /// The tools and the model they came from.
    pub catalog: Catalog,
    /// The runtime client every call goes through.
    pub client: Client,
    /// The statement, for the resource.
    pub statement: Statement,
    /// Where call lines go.
    pub log: CallLog,
    /// Parameters added to every search (a profile's defaults).
    pub default_params: Vec<(String, String)>,
}

/// The MCP server: cheap to clone (the HTTP transport makes one per session).
#[derive(Debug, Clone)]
pub struct FhirMcp {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    tools: Vec<Tool>,
}

/// The SDK's tool for a derived one.
pub fn to_tool(spec: &ToolSpec) -> Tool {
    let writes = spec.action.writes();
    let annotations = ToolAnnotations::new()
        .read_only(!writes && !matches!(spec.action, Action::Operation(_)))
        .destructive(matches!(spec.action, Action::Update(_) | Action::Delete(_)))
        .idempotent(!matches!(
            spec.action,
            Action::Create(_) | Action::Patch(_) | Action::Operation(_)
        ));
    Tool::new(
        spec.name.clone(),
        spec.description.clone(),
        Arc::new(spec.input_schema.clone()),
    )
    .with_annotations(annotations)
}

impl FhirMcp {
    /// A server over `config`.
    pub fn new(config: Config) -> Self {
        let tools = config.catalog.tools().iter().map(to_tool).collect();
        Self {
            inner: Arc::new(Inner { config, tools }),
        }
    }

    /// The tools as listed to clients.
    pub fn tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// Runs one call by tool name (what `tools/call` does, without the protocol): for tests and
    /// benchmarks.
    pub async fn call(&self, name: &str, args: Map<String, Value>) -> CallToolResult {
        let started = Instant::now();
        let config = &self.inner.config;
        let Some(tool) = config.catalog.tool(name) else {
            let write_tool = config.catalog.would_be_write_tool(name);
            let text = if write_tool {
                exec::read_only(name)
            } else {
                let names: Vec<&str> = config
                    .catalog
                    .tools()
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect();
                format!(
                    "unknown tool `{}`{}",
                    crate::args::shown(name),
                    did_you_mean(name, &names)
                        .map(|h| format!("; did you mean `{h}`?"))
                        .unwrap_or_default()
                )
            };
            config.log.record(&Entry {
                // Only a name the statement declares is logged, never arbitrary input.
                tool: if write_tool { name } else { "(unknown)" },
                method: "-",
                path: "-",
                params: &[],
                outcome: "refused",
                millis: started.elapsed().as_millis(),
            });
            return CallToolResult::error(vec![ContentBlock::text(text)]);
        };
        let cx = Context {
            catalog: &config.catalog,
            client: &config.client,
            default_params: &config.default_params,
        };
        let mut trace = Trace::default();
        let reply = exec::run(&cx, tool, &args, &mut trace).await;
        let outcome = match &reply {
            Reply::Ok { .. } => "ok",
            Reply::Refused(_) => "refused",
            Reply::Failed(_) => "failed",
        };
        config.log.record(&Entry {
            tool: &tool.name,
            method: trace.method,
            path: if trace.path.is_empty() {
                "-"
            } else {
                &trace.path
            },
            params: &trace.params,
            outcome,
            millis: started.elapsed().as_millis(),
        });
        match reply {
            Reply::Ok { summary, json } => {
                let mut content = vec![ContentBlock::text(summary)];
                if let Some(json) = json {
                    let text = serde_json::to_string(&json).unwrap_or_else(|_| "null".into());
                    content.push(ContentBlock::text(text));
                }
                CallToolResult::success(content)
            }
            Reply::Refused(text) | Reply::Failed(text) => {
                CallToolResult::error(vec![ContentBlock::text(text)])
            }
        }
    }

    /// Serves on stdin/stdout until the client closes the session. Nothing else may write to
    /// stdout meanwhile.
    ///
    /// # Errors
    /// [`Error::Session`] when the session cannot start or fails.
    pub async fn serve_stdio(self) -> Result<(), Error> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        running
            .waiting()
            .await
            .map_err(|e| Error::Session(e.to_string()))?;
        Ok(())
    }
}

impl ServerHandler for FhirMcp {
    fn get_info(&self) -> ServerConfig {
        let connector = self.inner.config.catalog.connector();
        let mode = if self.inner.config.catalog.options().write {
            "Write tools are enabled: create/update/patch/delete change the EHR."
        } else {
            "Read-only: no tool changes data."
        };
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("fhirforge", env!("CARGO_PKG_VERSION")))
        .with_instructions(format!(
            "FHIR tools for {} (FHIR {}), derived from its capability statement (resource {STATEMENT_URI}). \
             Only declared resources, interactions and search parameters are offered; an unknown \
             parameter is refused with the closest declared name. {mode}",
            crate::tools::clean(&connector.name, 80),
            crate::tools::clean(&connector.fhir_version, 16),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.inner.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        Ok(self.call(&request.name, args).await.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let s = &self.inner.config.statement;
        Ok(ListResourcesResult::with_all_items(vec![Resource::new(
            STATEMENT_URI,
            "capability-statement",
        )
        .with_title("The FHIR server's capability statement")
        .with_description(format!("What the tools were derived from ({})", s.source))
        .with_mime_type(s.mime_type.clone())]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != STATEMENT_URI {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", crate::args::shown(&request.uri)),
                None,
            ));
        }
        let s = &self.inner.config.statement;
        Ok(
            ReadResourceResult::new(vec![ResourceContents::text(s.text.clone(), STATEMENT_URI)
                .with_mime_type(s.mime_type.clone())])
            .into(),
        )
    }
}
