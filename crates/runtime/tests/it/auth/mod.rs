//! Authentication end to end: a real OAuth2 authorization server (oidc-provider) and a real FHIR
//! server (hfs) behind the testkit's auth gate, which verifies every bearer JWT against the
//! authorization server's JWKS (`iss`, `aud`, `exp`, SMART scope). Nothing here is mocked.
//!
//! Proven combinations: SMART Backend Services `private_key_jwt` with RS384 and ES384 keys (token
//! URL discovered from `.well-known/smart-configuration`, read from the capability statement's
//! `oauth-uris`, or configured), `client_secret_basic`, `client_secret_post`, HTTP basic, and a
//! static bearer token.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fhirforge_runtime::auth::keys::{self, Algorithm, KeyPair, SigningKey};
use fhirforge_runtime::auth::{
    oauth_uris, AccessToken, AuthError, AuthProvider, BasicAuth, BearerToken, ClientCredentials,
    ClientSecret, HttpContext, Password,
};
use fhirforge_runtime::search::SearchParams;
use fhirforge_runtime::time::{Clock as _, ManualClock, SystemClock};
use fhirforge_runtime::{Client, Error};
use fhirforge_testkit::gate::{Gate, GateAuth, GateConfig};
use fhirforge_testkit::hfs::Hfs;
use fhirforge_testkit::oauth::{OAuthServer, OAuthServerBuilder};
use serde_json::{json, Value};

const SCOPE: &str = "system/*.read system/*.write";

/// hfs + the authorization server + the gate in front of hfs.
struct Stack {
    _hfs: Hfs,
    oauth: OAuthServer,
    gate: Gate,
}

impl Stack {
    async fn start(
        ttl: u64,
        algs: &[&str],
        register: impl FnOnce(OAuthServerBuilder) -> OAuthServerBuilder,
    ) -> Stack {
        let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
        let listener = Gate::bind().await.expect("bind gate");
        let base = listener.base_url();
        let oauth = register(
            OAuthServer::builder(&base)
                .access_token_ttl(ttl)
                .scopes(["system/Patient.rs", "system/*.cruds"]),
        )
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let config = GateConfig::bearer_for(hfs.base_url(), &oauth, base, true)
            .signing_algs(algs.iter().copied());
        let gate = listener.serve(config).expect("gate");
        Stack {
            _hfs: hfs,
            oauth,
            gate,
        }
    }

    fn base(&self) -> &str {
        self.gate.base_url()
    }

    async fn token_requests(&self) -> u64 {
        self.oauth
            .token_requests()
            .await
            .expect("token request count")
    }

    fn client(&self, auth: impl AuthProvider) -> Client {
        Client::builder(self.base())
            .auth(auth)
            .build()
            .expect("client")
    }
}

fn new_key(alg: Algorithm) -> (KeyPair, SigningKey) {
    let pair = keys::generate(alg).expect("key generation");
    let key = pair.signing_key().expect("signing key");
    (pair, key)
}

fn patient(family: &str) -> Value {
    json!({"resourceType": "Patient", "name": [{"family": family}]})
}

/// The `AuthError` inside a client error.
fn auth_error(err: &Error) -> &AuthError {
    match err {
        Error::Auth(e) => e,
        other => panic!("expected an auth error, got {other:?}"),
    }
}

/// create, read and search through the gate: three authorized requests.
async fn crud(client: &Client, family: &str) {
    let created = client
        .create("Patient", &patient(family))
        .await
        .expect("create through the gate");
    let id = created.id().expect("id").to_owned();
    let read = client
        .read("Patient", &id)
        .await
        .expect("read through the gate");
    assert_eq!(read["name"][0]["family"], family);
    let mut params = SearchParams::new();
    params.raw("family", family);
    let bundle = client
        .search("Patient", params)
        .send()
        .await
        .expect("search through the gate");
    assert_eq!(bundle.matches().count(), 1);
}

#[tokio::test]
async fn auth_backend_services_es384_discovered_token_is_obtained_used_and_reused() {
    let (pair, key) = new_key(Algorithm::Es384);
    let stack = Stack::start(3600, &["RS384", "ES384"], |b| {
        b.private_key_jwt_client("es-app", "ES384", pair.public_jwks.clone(), SCOPE)
    })
    .await;

    // Without credentials the gate refuses, with a Bearer challenge.
    let anonymous = Client::builder(stack.base()).build().expect("client");
    let err = anonymous.read("Patient", "x").await.expect_err("no token");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(stack.token_requests().await, 0);

    let auth = ClientCredentials::builder("es-app")
        .private_key_jwt(key)
        .discover(stack.base())
        .scope(SCOPE)
        .build()
        .expect("provider");
    let client = stack.client(auth.clone());
    crud(&client, "Esthree").await;
    crud(&client, "Esfour").await;
    assert_eq!(
        auth.token_url().map(|u| u.to_string()),
        Some(stack.oauth.token_url().to_owned())
    );
    assert_eq!(auth.granted_scope().as_deref(), Some(SCOPE));
    // Six authorized FHIR requests, one token.
    assert_eq!(
        stack.token_requests().await,
        1,
        "the token is reused while fresh"
    );
    assert_eq!(stack.gate.stats().distinct_tokens().len(), 1);
    assert_eq!(stack.gate.stats().accepted(), 6);
}

#[tokio::test]
async fn auth_backend_services_rs384_with_token_url_from_capability_statement_oauth_uris() {
    let (pair, key) = new_key(Algorithm::Rs384);
    let stack = Stack::start(3600, &["RS384"], |b| {
        b.private_key_jwt_client(
            "rs-app",
            "RS384",
            pair.public_jwks.clone(),
            "system/Patient.rs system/*.write",
        )
    })
    .await;
    // /metadata is public, as on real EHRs.
    let caps = Client::builder(stack.base())
        .build()
        .expect("client")
        .capabilities()
        .await
        .expect("metadata");
    let token_url = oauth_uris(&caps)
        .and_then(|u| u.token)
        .expect("oauth-uris token");
    assert_eq!(token_url.as_str(), stack.oauth.token_url());

    let auth = ClientCredentials::builder("rs-app")
        .private_key_jwt(key)
        .jku("https://app.example/jwks.json")
        .token_url(token_url.as_str())
        .scope("system/Patient.rs system/*.write")
        .build()
        .expect("provider");
    crud(&stack.client(auth), "Rsa").await;
    assert_eq!(stack.token_requests().await, 1);
}

#[tokio::test]
async fn auth_client_secret_basic_and_post() {
    let stack = Stack::start(3600, &["RS384"], |b| {
        b.client_secret(
            "basic-app",
            "basic-secret-value-1",
            "client_secret_basic",
            SCOPE,
        )
        .client_secret(
            "post-app",
            "post-secret-value-2",
            "client_secret_post",
            SCOPE,
        )
    })
    .await;
    let basic = ClientCredentials::builder("basic-app")
        .client_secret_basic(ClientSecret::new("basic-secret-value-1"))
        .token_url(stack.oauth.token_url())
        .scope(SCOPE)
        .build()
        .expect("provider");
    crud(&stack.client(basic), "Basic").await;
    let post = ClientCredentials::builder("post-app")
        .client_secret_post(ClientSecret::new("post-secret-value-2"))
        .discover(stack.base())
        .scope(SCOPE)
        .build()
        .expect("provider");
    crud(&stack.client(post), "Post").await;
    assert_eq!(stack.token_requests().await, 2);

    // The wrong secret, and the wrong method for a post client, each say what to fix.
    let wrong = ClientCredentials::builder("basic-app")
        .client_secret_basic(ClientSecret::new("not-the-secret"))
        .token_url(stack.oauth.token_url())
        .build()
        .expect("provider");
    let err = stack
        .client(wrong)
        .read("Patient", "x")
        .await
        .expect_err("wrong secret");
    let text = err.to_string();
    assert!(
        matches!(
            auth_error(&err),
            AuthError::TokenEndpoint { status: 401, .. }
        ),
        "{text}"
    );
    assert!(text.contains("client secret was not accepted"), "{text}");
    assert!(!text.contains("not-the-secret"), "{text}");
    // Twenty concurrent callers with a wrong secret share one failed token request.
    let before = stack.token_requests().await;
    let wrong = ClientCredentials::builder("basic-app")
        .client_secret_basic(ClientSecret::new("still-not-the-secret"))
        .token_url(stack.oauth.token_url())
        .build()
        .expect("provider");
    let client = stack.client(wrong);
    let results = futures::future::join_all((0..20).map(|_| {
        let client = client.clone();
        async move { client.read("Patient", "x").await }
    }))
    .await;
    assert!(
        results.iter().all(|r| matches!(r, Err(Error::Auth(_)))),
        "{results:?}"
    );
    assert_eq!(
        stack.token_requests().await - before,
        1,
        "one failed token request, shared"
    );
    let wrong_method = ClientCredentials::builder("post-app")
        .client_secret_basic(ClientSecret::new("post-secret-value-2"))
        .token_url(stack.oauth.token_url())
        .build()
        .expect("provider");
    let err = stack
        .client(wrong_method)
        .read("Patient", "x")
        .await
        .expect_err("wrong method");
    assert!(
        err.to_string()
            .contains("registered for another token endpoint auth method"),
        "{err}"
    );
}

#[tokio::test]
async fn auth_token_is_refreshed_after_expiry() {
    let (pair, key) = new_key(Algorithm::Es384);
    // Tokens live 3 s; the skew is capped at half of that.
    let stack = Stack::start(3, &["ES384"], |b| {
        b.private_key_jwt_client("short", "ES384", pair.public_jwks.clone(), SCOPE)
    })
    .await;
    let auth = ClientCredentials::builder("short")
        .private_key_jwt(key)
        .token_url(stack.oauth.token_url())
        .scope(SCOPE)
        .token_skew(Duration::from_secs(1))
        .build()
        .expect("provider");
    let client = stack.client(auth);
    let id = client
        .create("Patient", &patient("Short"))
        .await
        .expect("create")
        .id()
        .expect("id")
        .to_owned();
    client
        .read("Patient", &id)
        .await
        .expect("read with the same token");
    assert_eq!(stack.token_requests().await, 1);
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    client
        .read("Patient", &id)
        .await
        .expect("read after expiry");
    client.read("Patient", &id).await.expect("read again");
    assert_eq!(
        stack.token_requests().await,
        2,
        "one new token after expiry, then reused"
    );
    assert_eq!(stack.gate.stats().distinct_tokens().len(), 2);
    assert_eq!(
        stack.gate.stats().rejected(),
        0,
        "refreshed before the server had to refuse it"
    );
}

#[tokio::test]
async fn auth_401_drops_the_token_refreshes_once_and_retries() {
    let (pair, key) = new_key(Algorithm::Rs384);
    let stack = Stack::start(2, &["RS384"], |b| {
        b.private_key_jwt_client("stale", "RS384", pair.public_jwks.clone(), SCOPE)
    })
    .await;
    // A clock that never moves: the provider believes its token is fresh forever, so only the
    // FHIR server's 401 can tell it otherwise.
    let frozen = ManualClock::new(SystemClock.now());
    let auth = ClientCredentials::builder("stale")
        .private_key_jwt(key)
        .token_url(stack.oauth.token_url())
        .scope(SCOPE)
        .token_skew(Duration::ZERO)
        .clock(frozen)
        .build()
        .expect("provider");
    let client = stack.client(auth);
    let id = client
        .create("Patient", &patient("Stale"))
        .await
        .expect("create")
        .id()
        .expect("id")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let read = client
        .read("Patient", &id)
        .await
        .expect("read succeeds after one refresh");
    assert_eq!(read["id"], id.as_str());
    assert_eq!(
        stack.gate.stats().rejected(),
        1,
        "the expired token was refused once"
    );
    assert_eq!(stack.token_requests().await, 2);
}

#[tokio::test]
async fn auth_100_concurrent_requests_cause_exactly_one_token_request() {
    let (pair, key) = new_key(Algorithm::Es384);
    let stack = Stack::start(3600, &["ES384"], |b| {
        b.private_key_jwt_client("many", "ES384", pair.public_jwks.clone(), SCOPE)
    })
    .await;
    let auth = ClientCredentials::builder("many")
        .private_key_jwt(key)
        .discover(stack.base())
        .scope(SCOPE)
        .build()
        .expect("provider");
    let client = stack.client(auth);
    let requests = (0..100).map(|_| {
        let client = client.clone();
        async move {
            let mut params = SearchParams::new();
            params.count(1);
            client.search("Patient", params).send().await
        }
    });
    let results = futures::future::join_all(requests).await;
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.to_string())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        stack.token_requests().await,
        1,
        "single flight: one token request for 100 callers"
    );
    assert_eq!(stack.gate.stats().accepted(), 100);
    assert_eq!(stack.gate.stats().distinct_tokens().len(), 1);
}

#[tokio::test]
async fn auth_wrong_key_expired_assertion_wrong_aud_and_unknown_client_each_say_what_to_fix() {
    let (pair, key) = new_key(Algorithm::Es384);
    let (_, other_key) = new_key(Algorithm::Es384);
    let stack = Stack::start(3600, &["ES384"], |b| {
        b.private_key_jwt_client(
            "jwt-app",
            "ES384",
            pair.public_jwks.clone(),
            "system/Patient.rs",
        )
    })
    .await;
    let token_url = stack.oauth.token_url().to_owned();
    let builder = |k: SigningKey| {
        ClientCredentials::builder("jwt-app")
            .private_key_jwt(k)
            .scope("system/Patient.rs")
    };
    let fail = |auth: ClientCredentials| {
        let client = stack.client(auth);
        async move {
            client
                .read("Patient", "x")
                .await
                .expect_err("auth must fail")
        }
    };

    // Wrong key, registered kid: the signature does not verify.
    let err = fail(
        builder(other_key.clone().with_kid(key.kid()))
            .token_url(&token_url)
            .build()
            .expect("p"),
    )
    .await;
    assert!(
        matches!(auth_error(&err), AuthError::TokenEndpoint { error, .. } if error == "invalid_client"),
        "{err}"
    );
    assert!(
        err.to_string().contains("signature was not accepted"),
        "{err}"
    );

    // Wrong key with its own kid: no matching key at all.
    let err = fail(builder(other_key).token_url(&token_url).build().expect("p")).await;
    assert!(
        err.to_string().contains("signature was not accepted"),
        "{err}"
    );

    // Expired assertion: this machine's clock is 10 minutes slow.
    let slow = ManualClock::new(SystemClock.now() - Duration::from_secs(600));
    let err = fail(
        builder(key.clone())
            .token_url(&token_url)
            .clock(slow)
            .build()
            .expect("p"),
    )
    .await;
    assert!(err.to_string().contains("clock"), "{err}");

    // Wrong aud: the configured token URL reaches the endpoint but is not the URL the server
    // knows it by (a stray query string, as a copy-paste from a portal can leave), so the
    // assertion's aud does not match.
    let other_name = format!("{token_url}?tenant=1");
    let err = fail(
        builder(key.clone())
            .token_url(&other_name)
            .build()
            .expect("p"),
    )
    .await;
    assert!(
        err.to_string().contains("aud must be the token URL"),
        "{err}"
    );

    // Unknown client.
    let err = fail(
        ClientCredentials::builder("nobody")
            .private_key_jwt(key.clone())
            .token_url(&token_url)
            .build()
            .expect("p"),
    )
    .await;
    assert!(
        err.to_string()
            .contains("does not know client_id \"nobody\""),
        "{err}"
    );

    // Scope not granted: a scope the server knows but this client is not registered for.
    let err = fail(
        builder(key.clone())
            .scope("system/*.cruds")
            .token_url(&token_url)
            .build()
            .expect("p"),
    )
    .await;
    assert!(
        matches!(auth_error(&err), AuthError::TokenEndpoint { error, .. } if error == "invalid_scope"),
        "{err}"
    );
    assert!(err.to_string().contains("scope not granted"), "{err}");

    // The server accepts only ES384 here: an RS384 key is refused before any token request.
    let before = stack.token_requests().await;
    let (_, rsa_key) = keys::generate(Algorithm::Rs384)
        .and_then(|p| p.signing_key().map(|k| (p, k)))
        .expect("rsa");
    let err = fail(
        ClientCredentials::builder("jwt-app")
            .private_key_jwt(rsa_key)
            .discover(stack.base())
            .build()
            .expect("p"),
    )
    .await;
    assert!(
        matches!(auth_error(&err), AuthError::UnsupportedAlgorithm { .. }),
        "{err}"
    );
    assert_eq!(stack.token_requests().await, before);

    // And the right configuration works on the same server.
    let ok = stack.client(builder(key).token_url(&token_url).build().expect("p"));
    ok.create("Patient", &patient("Fine"))
        .await
        .expect_err("system/Patient.rs does not allow create");
    let mut params = SearchParams::new();
    params.count(1);
    ok.search("Patient", params)
        .send()
        .await
        .expect("search is allowed by system/Patient.rs");
}

mod app_launch;
mod guards;

/// A `MakeWriter` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// Every TRACE-level event on this thread (and `log` records), captured until dropped.
struct TraceCapture {
    captured: Captured,
    _guard: tracing::subscriber::DefaultGuard,
    _second_dispatcher: tracing::Dispatch,
}

impl TraceCapture {
    fn start() -> Self {
        // `log` records (reqwest, hyper-util) reach tracing too.
        let _ = tracing_log::LogTracer::init();
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        // tracing-core caches per-callsite interest; while only ONE scoped dispatcher is
        // registered it computes the interest of a callsite first hit on another test's thread
        // from that thread's (no-op) default and caches "never". A second registered dispatcher
        // and a rebuild make the capture independent of the other tests running in parallel.
        let second = tracing::Dispatch::new(tracing_subscriber::registry());
        let guard = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        TraceCapture {
            captured,
            _guard: guard,
            _second_dispatcher: second,
        }
    }
}
