//! The JSON API and the embedded files, behind the [guard](crate::guard).

use crate::form::{self, SearchForm};
use crate::generate::{self, InitialOptions, PageOptions, SourceId};
use crate::preview::{self, CliTarget};
use crate::{assets, send};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fhirforge_codegen::GenerateOptions;
use fhirforge_parse::{Limits, LoadOptions, Parsed, SpecKind};
use fhirforge_runtime::Client;
use http::{header, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Everything a request may read; shared, never mutated after launch.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) parsed: Parsed,
    pub(crate) source: SourceId,
    pub(crate) options: GenerateOptions,
    pub(crate) client: Option<Client>,
    pub(crate) target: CliTarget,
    pub(crate) default_params: Vec<(String, String)>,
    /// `index.html` with the token in its `<meta>`: a same-origin script reads it for the
    /// header; another origin cannot read the page.
    pub(crate) index: String,
    /// `/api/spec`'s body ([`spec_json`]), filled in at launch.
    pub(crate) spec_json: String,
}

type Shared = State<Arc<App>>;

/// Diff uploads are whole capability statements; Epic's is about 0.5 MB.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/js/{name}", get(script))
        .route(
            "/style.css",
            get(|| async { file("text/css; charset=utf-8", assets::STYLE_CSS) }),
        )
        .route("/api/spec", get(spec))
        .route("/api/preview", post(preview_search))
        .route("/api/send", post(send_search))
        .route("/api/next", post(next_page))
        .route("/api/interaction", post(interaction_preview))
        .route("/api/interaction/send", post(interaction_send))
        .route("/api/generate", post(generate_preview))
        .route("/api/crate.tar", get(download))
        .route("/api/diff", post(diff))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn script(Path(name): Path<String>) -> Response {
    match assets::script(&name) {
        Some(body) => file("text/javascript; charset=utf-8", body),
        None => (StatusCode::NOT_FOUND, "no such script").into_response(),
    }
}

async fn index(State(app): Shared) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        app.index.clone(),
    )
        .into_response()
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// The base URL the preview shows: the client's, else the spec's, else a placeholder.
fn base(app: &App) -> String {
    match &app.client {
        Some(c) => c.base_url().as_str().to_owned(),
        None => app
            .parsed
            .connector
            .base_url
            .clone()
            .unwrap_or_else(|| "[base]".to_owned()),
    }
}

/// The overview's JSON, built once at launch: the spec never changes while the studio runs, and
/// Epic's is about 200 KB.
pub(crate) fn spec_json(app: &App) -> String {
    json!({
        "spec": app.parsed,
        "send": {
            "available": app.client.is_some(),
            // The profile's name only: its credentials stay in this process.
            "profile": app.target.profile,
            "base": app.client.as_ref().map(|c| c.base_url().as_str().to_owned()),
        },
        "generate": InitialOptions::of(&app.options),
        "preview_base": base(app),
    })
    .to_string()
}

async fn spec(State(app): Shared) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.spec_json.clone(),
    )
        .into_response()
}

fn build(app: &App, form: &SearchForm) -> Result<form::Built, String> {
    if app.parsed.connector.resource(&form.resource).is_none() {
        return Err(format!(
            "{:?} is not a resource of this spec",
            form.resource
        ));
    }
    form::build(&app.parsed.connector, form, &app.default_params)
}

async fn preview_search(State(app): Shared, Json(form): Json<SearchForm>) -> Response {
    let built = match build(&app, &form) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    match preview::preview(
        &app.parsed.connector,
        &form.resource,
        &built,
        &base(&app),
        &app.target,
    ) {
        Ok(p) => Json(p).into_response(),
        Err(e) => bad(e),
    }
}

fn no_client() -> Response {
    (
        StatusCode::CONFLICT,
        Json(json!({ "error": "no server to send to: start the studio with a base URL or --profile" })),
    )
        .into_response()
}

async fn send_search(State(app): Shared, Json(form): Json<SearchForm>) -> Response {
    let Some(client) = &app.client else {
        return no_client();
    };
    let built = match build(&app, &form) {
        Ok(b) => b,
        Err(e) => return bad(e),
    };
    Json(send::first_page(client, &form.resource, built.params).await).into_response()
}

#[derive(Debug, Deserialize)]
struct NextPage {
    link: String,
}

async fn next_page(State(app): Shared, Json(next): Json<NextPage>) -> Response {
    let Some(client) = &app.client else {
        return no_client();
    };
    Json(send::next_page(client, &next.link).await).into_response()
}

async fn interaction_preview(
    State(app): Shared,
    Json(form): Json<crate::interaction::InteractionForm>,
) -> Response {
    match crate::interaction::preview(&app.parsed.connector, &form, &base(&app), &app.target) {
        Ok(p) => Json(p).into_response(),
        Err(e) => bad(e),
    }
}

async fn interaction_send(
    State(app): Shared,
    Json(form): Json<crate::interaction::InteractionForm>,
) -> Response {
    let Some(client) = &app.client else {
        return no_client();
    };
    match crate::interaction::send(client, &app.parsed.connector, &form).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => bad(e),
    }
}

/// Generation runs on a blocking thread: a large statement takes tens of milliseconds of CPU.
async fn generated(
    app: Arc<App>,
    page: PageOptions,
) -> Result<(Arc<App>, PageOptions, fhirforge_codegen::GeneratedCrate), String> {
    tokio::task::spawn_blocking(move || {
        let options = generate::options(&app.options, &page)?;
        let krate = generate::crate_for(&app.parsed.connector, &options, &app.source)?;
        Ok((app, page, krate))
    })
    .await
    .map_err(|_| "the generator stopped unexpectedly".to_owned())?
}

async fn generate_preview(State(app): Shared, Json(page): Json<PageOptions>) -> Response {
    match generated(app, page).await {
        Ok((app, page, krate)) => Json(generate::preview(
            &app.parsed.connector,
            &krate,
            &page.resource,
        ))
        .into_response(),
        Err(e) => bad(e),
    }
}

#[derive(Debug, Deserialize)]
struct DownloadQuery {
    /// The page's options as JSON (a GET, so a plain link downloads it).
    #[serde(default)]
    options: Option<String>,
}

async fn download(State(app): Shared, Query(q): Query<DownloadQuery>) -> Response {
    let page: PageOptions = match q.options.as_deref().map(serde_json::from_str).transpose() {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => return bad(format!("options: {e}")),
    };
    let (_, _, krate) = match generated(app, page).await {
        Ok(x) => x,
        Err(e) => return bad(e),
    };
    let files = krate
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.contents.as_bytes()));
    match crate::tar::archive(&krate.package_name, files) {
        Ok(bytes) => {
            // The package name is a Cargo name ([A-Za-z0-9_-]), safe in the header.
            let disposition = format!("attachment; filename=\"{}.tar\"", krate.package_name);
            (
                [
                    (header::CONTENT_TYPE, "application/x-tar".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                bytes,
            )
                .into_response()
        }
        Err(e) => bad(e),
    }
}

/// One side of a diff: the document's text (an uploaded file) or a server's base URL.
#[derive(Debug, Deserialize)]
struct DiffSide {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DiffRequest {
    old: DiffSide,
    new: DiffSide,
}

#[derive(Debug, Serialize)]
struct DiffAnswer {
    changes: Vec<fhirforge_model::diff::Change>,
    lines: Vec<String>,
}

async fn read_side(side: &DiffSide, which: &str) -> Result<fhirforge_model::Connector, String> {
    let limits = Limits::default();
    match (&side.text, &side.url) {
        (Some(text), _) if !text.trim().is_empty() => {
            fhirforge_parse::read_capability_statement(text.as_bytes(), None, &limits)
                .map(|p| p.connector)
                .map_err(|e| format!("{which}: {e}"))
        }
        (_, Some(url)) if fhirforge_parse::is_url(url) => {
            let options = LoadOptions {
                kind: Some(SpecKind::CapabilityStatement),
                ..LoadOptions::default()
            };
            fhirforge_parse::load(url, &options)
                .await
                .map(|l| l.parsed.connector)
                .map_err(|e| format!("{which}: {e}"))
        }
        _ => Err(format!("{which}: give a file or an http(s) base URL")),
    }
}

async fn diff(Json(request): Json<DiffRequest>) -> Response {
    // Two servers' statements are fetched at the same time.
    let (old, new) = match tokio::join!(
        read_side(&request.old, "old"),
        read_side(&request.new, "new")
    ) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return bad(e),
    };
    // The CLI's `fhirforge diff` calls this same function.
    let changes = fhirforge_model::diff::diff(&old, &new);
    let lines = changes.iter().map(ToString::to_string).collect();
    Json(DiffAnswer { changes, lines }).into_response()
}
