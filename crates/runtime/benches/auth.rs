//! Costs of the auth layer: key generation, client-assertion signing, and the cached-token path
//! every FHIR request takes.
//!
//! `cargo bench -p fhirforge-runtime --bench auth` prints the minimum and median of repeated
//! runs. The cached path is measured against a one-response token endpoint on 127.0.0.1 (a stub
//! in this harness: only the first call reaches it). No timing assertions: the numbers are for
//! the report.

use std::hint::black_box;
use std::time::{Duration, Instant};

use fhirforge_runtime::auth::keys::{self, Algorithm};
use fhirforge_runtime::auth::{AuthProvider, ClientCredentials, ClientSecret};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn report(label: &str, mut times: Vec<Duration>, per: u32) {
    times.sort();
    let runs = times.len();
    println!(
        "{label:<52} min {:>10.3} us   median {:>10.3} us   ({runs} runs)",
        times[0].as_secs_f64() * 1e6 / f64::from(per),
        times[runs / 2].as_secs_f64() * 1e6 / f64::from(per)
    );
}

fn measure(label: &str, runs: usize, mut f: impl FnMut()) {
    f(); // warm up
    let times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    report(label, times, 1);
}

/// Answers every connection with one fixed token response.
async fn token_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = stream.read(&mut buf).await;
                let body =
                    r#"{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/token")
}

fn main() {
    measure("keys::generate(RS384) (2048-bit RSA)", 10, || {
        black_box(keys::generate(Algorithm::Rs384).ok());
    });
    measure("keys::generate(ES384)", 50, || {
        black_box(keys::generate(Algorithm::Es384).ok());
    });
    let claims = json!({"iss": "app", "sub": "app", "aud": "https://ehr.example/token",
        "exp": 1_800_000_000u64, "iat": 1_799_999_760u64, "jti": "bench"});
    for alg in [Algorithm::Rs384, Algorithm::Es384] {
        let key = keys::generate(alg)
            .and_then(|p| p.signing_key())
            .expect("key");
        measure(&format!("sign one {alg} client assertion"), 200, || {
            black_box(key.sign_jwt(None, &claims).ok());
        });
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let url = token_endpoint().await;
        let auth = ClientCredentials::builder("bench")
            .client_secret_basic(ClientSecret::new("bench-secret"))
            .token_url(&url)
            .build()
            .expect("provider");
        let http = fhirforge_runtime::auth::HttpContext::new().expect("http context");
        let start = Instant::now();
        auth.authorization(&http).await.expect("first token");
        report(
            "first authorization() (token request over loopback)",
            vec![start.elapsed()],
            1,
        );
        let per = 10_000u32;
        let mut times = Vec::new();
        for _ in 0..20 {
            let start = Instant::now();
            for _ in 0..per {
                black_box(auth.authorization(&http).await.ok());
            }
            times.push(start.elapsed());
        }
        report("authorization() with a cached token (per call)", times, per);
    });
}
