//! fhir-sdk (crates.io) with its R4B models: its client's paging search for Patients, each match
//! deserialized into the typed `Patient` and written back as one NDJSON line into a `BufWriter`
//! on stdout.
//!
//! Usage: `fhirsdk BASE_URL > out.ndjson` (pages with `Page::next_page`), or
//! `fhirsdk BASE_URL all-matches` (the README's `Page::all_matches()` stream).

use std::io::Write as _;

use fhir_sdk::client::{Client, SearchParameters};
use fhir_sdk::r4b::resources::Patient;
use fhir_sdk::version::FhirR4B;
use fhir_sdk::TryStreamExt as _;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args.next().ok_or("usage: fhirsdk BASE_URL [all-matches]")?;
    let all_matches = args.next().as_deref() == Some("all-matches");
    let client: Client<FhirR4B> = Client::builder()
        .base_url(format!("{base}/").parse()?)
        .build()?;
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    let first = client
        .search::<Patient>(SearchParameters::empty().and_raw("_count", 100))
        .await?;
    if all_matches {
        let mut stream = std::pin::pin!(first.all_matches());
        while let Some(patient) = stream.try_next().await? {
            serde_json::to_writer(&mut out, &patient)?;
            out.write_all(b"\n")?;
        }
    } else {
        let mut page = first;
        loop {
            for patient in page.matches() {
                serde_json::to_writer(&mut out, patient)?;
                out.write_all(b"\n")?;
            }
            match page.next_page().await {
                Some(next) => page = next?,
                None => break,
            }
        }
    }
    out.flush()?;
    Ok(())
}
