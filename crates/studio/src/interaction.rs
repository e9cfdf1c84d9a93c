//! The resource page's other tabs (read, vread, history, and the writes): the request each makes,
//! the `fhirforge` command and the connector call; reads can be sent. Writes are previewed only:
//! the studio never changes data on a server.

use crate::preview::{lit, shell_quote};
use fhirforge_model::{Connector, ResourceInteraction};
use fhirforge_runtime::Client;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One interaction form.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct InteractionForm {
    pub(crate) resource: String,
    /// The FHIR code (`read`, `history-instance`, ...).
    pub(crate) interaction: String,
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) vid: String,
}

/// The preview of one interaction.
#[derive(Debug, Serialize)]
pub(crate) struct InteractionPreview {
    pub(crate) method: &'static str,
    pub(crate) url: String,
    pub(crate) cli: String,
    pub(crate) rust: String,
    /// Whether Send may run it (reads only).
    pub(crate) sendable: bool,
}

/// What a form asks for, checked against the spec and the runtime's id rule.
struct Checked<'a> {
    interaction: ResourceInteraction,
    resource: &'a str,
    rust_name: String,
    id: &'a str,
    vid: &'a str,
}

fn check<'a>(connector: &'a Connector, form: &'a InteractionForm) -> Result<Checked<'a>, String> {
    let resource = connector
        .resource(&form.resource)
        .ok_or_else(|| format!("{:?} is not a resource of this spec", form.resource))?;
    let interaction = ResourceInteraction::from_code(&form.interaction)
        .filter(|i| *i != ResourceInteraction::SearchType)
        .ok_or_else(|| format!("{:?} is not an interaction form", form.interaction))?;
    if !resource.supports(interaction) {
        return Err(format!(
            "{} does not declare {}",
            resource.resource_type,
            interaction.code()
        ));
    }
    let needs_id = !matches!(
        interaction,
        ResourceInteraction::Create | ResourceInteraction::HistoryType
    );
    let (id, vid) = (form.id.trim(), form.vid.trim());
    // The runtime's own id rule: a valid id needs no escaping in a path segment.
    if needs_id {
        fhirforge_runtime::id::check("id", id).map_err(|e| e.to_string())?;
    }
    if interaction == ResourceInteraction::Vread {
        fhirforge_runtime::id::check("version id", vid).map_err(|e| e.to_string())?;
    }
    Ok(Checked {
        interaction,
        resource: &resource.resource_type,
        rust_name: resource.rust_name.clone(),
        id,
        vid,
    })
}

/// The preview, or why the form is not complete.
pub(crate) fn preview(
    connector: &Connector,
    form: &InteractionForm,
    base: &str,
    target: &crate::preview::CliTarget,
) -> Result<InteractionPreview, String> {
    let c = check(connector, form)?;
    let base = base.trim_end_matches('/');
    let (t, id, vid) = (c.resource, c.id, c.vid);
    let typ = shell_quote(t);
    let (method, path, cli, call, sendable) = match c.interaction {
        ResourceInteraction::Read => (
            "GET",
            format!("{t}/{id}"),
            format!("read {typ} {id}"),
            format!("read({})", lit(id)),
            true,
        ),
        ResourceInteraction::Vread => (
            "GET",
            format!("{t}/{id}/_history/{vid}"),
            format!("vread {typ} {id} {vid}"),
            format!("vread({}, {})", lit(id), lit(vid)),
            true,
        ),
        ResourceInteraction::HistoryInstance => (
            "GET",
            format!("{t}/{id}/_history"),
            format!("history {typ} {id}"),
            format!("history_instance({}).send()", lit(id)),
            true,
        ),
        ResourceInteraction::HistoryType => (
            "GET",
            format!("{t}/_history"),
            format!("history {typ}"),
            "history_type().send()".to_owned(),
            true,
        ),
        ResourceInteraction::Update => (
            "PUT",
            format!("{t}/{id}"),
            format!("update {typ} {id} resource.json"),
            format!("update({}, &resource).send()", lit(id)),
            false,
        ),
        ResourceInteraction::Patch => (
            "PATCH",
            format!("{t}/{id}"),
            format!("patch {typ} {id} patch.json"),
            format!("patch({}, &json_patch).send()", lit(id)),
            false,
        ),
        ResourceInteraction::Delete => (
            "DELETE",
            format!("{t}/{id}"),
            format!("delete {typ} {id}"),
            format!("delete({}).send()", lit(id)),
            false,
        ),
        ResourceInteraction::Create => (
            "POST",
            t.to_owned(),
            format!("create {typ} resource.json"),
            "create(&resource).send()".to_owned(),
            false,
        ),
        ResourceInteraction::SearchType => return Err("search has its own form".to_owned()),
    };
    Ok(InteractionPreview {
        method,
        url: format!("{base}/{path}"),
        cli: format!("fhirforge {cli} {}", target.server_args()),
        rust: format!("let result = client.{}().{call}.await?;", c.rust_name),
        sendable,
    })
}

/// The answer to a sent read.
#[derive(Debug, Default, Serialize)]
pub(crate) struct InteractionResult {
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
    pub(crate) outcome: Vec<String>,
    pub(crate) resource: Option<Value>,
}

/// Sends a read, vread or history through the runtime.
pub(crate) async fn send(
    client: &Client,
    connector: &Connector,
    form: &InteractionForm,
) -> Result<InteractionResult, String> {
    let c = check(connector, form)?;
    let answer = match c.interaction {
        ResourceInteraction::Read => client.read(c.resource, c.id).await,
        ResourceInteraction::Vread => client.vread(c.resource, c.id, c.vid).await,
        ResourceInteraction::HistoryInstance => client
            .history_instance(c.resource, c.id)
            .await
            .map(fhirforge_runtime::Bundle::into_json),
        ResourceInteraction::HistoryType => client
            .history_type(c.resource)
            .await
            .map(fhirforge_runtime::Bundle::into_json),
        _ => return Err("the studio sends reads only; writes are previewed".to_owned()),
    };
    Ok(match answer {
        Ok(resource) => InteractionResult {
            status: Some(200),
            resource: Some(resource),
            ..InteractionResult::default()
        },
        Err(e) => InteractionResult {
            status: e.status().map(|s| s.as_u16()),
            outcome: e
                .operation_outcome()
                .map(crate::send::outcome_lines)
                .unwrap_or_default(),
            error: Some(e.to_string()),
            resource: None,
        },
    })
}
