//! SMART Backend Services against a FHIR server: discover the token endpoint, sign an assertion
//! with your key, read the capability statement and search patients.
//!
//! ```sh
//! fhirforge keys --alg ES384 --out backend-key.pem      # register the printed JWK Set
//! FHIR_BASE=https://fhir.example.org/r4 CLIENT_ID=my-app KEY_FILE=backend-key.pem \
//!     SCOPE="system/Patient.rs" cargo run -p fhirforge-runtime --example backend_auth
//! ```
//!
//! The end-to-end tests (`crates/runtime/tests/it/auth.rs`) run the same flow against a local
//! oidc-provider and hfs behind the testkit's auth gate.

use fhirforge_runtime::auth::keys::SigningKey;
use fhirforge_runtime::auth::ClientCredentials;
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::Client;

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name}").into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = env("FHIR_BASE")?;
    let key = SigningKey::from_pem_file(env("KEY_FILE")?)?;
    let auth = ClientCredentials::builder(env("CLIENT_ID")?)
        .private_key_jwt(key)
        .discover(&base)
        .scope(std::env::var("SCOPE").unwrap_or_else(|_| "system/Patient.rs".into()))
        .build()?;
    let client = Client::builder(&base).auth(auth).build()?;
    let caps = client.capabilities().await?;
    println!("FHIR {}", caps["fhirVersion"]);
    let mut params = SearchParams::new();
    params.count(5);
    let bundle = client.search("Patient", params).send().await?;
    for patient in bundle.matches() {
        println!("Patient/{}", patient["id"].as_str().unwrap_or("?"));
    }
    Ok(())
}
