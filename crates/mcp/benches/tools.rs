//! `fhirforge mcp` costs: tool listing for Epic R4 (target: median under 100 ms), the size of
//! the Epic tool list (full, `--resources Patient,Observation`, compact), and the per-call
//! overhead over the plain runtime (target: under 5 ms).
//!
//! `cargo bench -p fhirforge-mcp --bench tools` prints minimum and median wall times of repeated
//! runs. The per-call numbers use an in-process HTTP server (a canned searchset Bundle of
//! 20 Patients on 127.0.0.1): the same HTTP request is timed through the runtime alone, through
//! the MCP server's call path without the protocol, and through an MCP client and server (rmcp)
//! over an in-memory pipe. No timing assertions: numbers are for the report, not for pass/fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark: a failure is a broken bench"
)]

use fhirforge_mcp::log::CallLog;
use fhirforge_mcp::tools::{Catalog, Options};
use fhirforge_mcp::{Config, FhirMcp, Statement};
use fhirforge_runtime::search::{SearchParams, Str};
use fhirforge_runtime::Client;
use rmcp::model::{CallToolRequestParams, ClientConfig, InitializeResult};
use rmcp::service::serve_directly;
use rmcp::{RoleClient, RoleServer};
use serde_json::{json, Map, Value};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(label: &str, mut times: Vec<Duration>) -> Duration {
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{label:<58} min {:>8.3} ms  median {:>8.3} ms  ({} runs)",
        ms(times[0]),
        ms(median),
        times.len()
    );
    median
}

fn measure(label: &str, runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    report(label, times)
}

async fn measure_async<F: std::future::Future<Output = ()>>(
    label: &str,
    runs: usize,
    mut f: impl FnMut() -> F,
) -> Duration {
    f().await;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f().await;
        times.push(start.elapsed());
    }
    report(label, times)
}

fn server(catalog: Catalog, client: Client) -> FhirMcp {
    FhirMcp::new(Config {
        catalog,
        client,
        statement: Statement {
            text: "{}".into(),
            mime_type: "application/fhir+json".into(),
            source: "bench".into(),
        },
        log: CallLog::to_writer(std::io::sink()),
        default_params: Vec::new(),
    })
}

fn list_bytes(catalog: &Catalog) -> usize {
    let tools: Vec<_> = catalog
        .tools()
        .iter()
        .map(fhirforge_mcp::server::to_tool)
        .collect();
    serde_json::to_vec(&rmcp::model::ListToolsResult::with_all_items(tools))
        .unwrap()
        .len()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bytes = std::fs::read(root.join("specs/vendors/epic-r4-capability.json")).unwrap();
    let limits = fhirforge_parse::Limits::default();
    let connector = fhirforge_parse::read_capability_statement(&bytes, None, &limits)
        .unwrap()
        .connector;

    println!("== Epic R4 tool list size (tools/list result, compact JSON)");
    for (label, options) in [
        ("full (read-only)", Options::default()),
        (
            "full --write",
            Options {
                write: true,
                ..Options::default()
            },
        ),
        (
            "--resources Patient,Observation",
            Options {
                resources: Some(vec!["Patient".into(), "Observation".into()]),
                ..Options::default()
            },
        ),
        (
            "--compact",
            Options {
                compact: true,
                ..Options::default()
            },
        ),
        (
            "--compact --write",
            Options {
                compact: true,
                write: true,
                ..Options::default()
            },
        ),
    ] {
        let catalog = Catalog::new(connector.clone(), options).unwrap();
        println!(
            "{label:<40} {:>4} tools {:>9} bytes",
            catalog.tools().len(),
            list_bytes(&catalog)
        );
    }

    println!("== Epic R4 tool listing time");
    let runs = 30;
    measure(
        "parse statement + derive tools (server start)",
        runs,
        || {
            let c = fhirforge_parse::read_capability_statement(&bytes, None, &limits)
                .unwrap()
                .connector;
            let catalog = Catalog::new(c, Options::default()).unwrap();
            black_box(server(
                catalog,
                Client::builder("http://127.0.0.1:9").build().unwrap(),
            ));
        },
    );
    measure("derive tools from the parsed model", runs, || {
        black_box(Catalog::new(connector.clone(), Options::default()).unwrap());
    });
    let full = server(
        Catalog::new(connector.clone(), Options::default()).unwrap(),
        Client::builder("http://127.0.0.1:9").build().unwrap(),
    );
    measure("serialize the tools/list result", runs, || {
        black_box(
            serde_json::to_vec(&rmcp::model::ListToolsResult::with_all_items(
                full.tools().to_vec(),
            ))
            .unwrap(),
        );
    });

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // tools/list through an MCP client and server over an in-memory pipe.
        let pair = |server: FhirMcp| {
            let (a, b) = tokio::io::duplex(1 << 20);
            let info = InitializeResult::default();
            let s = serve_directly::<RoleServer, _, _, _, _>(server, a, Some(ClientConfig::default()));
            let c = serve_directly::<RoleClient, _, _, _, _>((), b, Some(info.into()));
            (s, c)
        };
        let (_s, client) = pair(full.clone());
        measure_async("tools/list round trip (rmcp client <-> server)", runs, || async {
            black_box(client.list_all_tools().await.unwrap());
        })
        .await;

        // Per-call overhead against the in-process stub.
        let patients: Vec<Value> = (0..20)
            .map(|i| json!({"fullUrl": format!("urn:p{i}"), "search": {"mode": "match"}, "resource": {"resourceType": "Patient", "id": format!("p{i}"), "name": [{"family": "Smith", "given": ["A"]}], "birthDate": "1970-01-01"}}))
            .collect();
        let bundle = json!({"resourceType": "Bundle", "type": "searchset", "total": 20, "entry": patients});
        // An in-process HTTP server (axum, TCP_NODELAY) answering every search with the
        // canned Bundle: the testkit's stub writes head and body separately, and Nagle plus
        // delayed ACKs would add ~40 ms to each call there, hiding what is measured here.
        let body = serde_json::to_vec(&bundle).unwrap();
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/fhir+json")], body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::builder(&base).build().unwrap();
        let runs = 200;
        let plain = measure_async("search: runtime only (send + collect matches)", runs, || async {
            let mut params = SearchParams::new();
            params.push("family", Str::new("Smith"));
            params.count(50);
            let page = client.search("Patient", params).send().await.unwrap();
            black_box(page.into_matches());
        })
        .await;
        let mcp = server(
            Catalog::new(connector.clone(), Options::default()).unwrap(),
            client.clone(),
        );
        let args: Map<String, Value> = json!({"family": "Smith", "birthdate": {"lower": "1960", "upper": "1980"}})
            .as_object()
            .cloned()
            .unwrap();
        let direct = measure_async("search: FhirMcp::call (checks, encode, summary)", runs, || async {
            let r = mcp.call("search_Patient", args.clone()).await;
            assert_eq!(r.is_error, Some(false));
            black_box(r);
        })
        .await;
        let (_s2, mcp_client) = pair(mcp.clone());
        let protocol = measure_async("search: tools/call via rmcp client <-> server", runs, || async {
            let r = mcp_client
                .call_tool(CallToolRequestParams::new("search_Patient").with_arguments(args.clone()))
                .await
                .unwrap();
            black_box(r);
        })
        .await;
        println!(
            "per-call overhead over the runtime (medians): call path {:+.3} ms, with the protocol {:+.3} ms",
            ms(direct) - ms(plain),
            ms(protocol) - ms(plain)
        );
        drop(mcp_client);
    });
}
