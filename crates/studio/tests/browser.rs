//! The studio in a real headless Chromium, driven over WebDriver (chromedriver, `fantoccini`),
//! against a real FHIR server (hfs, one for this binary) seeded with five patients:
//!
//! | family    | given | birthDate  |
//! |-----------|-------|------------|
//! | Smith     | John  | 1965-03-15 |
//! | Smith     | Jane  | 1970-06-01 |
//! | Smithson  | Sam   | 1975-12-31 |
//! | Jones     | Ann   | 1980-01-01 |
//! | Goldsmith | Gail  | 1985-07-20 |
//!
//! One browser session runs the scenarios in turn. Chromium, chromedriver and axe-core come from
//! `scripts/install-browser.sh`. Screenshots go to `target/studio-screenshots/`; the overview's
//! render time and the form-change-to-preview times are printed (measured, not asserted tightly).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod support;

use fantoccini::{Client as Browser, ClientBuilder, Locator};
use fhirforge_codegen::{GenerateOptions, ParamOptions, RangeMode};
use fhirforge_runtime::Client;
use fhirforge_studio::StudioOptions;
use fhirforge_testkit::hfs::Hfs;
use fhirforge_testkit::stub::{Reply, Stub};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{epic_bytes, root, start, Running};

/// chromedriver, killed when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn driver() -> Driver {
    let port = free_port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (run scripts/install-browser.sh)");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        child,
        url,
        _profile: tempfile::tempdir().unwrap(),
    }
}

async fn browser(driver: &Driver) -> Browser {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Waits up to 30 s (CI runs every test binary at once on two cores) for a JavaScript
/// expression to be truthy.
async fn wait_js(b: &Browser, expr: &str, what: &str) {
    for _ in 0..600 {
        let v = b
            .execute(&format!("return !!({expr});"), vec![])
            .await
            .unwrap();
        if v == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what} ({expr})");
}

async fn js(b: &Browser, body: &str) -> Value {
    b.execute(body, vec![]).await.unwrap()
}

async fn text(b: &Browser, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn open(b: &Browser, s: &Running, hash: &str) {
    b.goto(&s.url).await.unwrap();
    wait_js(
        b,
        "document.body.dataset.ready === 'true'",
        "the studio to load",
    )
    .await;
    if !hash.is_empty() {
        js(b, &format!("location.hash = {}; return null;", json!(hash))).await;
    }
}

async fn screenshot(b: &Browser, name: &str) {
    let dir = root().join("target/studio-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), b.screenshot().await.unwrap()).unwrap();
}

fn axe_source() -> String {
    let path: PathBuf = root().join("crates/studio/tests/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} ({e}): run scripts/install-browser.sh", path.display()))
}

/// Injects axe-core (WebDriver scripts are not subject to the page's CSP) and fails on any
/// critical or serious violation; every input, select and textarea must have a label too.
async fn accessible(b: &Browser, page: &str) {
    js(b, &format!("{}\nreturn null;", axe_source())).await;
    let result = b
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document).then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length])));",
            vec![],
        )
        .await
        .unwrap();
    let violations = result.as_array().unwrap();
    // The issue asks for no critical violation; serious ones are refused too.
    let grave: Vec<&Value> = violations
        .iter()
        .filter(|v| v[1] == "critical" || v[1] == "serious")
        .collect();
    println!("axe {page}: {violations:?}");
    assert!(
        grave.is_empty(),
        "{page}: critical or serious axe violations {grave:?}"
    );
    let unlabeled = js(
        b,
        "return Array.from(document.querySelectorAll('input, select, textarea'))\
           .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))\
           .map(e => e.outerHTML);",
    )
    .await;
    assert_eq!(unlabeled, json!([]), "{page}: inputs without a label");
}

/// Seeds the five patients; returns the first one's id.
async fn seed(base: &str) -> String {
    let client = Client::builder(base).build().unwrap();
    let mut first = None;
    for (family, given, birth) in [
        ("Smith", "John", "1965-03-15"),
        ("Smith", "Jane", "1970-06-01"),
        ("Smithson", "Sam", "1975-12-31"),
        ("Jones", "Ann", "1980-01-01"),
        ("Goldsmith", "Gail", "1985-07-20"),
    ] {
        let patient = json!({
            "resourceType": "Patient",
            "name": [{"family": family, "given": [given]}],
            "birthDate": birth,
        });
        let created = client.create("Patient", &patient).await.unwrap();
        first.get_or_insert_with(|| created.id().unwrap().to_owned());
    }
    first.unwrap()
}

fn epic() -> fhirforge_model::Connector {
    fhirforge_parse::read_capability_statement(&epic_bytes(), None, &Default::default())
        .unwrap()
        .connector
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_in_headless_chromium() {
    let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
    let john = seed(hfs.base_url()).await;
    let driver = driver().await;
    let b = browser(&driver).await;

    let hfs_client = Client::builder(hfs.base_url()).build().unwrap();
    let studio = start(&epic_bytes(), StudioOptions::default(), Some(hfs_client)).await;

    overview_lists_every_resource(&b, &studio).await;
    patient_search_has_the_declared_parameters_and_epic_docs(&b, &studio).await;
    range_with_exclusive_upper_bound_is_what_the_server_received(&b, &studio).await;
    send_shows_matches_next_page_and_operation_outcome(&b, &studio).await;
    the_search_form_works_with_the_keyboard_alone(&b, &studio).await;
    the_read_tab_reads_a_patient(&b, &studio, &john).await;
    preview_equals_the_request_a_stub_recorded(&b).await;
    value_only_option_hides_the_switch(&b).await;
    generate_and_diff_pages_render_accessibly(&b, &studio).await;
    diff_of_a_file_and_a_server(&b, &studio, hfs.base_url()).await;
    hostile_spec_runs_no_script_and_unauthenticated_requests_fail(&b).await;

    let timings = js(&b, "return window.__studioTimings;").await;
    println!("timings of the last page: {timings}");
    b.close().await.unwrap();
}

async fn overview_lists_every_resource(b: &Browser, s: &Running) {
    open(b, s, "").await;
    wait_js(b, "document.getElementById('matrix')", "the matrix").await;
    let listed = js(
        b,
        "return Array.from(document.querySelectorAll('#matrix tbody tr')).map(r => r.dataset.resource);",
    )
    .await;
    let declared: Vec<String> = epic()
        .resources
        .iter()
        .map(|r| r.resource_type.clone())
        .collect();
    assert_eq!(listed, json!(declared));
    assert!(
        declared.len() > 50,
        "Epic R4 declares {} resources",
        declared.len()
    );
    // The filter box narrows the matrix.
    let filter = b.find(Locator::Css("input[type=search]")).await.unwrap();
    filter.send_keys("Patient").await.unwrap();
    let visible = js(
        b,
        "return Array.from(document.querySelectorAll('#matrix tbody tr')).filter(r => !r.hidden).map(r => r.dataset.resource);",
    )
    .await;
    assert!(visible
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v.as_str().unwrap().contains("Patient")));
    assert!(visible.as_array().unwrap().contains(&json!("Patient")));
    filter.clear().await.unwrap();
    js(b, "document.querySelector('input[type=search]').dispatchEvent(new Event('input')); return null;").await;
    let timing = js(b, "return window.__studioTimings.overview;").await;
    println!(
        "overview render (Epic R4): {:.1} ms building the page, {:.1} ms from the script's start \
         (spec fetched and page built), {:.1} ms since navigation start",
        timing["render"].as_f64().unwrap(),
        timing["sinceScript"].as_f64().unwrap(),
        timing["sinceNavigation"].as_f64().unwrap()
    );
    screenshot(b, "overview.png").await;
    accessible(b, "overview").await;
}

async fn patient_search_has_the_declared_parameters_and_epic_docs(b: &Browser, s: &Running) {
    open(b, s, "#/r/Patient").await;
    wait_js(b, "document.getElementById('preview-url') && document.getElementById('preview-url').textContent", "the preview").await;
    let shown = js(
        b,
        "return Array.from(document.querySelectorAll('#search-form .param')).map(p => [p.dataset.param, p.querySelector('.doc').textContent]);",
    )
    .await;
    let epic = epic();
    let patient = epic.resource("Patient").unwrap();
    let declared: Vec<Value> = patient
        .search_params
        .iter()
        .map(|p| json!([p.name, p.documentation.clone().unwrap_or_default()]))
        .collect();
    assert_eq!(shown, json!(declared));
    let family = text(b, ".param[data-param=family] .doc").await;
    assert!(
        family.starts_with("Search for Patient resources by family (last) name."),
        "{family}"
    );
    accessible(b, "Patient search").await;
}

/// Sets a text field the way a person types: focus, keys, events.
/// Clicks the element `css` selects.
async fn click(b: &Browser, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

/// Chooses `value` in the `<select>` that `css` selects.
async fn choose(b: &Browser, css: &str, value: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("choosing {value} in {css}: {e}"));
}

async fn type_into(b: &Browser, css: &str, keys: &str) {
    let e = b.find(Locator::Css(css)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(keys).await.unwrap();
}

async fn range_with_exclusive_upper_bound_is_what_the_server_received(b: &Browser, s: &Running) {
    open(b, s, "#/r/Patient").await;
    wait_js(
        b,
        "document.querySelector('.param[data-param=birthdate]')",
        "the form",
    )
    .await;
    let row = ".param[data-param=birthdate]";
    click(b, &format!("{row} input[type=radio][value=range]")).await;
    type_into(b, &format!("{row} [data-role=lower]"), "1970-01-01").await;
    type_into(b, &format!("{row} [data-role=upper]"), "1980-01-01").await;
    choose(b, &format!("{row} [data-role=upper-bound]"), "exclusive").await;
    type_into(b, "[data-role=additional]", "family:exact=Smith").await;
    let want = "birthdate=ge1970-01-01&birthdate=lt1980-01-01&family%3Aexact=Smith";
    wait_js(
        b,
        &format!(
            "document.getElementById('preview-query').textContent === {}",
            json!(want)
        ),
        "the range preview",
    )
    .await;
    let url = text(b, "#preview-url").await;
    assert_eq!(url, format!("{}/Patient?{want}", s_base_of(b).await));
    let cli = text(b, "#preview-cli").await;
    assert!(
        cli.contains("--range 'birthdate=1970-01-01..<1980-01-01' --param family:exact=Smith"),
        "{cli}"
    );
    let rust = text(b, "#preview-rust").await;
    assert!(rust.contains("Bound::exclusive(\"1980-01-01\")"), "{rust}");
    js(b, "document.querySelector('.param[data-param=birthdate]').scrollIntoView({block: 'center'}); return null;").await;
    screenshot(b, "patient-search-range.png").await;
    preview_timings(b, "range form").await;

    // Send: hfs echoes the query it read in the Bundle's self link.
    click(b, "#send").await;
    wait_js(b, "document.getElementById('result-status')", "the result").await;
    // hfs writes its self link in its own encoding (`family:exact`), so compare the pairs; the
    // stub scenario below compares the bytes.
    let received = text(b, "#result-self").await;
    let pairs = |q: &str| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect::<Vec<_>>()
    };
    assert_eq!(pairs(received.split_once('?').unwrap().1), pairs(want));
    // Only Jane Smith (1970-06-01): John is 1965, Smithson is no exact Smith.
    let rows = js(b, "return Array.from(document.querySelectorAll('#result-table tbody tr')).map(r => r.cells[2].textContent);").await;
    assert_eq!(rows, json!(["Jane Smith · birthDate: 1970-06-01"]));
}

/// The base URL the preview shows (the client's, as the page got it).
async fn s_base_of(b: &Browser) -> String {
    js(
        b,
        "return document.getElementById('preview-url').textContent.split('/Patient')[0];",
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

async fn send_shows_matches_next_page_and_operation_outcome(b: &Browser, s: &Running) {
    open(b, s, "#/r/Patient").await;
    wait_js(
        b,
        "document.querySelector('.param[data-param=family]')",
        "the form",
    )
    .await;
    type_into(b, ".param[data-param=family] [data-role=value]", "Smith").await;
    type_into(b, "[data-role=count]", "2").await;
    click(b, "#send").await;
    wait_js(
        b,
        "document.getElementById('result-table')",
        "the first page",
    )
    .await;
    let ids_of = "return Array.from(document.querySelectorAll('#result-table tbody tr')).map(r => r.cells[2].textContent);";
    let first = js(b, ids_of).await;
    assert_eq!(first.as_array().unwrap().len(), 2, "{first}");
    screenshot(b, "patient-results.png").await;
    accessible(b, "search results").await;
    click(b, "#next-page").await;
    wait_js(
        b,
        &format!(
            "JSON.stringify((function(){{ {ids_of} }})()) !== {}",
            json!(first.to_string())
        ),
        "the next page",
    )
    .await;
    let second = js(b, ids_of).await;
    // String search is starts-with: Smith, Smith, Smithson; three matches over two pages.
    let mut all: Vec<String> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    all.sort();
    assert_eq!(
        all,
        [
            "Jane Smith · birthDate: 1970-06-01",
            "John Smith · birthDate: 1965-03-15",
            "Sam Smithson · birthDate: 1975-12-31"
        ]
    );

    // A value the server refuses: its OperationOutcome, in words.
    type_into(b, "[data-role=additional]", "birthdate=notadate").await;
    click(b, "#send").await;
    wait_js(
        b,
        "document.getElementById('result-outcome')",
        "the OperationOutcome",
    )
    .await;
    assert!(text(b, "#result-status").await.starts_with("Status 400"));
    let outcome = text(b, "#result-outcome").await;
    assert!(
        outcome.contains("error (invalid): The parameter 'birthdate' is invalid"),
        "{outcome}"
    );

    // A Bundle's own warnings (hfs: an unknown _sort) are shown apart from the matches.
    b.find(Locator::Css("[data-role=additional]"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    type_into(b, "[data-role=sort]", "nosuch").await;
    click(b, "#send").await;
    wait_js(b, "document.querySelector('#result-outcome h3') && document.querySelector('#result-outcome h3').textContent === 'Warnings in the Bundle'", "the Bundle's warnings").await;
    assert!(text(b, "#result-status").await.starts_with("Status 200"));
    assert!(text(b, "#result-outcome").await.contains("_sort"));
}

async fn the_search_form_works_with_the_keyboard_alone(b: &Browser, s: &Running) {
    open(b, s, "#/r/Patient").await;
    wait_js(
        b,
        "document.querySelector('.param[data-param=family]')",
        "the form",
    )
    .await;
    js(
        b,
        "document.activeElement.blur(); window.scrollTo(0, 0); return null;",
    )
    .await;
    // Tab from the top of the page to the family field, type, press Enter.
    let mut reached = false;
    for _ in 0..300 {
        b.active_element()
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        let here = js(b, "const e = document.activeElement; return e && e.dataset ? (e.dataset.param || '') + '/' + (e.dataset.role || '') : '';").await;
        if here == json!("family/value") {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the family field");
    let field = b.active_element().await.unwrap();
    field.send_keys("Jones").await.unwrap();
    field.send_keys("\u{E007}").await.unwrap();
    wait_js(
        b,
        "document.getElementById('result-table')",
        "results after Enter",
    )
    .await;
    let rows = js(b, "return Array.from(document.querySelectorAll('#result-table tbody tr')).map(r => r.cells[2].textContent);").await;
    assert_eq!(rows, json!(["Ann Jones · birthDate: 1980-01-01"]));
    preview_timings(b, "keyboard search").await;
}

/// Prints the page's form-change -> preview-updated times (measured in the page).
async fn preview_timings(b: &Browser, what: &str) {
    let previews = js(b, "return window.__studioTimings.previews;").await;
    let mut ms: Vec<f64> = previews
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    ms.sort_by(f64::total_cmp);
    assert!(!ms.is_empty(), "{what}: the preview was updated");
    println!(
        "form change -> preview updated ({what}): median {:.1} ms, max {:.1} ms over {} changes",
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        ms.len()
    );
}

async fn the_read_tab_reads_a_patient(b: &Browser, s: &Running, id: &str) {
    open(b, s, "#/r/Patient/read").await;
    wait_js(
        b,
        "document.querySelector('[data-role=id]')",
        "the read form",
    )
    .await;
    type_into(b, "[data-role=id]", id).await;
    wait_js(
        b,
        &format!(
            "document.getElementById('ix-url').textContent.endsWith({})",
            json!(format!("/Patient/{id}"))
        ),
        "the read preview",
    )
    .await;
    assert_eq!(text(b, "#ix-method").await, "GET");
    click(b, "#ix-send").await;
    wait_js(b, "document.getElementById('ix-json')", "the resource").await;
    let read: Value = serde_json::from_str(&text(b, "#ix-json").await).unwrap();
    assert_eq!(read["name"][0]["family"], "Smith");
    assert_eq!(read["birthDate"], "1965-03-15");
    accessible(b, "Patient read").await;
}

async fn preview_equals_the_request_a_stub_recorded(b: &Browser) {
    let stub =
        Stub::start(|_| Reply::json(200, &json!({"resourceType": "Bundle", "type": "searchset"})))
            .await;
    let client = Client::builder(stub.base_url()).build().unwrap();
    let s = start(&epic_bytes(), StudioOptions::default(), Some(client)).await;
    open(b, &s, "#/r/Patient").await;
    wait_js(
        b,
        "document.querySelector('.param[data-param=birthdate]')",
        "the form",
    )
    .await;
    let row = ".param[data-param=birthdate]";
    click(b, &format!("{row} input[type=radio][value=range]")).await;
    type_into(b, &format!("{row} [data-role=lower]"), "1970").await;
    choose(b, &format!("{row} [data-role=lower-bound]"), "exclusive").await;
    type_into(b, &format!("{row} [data-role=upper]"), "1980-06").await;
    choose(b, &format!("{row} [data-role=upper-bound]"), "exclusive").await;
    type_into(
        b,
        ".param[data-param=given] [data-role=value]",
        "O'Brien, Jr.",
    )
    .await;
    wait_js(
        b,
        "document.getElementById('preview-query').textContent.includes('lt1980-06')",
        "the preview",
    )
    .await;
    let query = text(b, "#preview-query").await;
    click(b, "#send").await;
    wait_js(b, "document.getElementById('result-status')", "the result").await;
    let recorded = stub.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].target, format!("/Patient?{query}"));
    // Values are written as in a FHIR query (as on the CLI): the comma is an OR.
    assert_eq!(
        query,
        "given=O%27Brien%2C+Jr.&birthdate=gt1970&birthdate=lt1980-06"
    );
}

async fn value_only_option_hides_the_switch(b: &Browser) {
    let mut generate = GenerateOptions::default();
    generate.params.insert(
        "Patient.birthdate".into(),
        ParamOptions {
            range: Some(RangeMode::ValueOnly),
        },
    );
    let s = start(
        &epic_bytes(),
        StudioOptions {
            generate,
            ..StudioOptions::default()
        },
        None,
    )
    .await;
    open(b, &s, "#/r/Patient").await;
    wait_js(
        b,
        "document.querySelector('.param[data-param=birthdate]')",
        "the form",
    )
    .await;
    let switches = js(b, "return ['birthdate', 'death-date'].map(n => !!document.querySelector(`.param[data-param=${n}] [data-role=mode]`));").await;
    assert_eq!(
        switches,
        json!([false, true]),
        "value only: birthdate has no value/range switch"
    );
    // The prefix menu (all nine) is still there for a single value.
    let prefixes = js(b, "return Array.from(document.querySelectorAll('.param[data-param=birthdate] [data-role=prefix] option')).map(o => o.value).filter(Boolean);").await;
    assert_eq!(
        prefixes,
        json!(["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"])
    );
    let rust = {
        type_into(b, ".param[data-param=birthdate] [data-role=value]", "1970").await;
        wait_js(
            b,
            "document.getElementById('preview-rust').textContent.includes('DateValue')",
            "the value-only call",
        )
        .await;
        text(b, "#preview-rust").await
    };
    assert!(
        rust.contains(".birthdate(DateValue::new(\"1970\"))"),
        "{rust}"
    );
    // The Generate page switches a parameter to value only for the forms too.
    open(b, &s, "#/generate").await;
    wait_js(
        b,
        "document.getElementById('gen-readme').textContent.length > 0",
        "the README preview",
    )
    .await;
    choose(b, "[data-role=gen-resource]", "Patient").await;
    // The page starts from the studio's options: birthdate value only, death-date not yet.
    wait_js(b, "document.getElementById('gen-module').textContent.includes('pub fn birthdate(self, value: impl Into<rt::search::DateValue>)')", "the Patient module").await;
    assert!(text(b, "#gen-module")
        .await
        .contains("pub fn death_date(self, value: impl Into<rt::search::Date>)"));
    click(b, "[data-role=gen-value-only]").await;
    wait_js(b, "document.getElementById('gen-module').textContent.includes('pub fn death_date(self, value: impl Into<rt::search::DateValue>)')", "the value-only module").await;
    js(b, "location.hash = '#/r/Patient'; return null;").await;
    wait_js(
        b,
        "document.querySelector('.param[data-param=death-date]')",
        "the form",
    )
    .await;
    let any_switch = js(b, "return !!document.querySelector('[data-role=mode]');").await;
    assert_eq!(
        any_switch,
        json!(false),
        "global value only: no switch at all"
    );
}

async fn generate_and_diff_pages_render_accessibly(b: &Browser, s: &Running) {
    open(b, s, "#/generate").await;
    wait_js(
        b,
        "document.getElementById('gen-readme').textContent.length > 0",
        "the README preview",
    )
    .await;
    let readme = text(b, "#gen-readme").await;
    assert!(readme.contains("fhirforge"), "{readme}");
    let href = js(
        b,
        "return document.getElementById('download').getAttribute('href');",
    )
    .await;
    assert!(href
        .as_str()
        .unwrap()
        .starts_with("/api/crate.tar?options="));
    accessible(b, "generate").await;
    open(b, s, "#/diff").await;
    wait_js(b, "document.getElementById('diff-run')", "the diff form").await;
    accessible(b, "diff").await;
}

/// Diff: the Epic file (uploaded through the file input) against hfs's live /metadata, as
/// `fhirforge diff` computes it.
async fn diff_of_a_file_and_a_server(b: &Browser, s: &Running, hfs_base: &str) {
    open(b, s, "#/diff").await;
    wait_js(b, "document.getElementById('diff-run')", "the diff form").await;
    let epic_path = root().join("specs/vendors/epic-r4-capability.json");
    b.find(Locator::Css("[data-role=old-file]"))
        .await
        .unwrap()
        .send_keys(&epic_path.canonicalize().unwrap().to_string_lossy())
        .await
        .unwrap();
    type_into(b, "[data-role=new-url]", hfs_base).await;
    click(b, "#diff-run").await;
    wait_js(b, "document.querySelector('#diff-out ul')", "the changes").await;
    let shown = js(
        b,
        "return Array.from(document.querySelectorAll('#diff-out li')).map(li => li.textContent);",
    )
    .await;
    let options = fhirforge_parse::LoadOptions {
        kind: Some(fhirforge_parse::SpecKind::CapabilityStatement),
        ..Default::default()
    };
    let live = fhirforge_parse::load(hfs_base, &options)
        .await
        .unwrap()
        .parsed
        .connector;
    let expected: Vec<String> = fhirforge_model::diff::diff(&epic(), &live)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(shown, json!(expected));
}

async fn hostile_spec_runs_no_script_and_unauthenticated_requests_fail(b: &Browser) {
    let hostile =
        std::fs::read(root().join("crates/studio/tests/data/hostile-capability.json")).unwrap();
    let s = start(&hostile, StudioOptions::default(), None).await;
    for hash in ["", "#/r/Patient", "#/r/Patient/read", "#/generate"] {
        open(b, &s, hash).await;
        wait_js(b, "document.querySelector('h1')", "a page").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pwned = js(b, "return typeof window.__pwned;").await;
        assert_eq!(pwned, json!("undefined"), "script ran on {hash:?}");
        let injected = js(b, "return document.querySelectorAll('main img, main script, main svg, main a[href^=javascript]').length;").await;
        assert_eq!(
            injected,
            json!(0),
            "markup from the spec became elements on {hash:?}"
        );
    }
    open(b, &s, "").await;
    let body = js(b, "return document.body.textContent;").await;
    let body = body.as_str().unwrap();
    assert!(
        body.contains("<script>window.__pwned=1</script>"),
        "shown as text"
    );
    assert!(
        body.contains("javascript:window.__pwned=4"),
        "shown as text"
    );
    // From the page itself: a state-changing request without the token header is refused.
    let status = b
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/api/preview', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{\"resource\":\"Patient\"}'})\
               .then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(401));
    let wrong = b
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/api/spec', {headers: {'X-Studio-Token': 'wrong'}}).then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(wrong, json!(403));
}
