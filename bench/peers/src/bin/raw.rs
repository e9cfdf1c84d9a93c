//! The limit: `reqwest` + `serde_json` with nothing else. GET the page, parse it to a `Value`,
//! write each `entry.resource` as one NDJSON line into a `BufWriter` on stdout, follow `next`.
//!
//! Usage: `raw BASE_URL > out.ndjson`

use std::io::Write as _;

use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args().nth(1).ok_or("usage: raw BASE_URL")?;
    let http = reqwest::Client::new();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    let mut url = format!("{base}/Patient?_count=100");
    loop {
        let body = http
            .get(&url)
            .header("Accept", "application/fhir+json")
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let page: Value = serde_json::from_slice(&body)?;
        for entry in page["entry"].as_array().into_iter().flatten() {
            if let Some(resource) = entry.get("resource") {
                serde_json::to_writer(&mut out, resource)?;
                out.write_all(b"\n")?;
            }
        }
        let next = page["link"]
            .as_array()
            .and_then(|links| links.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str());
        match next {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    out.flush()?;
    Ok(())
}
