//! Search and page through results against a local FHIR server.
//!
//! Starts a fresh in-memory hfs on 127.0.0.1 (installed by `scripts/install-hfs.sh`), creates
//! 25 patients in one transaction, then reads them back 10 per page, lazily, and resumes from a
//! saved cursor. No network beyond loopback.
//!
//! ```sh
//! cargo run -p fhirforge-runtime --example search_paging
//! ```

use fhirforge_runtime::search::{Date, SearchParams, Str};
use fhirforge_runtime::{Client, PageCursor};
use fhirforge_testkit::hfs::Hfs;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hfs = Hfs::start().await?;
    let client = Client::builder(hfs.base_url()).build()?;

    let entries: Vec<_> = (0..25)
        .map(|i| {
            json!({
                "resource": {"resourceType": "Patient", "name": [{"family": format!("Example{i:02}")}],
                             "birthDate": format!("{}-01-01", 1960 + i)},
                "request": {"method": "POST", "url": "Patient"}
            })
        })
        .collect();
    client
        .transaction(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
        .await?;

    let mut params = SearchParams::new();
    params.push("family", Str::from("example"));
    params.push("birthdate", Date::between("1965", "1979"));
    params.count(10);
    params.sort("birthdate");

    // Page by page.
    let mut pages = Box::pin(client.search("Patient", params.clone()).pages());
    let first = pages.next().await.ok_or("no first page")??;
    println!("first page: {} patients", first.matches().count());
    drop(pages);

    // Save where we are, resume later (possibly in another process).
    if let Some(cursor) = PageCursor::after(&first) {
        let saved = serde_json::to_string(&cursor)?;
        let cursor: PageCursor = serde_json::from_str(&saved)?;
        let rest: usize = client
            .resume(cursor)
            .map_ok(|page| page.matches().count())
            .try_fold(0, |n, c| async move { Ok(n + c) })
            .await?;
        println!("after resuming: {rest} more");
    }

    // Or resource by resource, with a limit.
    let names: Vec<String> = client
        .search("Patient", params)
        .max_resources(12)
        .resources()
        .map_ok(|p| {
            p["name"][0]["family"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .try_collect()
        .await?;
    println!("first 12 by birth date: {}", names.join(", "));
    Ok(())
}
