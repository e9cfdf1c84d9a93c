//! `fhirforge mcp` end to end: the official Rust MCP SDK's client (`rmcp`) spawns the built
//! binary over stdio, with the Epic R4 statement pinned by `--spec` and a profile pointing at a
//! real FHIR server (hfs, one instance for this binary) seeded with five patients. The HTTP
//! transport tests need no FHIR server: they check who may talk to it.
//!
//! Seed (every expected set follows from the FHIR search rules and this table):
//!
//! | key | family    | given | birthDate  |
//! |-----|-----------|-------|------------|
//! | p1  | Smith     | John  | 1965-03-15 |
//! | p2  | Smith     | Jane  | 1970-06-01 |
//! | p3  | Smithson  | Sam   | 1975-12-31 |
//! | p4  | Jones     | Ann   | 1980-01-01 |
//! | p5  | Goldsmith | Gail  | 1985-07-20 |
//!
//! Written resources use families starting with `Zz`, so they never match the searches.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use fhirforge_runtime::Client;
use fhirforge_testkit::hfs::Hfs;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ReadResourceRequestParams, ResourceContents,
};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn epic() -> String {
    root()
        .join("specs/vendors/epic-r4-capability.json")
        .to_string_lossy()
        .into_owned()
}

/// The shared server: hfs, its seed, and a config directory with profile `hfs`.
struct Shared {
    hfs: Hfs,
    ids: BTreeMap<String, String>,
    config: tempfile::TempDir,
}

/// One hfs for every scenario (they run in turn, and the server is killed at the end): the
/// scenarios that write use families no search matches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_against_hfs() {
    let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
    let ids = seed(hfs.base_url()).await;
    let config = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fhirforge"))
        .args(["profile", "add", "hfs", "--base", hfs.base_url()])
        .env("FHIRFORGE_CONFIG_DIR", config.path())
        .status()
        .unwrap();
    assert!(status.success(), "profile add");
    let shared = Shared { hfs, ids, config };
    lists_the_epic_tools_with_the_declared_parameters(&shared).await;
    searches_by_value_by_range_and_with_raw_parameters(&shared).await;
    refuses_unknown_parameters_with_a_suggestion(&shared).await;
    an_operation_outcome_becomes_a_tool_error(&shared).await;
    writes_need_the_write_flag(&shared).await;
}

async fn seed(base: &str) -> BTreeMap<String, String> {
    let client = Client::builder(base).build().unwrap();
    let rows = [
        ("p1", "Smith", "John", "1965-03-15"),
        ("p2", "Smith", "Jane", "1970-06-01"),
        ("p3", "Smithson", "Sam", "1975-12-31"),
        ("p4", "Jones", "Ann", "1980-01-01"),
        ("p5", "Goldsmith", "Gail", "1985-07-20"),
    ];
    let mut ids = BTreeMap::new();
    for (key, family, given, birth) in rows {
        let patient = json!({
            "resourceType": "Patient",
            "name": [{"family": family, "given": [given]}],
            "birthDate": birth,
        });
        let created = client.create("Patient", &patient).await.unwrap();
        ids.insert(key.to_owned(), created.id().unwrap().to_owned());
    }
    ids
}

/// `fhirforge mcp --profile hfs --spec <Epic R4> <extra>` as an MCP client session; the call
/// log goes to `log`.
async fn session(config: &Path, log: &Path, extra: &[&str]) -> RunningService<RoleClient, ()> {
    let spec = epic();
    let mut args = vec!["mcp", "--profile", "hfs", "--spec", spec.as_str(), "--log"];
    let log = log.to_string_lossy().into_owned();
    args.push(&log);
    args.extend_from_slice(extra);
    let command = tokio::process::Command::new(env!("CARGO_BIN_EXE_fhirforge")).configure(|c| {
        c.args(&args)
            .env("FHIRFORGE_CONFIG_DIR", config)
            .current_dir(root());
    });
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

async fn call(client: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    let args: Map<String, Value> = args.as_object().cloned().unwrap();
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap()
}

fn texts(result: &CallToolResult) -> Vec<String> {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

/// The seed keys of the resources in a successful search result.
fn keys(shared: &Shared, result: &CallToolResult) -> BTreeSet<String> {
    assert!(!is_error(result), "{:?}", texts(result));
    let t = texts(result);
    let resources: Value = serde_json::from_str(&t[1]).unwrap();
    resources
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["id"].as_str().unwrap();
            shared
                .ids
                .iter()
                .find(|(_, v)| *v == id)
                .map_or_else(|| format!("unknown:{id}"), |(k, _)| k.clone())
        })
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

async fn lists_the_epic_tools_with_the_declared_parameters(shared: &Shared) {
    let dir = tempfile::tempdir().unwrap();
    let client = session(shared.config.path(), &dir.path().join("log"), &[]).await;
    let tools = client.list_all_tools().await.unwrap();

    // Against the statement's own JSON, not the model: every declared search and read, no write.
    let statement: Value = serde_json::from_str(&std::fs::read_to_string(epic()).unwrap()).unwrap();
    let names: BTreeSet<String> = tools.iter().map(|t| t.name.to_string()).collect();
    for r in statement["rest"][0]["resource"].as_array().unwrap() {
        let ty = r["type"].as_str().unwrap();
        let codes: Vec<&str> = r["interaction"]
            .as_array()
            .map(|i| i.iter().filter_map(|x| x["code"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            names.contains(&format!("search_{ty}")),
            codes.contains(&"search-type"),
            "{ty}"
        );
        assert_eq!(
            names.contains(&format!("read_{ty}")),
            codes.contains(&"read"),
            "{ty}"
        );
        assert!(
            !names.contains(&format!("create_{ty}")),
            "read-only by default"
        );
    }

    let search = tools.iter().find(|t| t.name == "search_Patient").unwrap();
    let props = search.input_schema["properties"].as_object().unwrap();
    let patient = statement["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Patient")
        .unwrap();
    let mut declared: BTreeSet<String> = patient["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    declared.extend(["additional".to_owned(), "max_results".to_owned()]);
    assert_eq!(props.keys().cloned().collect::<BTreeSet<_>>(), declared);
    assert!(
        props["birthdate"]["oneOf"].is_array(),
        "date: by value or by range"
    );
    assert_eq!(
        props["identifier"]["type"], "object",
        "token: system and code"
    );
    assert_eq!(props["general-practitioner"]["type"], "string", "reference");

    // The statement is a resource.
    let resources = client.list_all_resources().await.unwrap();
    assert_eq!(resources.len(), 1);
    let read = client
        .read_resource(ReadResourceRequestParams::new(resources[0].uri.clone()))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("not text");
    };
    assert!(text.contains("\"CapabilityStatement\""));
    client.cancel().await.unwrap();
}

async fn searches_by_value_by_range_and_with_raw_parameters(shared: &Shared) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let client = session(shared.config.path(), &log, &[]).await;

    // string: starts-with, so Smithson matches and Goldsmith does not
    let r = call(&client, "search_Patient", json!({"family": "Smith"})).await;
    assert_eq!(keys(shared, &r), set(&["p1", "p2", "p3"]));
    assert!(
        texts(&r)[0].starts_with("3 Patient matched"),
        "{}",
        texts(&r)[0]
    );

    // date by value with a prefix
    let r = call(
        &client,
        "search_Patient",
        json!({"birthdate": {"prefix": "ge", "value": "1975-01-01"}, "family": "Smith"}),
    )
    .await;
    assert_eq!(keys(shared, &r), set(&["p3"]));

    // date by range (inclusive bounds)
    let r = call(
        &client,
        "search_Patient",
        json!({"birthdate": {"lower": "1970-06-01", "upper": "1980-01-01"}}),
    )
    .await;
    assert_eq!(keys(shared, &r), set(&["p2", "p3", "p4"]));

    // an additional raw parameter with a modifier: exact excludes Smithson
    let r = call(
        &client,
        "search_Patient",
        json!({"additional": [{"name": "family:exact", "value": "Smith"}]}),
    )
    .await;
    assert_eq!(keys(shared, &r), set(&["p1", "p2"]));

    // bounded: two of three, and the summary says so
    let r = call(
        &client,
        "search_Patient",
        json!({"family": "Smith", "max_results": 2}),
    )
    .await;
    assert_eq!(keys(shared, &r).len(), 2);
    assert!(texts(&r)[0].contains("cut at 2"), "{}", texts(&r)[0]);

    // read
    let r = call(&client, "read_Patient", json!({"id": shared.ids["p4"]})).await;
    assert!(!is_error(&r), "{:?}", texts(&r));
    let patient: Value = serde_json::from_str(&texts(&r)[1]).unwrap();
    assert_eq!(patient["name"][0]["family"], "Jones");

    client.cancel().await.unwrap();
    // Logged: tools, methods, paths and parameter names; never a value or an id.
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("tool=search_Patient GET /Patient params=[family] -> ok"),
        "{log}"
    );
    assert!(log.contains("params=[family:exact]"), "{log}");
    assert!(
        log.contains("tool=read_Patient GET /Patient/[id] params=[] -> ok"),
        "{log}"
    );
    for secret in ["Smith", "1975", &shared.ids["p4"]] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

async fn refuses_unknown_parameters_with_a_suggestion(shared: &Shared) {
    let dir = tempfile::tempdir().unwrap();
    let client = session(shared.config.path(), &dir.path().join("log"), &[]).await;

    let r = call(&client, "search_Patient", json!({"familly": "Smith"})).await;
    assert!(is_error(&r));
    assert!(
        texts(&r)[0].contains("did you mean `family`?"),
        "{:?}",
        texts(&r)
    );

    let r = call(
        &client,
        "search_Patient",
        json!({"additional": [{"name": "birthdat", "value": "1970"}]}),
    )
    .await;
    assert!(is_error(&r));
    assert!(
        texts(&r)[0].contains("did you mean `birthdate`?"),
        "{:?}",
        texts(&r)
    );

    let r = call(
        &client,
        "search_Patient",
        json!({"birthdate": {"lower": "1990", "upper": "1980"}}),
    )
    .await;
    assert!(is_error(&r), "a reversed range is refused before sending");

    client.cancel().await.unwrap();
}

async fn an_operation_outcome_becomes_a_tool_error(shared: &Shared) {
    let dir = tempfile::tempdir().unwrap();
    let client = session(shared.config.path(), &dir.path().join("log"), &[]).await;
    let r = call(&client, "read_Patient", json!({"id": "no-such-patient"})).await;
    assert!(is_error(&r));
    let text = &texts(&r)[0];
    assert!(text.contains("404"), "{text}");
    assert!(text.contains("OperationOutcome"), "{text}");
    assert!(
        text.contains("error (") || text.contains("fatal ("),
        "the issue in words: {text}"
    );
    client.cancel().await.unwrap();
}

async fn writes_need_the_write_flag(shared: &Shared) {
    let dir = tempfile::tempdir().unwrap();
    let base = shared.hfs.base_url();
    let runtime = Client::builder(base).build().unwrap();
    let resource = json!({"resourceType": "Patient", "name": [{"family": "Zzmcpreadonly"}]});

    // Read-only: create_Patient is not listed, and calling it is refused; nothing is sent.
    let client = session(shared.config.path(), &dir.path().join("log1"), &[]).await;
    let r = call(&client, "create_Patient", json!({"resource": resource})).await;
    assert!(is_error(&r));
    assert!(texts(&r)[0].contains("read-only"), "{:?}", texts(&r));
    client.cancel().await.unwrap();
    let mut params = fhirforge_runtime::search::SearchParams::new();
    params.raw("family", "Zzmcpreadonly");
    let found = runtime.search("Patient", params).send().await.unwrap();
    assert_eq!(
        found.matches().count(),
        0,
        "the refused create sent nothing"
    );

    // With --write: created, and there on the server.
    let client = session(shared.config.path(), &dir.path().join("log2"), &["--write"]).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "create_Patient"));
    assert!(
        !tools.iter().any(|t| t.name == "delete_Patient"),
        "only declared writes: Epic declares no Patient delete"
    );
    let resource = json!({"resourceType": "Patient", "name": [{"family": "Zzmcpwrite"}]});
    let r = call(&client, "create_Patient", json!({"resource": resource})).await;
    assert!(!is_error(&r), "{:?}", texts(&r));
    let created: Value = serde_json::from_str(&texts(&r)[1]).unwrap();
    let id = created["id"].as_str().unwrap();
    let back = runtime.read("Patient", id).await.unwrap();
    assert_eq!(back["name"][0]["family"], "Zzmcpwrite");
    client.cancel().await.unwrap();
}

/// Starts `fhirforge mcp --http ADDR` (no FHIR server needed: the statement is pinned) and
/// returns the child and the bound address from its stderr.
async fn http_server(token: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fhirforge"))
        .args([
            "mcp",
            "--base",
            "http://127.0.0.1:9",
            "--spec",
            &epic(),
            "--http",
            "127.0.0.1:0",
        ])
        .env("FHIRFORGE_MCP_TOKEN", token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server printed its address in time")
            .unwrap()
            .expect("the server exited before listening");
        if let Some(rest) = line.strip_prefix("fhirforge mcp: listening on ") {
            break rest.to_owned();
        }
    };
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_transport_requires_the_token() {
    let token = "test-token-0123456789abcdef";
    let (mut child, url) = http_server(token).await;
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "1"}}
    });
    let http = reqwest::Client::new();
    let send = |auth: Option<String>| {
        let mut req = http
            .post(&url)
            .header("Accept", "application/json, text/event-stream")
            .json(&initialize);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        req.send()
    };
    assert_eq!(send(None).await.unwrap().status(), 401);
    assert_eq!(
        send(Some("Bearer wrong-token-0123456789".into()))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        send(Some(token.to_owned())).await.unwrap().status(),
        401,
        "scheme required"
    );
    let ok = send(Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(ok.status(), 200);
    let body = ok.text().await.unwrap();
    assert!(body.contains("\"serverInfo\""), "{body}");
    assert!(body.contains("fhirforge"), "{body}");
    child.kill().await.unwrap();
}

#[test]
fn http_transport_refuses_a_non_loopback_address() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fhirforge"))
        .args([
            "mcp",
            "--base",
            "http://127.0.0.1:9",
            "--spec",
            &epic(),
            "--http",
            "0.0.0.0:8765",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("loopback only"), "{stderr}");
}
