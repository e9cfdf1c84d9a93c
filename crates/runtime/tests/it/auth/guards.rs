//! Authentication limits and hygiene: the token request rate guard, HTTP basic and static bearer
//! tokens, logs and errors free of secrets, the assertion lifetime, and the refresh token grant.

use super::*;

#[tokio::test]
async fn auth_rate_guard_refuses_excess_token_requests() {
    let stack = Stack::start(3600, &["RS384"], |b| {
        b.client_secret("rl", "rl-secret-value", "client_secret_post", SCOPE)
    })
    .await;
    let auth = ClientCredentials::builder("rl")
        .client_secret_post(ClientSecret::new("rl-secret-value"))
        .token_url(stack.oauth.token_url())
        .scope(SCOPE)
        .rate_limit(1, Duration::from_secs(60))
        .build()
        .expect("provider");
    let client = stack.client(auth.clone());
    let mut params = SearchParams::new();
    params.count(1);
    client
        .search("Patient", params.clone())
        .send()
        .await
        .expect("first token");
    auth.invalidate();
    let err = client
        .search("Patient", params)
        .send()
        .await
        .expect_err("second token within the minute");
    assert!(
        matches!(auth_error(&err), AuthError::RateLimited { max: 1, .. }),
        "{err}"
    );
    assert_eq!(stack.token_requests().await, 1);
}

#[tokio::test]
async fn auth_basic_and_static_bearer_through_the_gate() {
    let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
    let listener = Gate::bind().await.expect("bind");
    let gate = listener
        .serve(GateConfig::new(
            hfs.base_url(),
            GateAuth::Basic {
                user: "clinic".into(),
                password: "basic-pass-value".into(),
            },
        ))
        .expect("gate");
    let client = Client::builder(gate.base_url())
        .auth(BasicAuth::new("clinic", Password::new("basic-pass-value")).expect("basic"))
        .build()
        .expect("client");
    let created = client
        .create("Patient", &patient("Basic"))
        .await
        .expect("create");
    // Location and ids come back under the gate's base, not hfs's.
    assert!(
        created
            .location()
            .is_some_and(|l| l.starts_with(gate.base_url())),
        "{:?}",
        created.location()
    );
    let wrong = Client::builder(gate.base_url())
        .auth(BasicAuth::new("clinic", Password::new("nope")).expect("basic"))
        .build()
        .expect("client");
    let err = wrong
        .read("Patient", "x")
        .await
        .expect_err("wrong password");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(
        gate.stats().rejected(),
        1,
        "basic credentials are not retried"
    );

    // A static bearer token obtained elsewhere.
    let stack = Stack::start(3600, &["RS384"], |b| {
        b.client_secret("st", "static-secret-value", "client_secret_basic", SCOPE)
    })
    .await;
    let provider = ClientCredentials::builder("st")
        .client_secret_basic(ClientSecret::new("static-secret-value"))
        .token_url(stack.oauth.token_url())
        .scope(SCOPE)
        .build()
        .expect("provider");
    let header = provider
        .authorization(&HttpContext::new().expect("http context"))
        .await
        .expect("token")
        .expect("header");
    let token = header
        .to_str()
        .expect("ascii")
        .trim_start_matches("Bearer ")
        .to_owned();
    let client = stack.client(BearerToken::new(AccessToken::new(token)).expect("bearer"));
    crud(&client, "Static").await;
    assert_eq!(stack.token_requests().await, 1);
}

#[tokio::test]
async fn auth_trace_logs_and_errors_carry_no_secret() {
    let trace = TraceCapture::start();
    let captured = trace.captured.clone();

    let (pair, key) = new_key(Algorithm::Rs384);
    let (_, wrong_key) = new_key(Algorithm::Rs384);
    let secret = "cs-Secret-Value-9f3a7";
    let wrong_secret = "cs-Wrong-Value-1c2d3";
    let stack = Stack::start(3600, &["RS384"], |b| {
        b.private_key_jwt_client("logged-jwt", "RS384", pair.public_jwks.clone(), SCOPE)
            .client_secret("logged-post", secret, "client_secret_post", SCOPE)
    })
    .await;
    let mut errors = Vec::new();
    // Failing flows: wrong secret (post), wrong key (jwt).
    for auth in [
        ClientCredentials::builder("logged-post")
            .client_secret_post(ClientSecret::new(wrong_secret))
            .token_url(stack.oauth.token_url())
            .build()
            .expect("p"),
        ClientCredentials::builder("logged-jwt")
            .private_key_jwt(wrong_key.clone().with_kid(key.kid()))
            .token_url(stack.oauth.token_url())
            .build()
            .expect("p"),
    ] {
        errors.push(format!("{auth:?}"));
        let err = stack
            .client(auth)
            .read("Patient", "x")
            .await
            .expect_err("must fail");
        errors.push(err.to_string());
        errors.push(format!("{err:?}"));
    }
    // Succeeding flows.
    let mut tokens = Vec::new();
    for auth in [
        ClientCredentials::builder("logged-post")
            .client_secret_post(ClientSecret::new(secret))
            .token_url(stack.oauth.token_url())
            .scope(SCOPE)
            .build()
            .expect("p"),
        ClientCredentials::builder("logged-jwt")
            .private_key_jwt(key.clone())
            .discover(stack.base())
            .scope(SCOPE)
            .build()
            .expect("p"),
    ] {
        errors.push(format!("{auth:?}"));
        let client = stack.client(auth.clone());
        errors.push(format!("{client:?}"));
        crud(&client, &format!("Logged{}", tokens.len())).await;
        let header = auth
            .authorization(client.http_context())
            .await
            .expect("cached")
            .expect("header");
        tokens.push(
            header
                .to_str()
                .expect("ascii")
                .trim_start_matches("Bearer ")
                .to_owned(),
        );
    }
    // A failing FHIR request with a token (404) also goes through the logs.
    let _ = stack
        .client(BearerToken::new(AccessToken::new(tokens[0].clone())).expect("b"))
        .read("Patient", "missing")
        .await;
    drop(trace);

    let logs = captured.text();
    assert!(
        logs.contains("requesting an access token"),
        "the auth flow was logged at all:\n{logs}"
    );
    assert!(logs.contains("TRACE"), "trace level was captured");
    let pem = pair.private_key_pem.expose_secret().to_owned();
    let pem_body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let everything = format!("{logs}\n{}", errors.join("\n"));
    for needle in [secret, wrong_secret, tokens[0].as_str(), tokens[1].as_str()]
        .into_iter()
        .chain(pem_body.iter().copied())
    {
        assert!(!everything.contains(needle), "a secret leaked: {needle}");
    }
    // No JWT at all (access tokens, client assertions): their header always starts `eyJ`.
    assert!(
        !everything.contains("eyJ"),
        "a JWT leaked into logs or errors"
    );
    let _ = std::io::stderr().flush();
}

#[tokio::test]
async fn auth_assertion_lifetime_is_enforced_by_the_server_and_configurable_in_the_client() {
    let (pair, key) = new_key(Algorithm::Es384);
    let stack = Stack::start(3600, &["ES384"], |b| {
        b.max_assertion_lifetime(60).private_key_jwt_client(
            "life",
            "ES384",
            pair.public_jwks.clone(),
            SCOPE,
        )
    })
    .await;
    let build = |lifetime: Duration| {
        ClientCredentials::builder("life")
            .private_key_jwt(key.clone())
            .token_url(stack.oauth.token_url())
            .scope(SCOPE)
            .assertion_lifetime(lifetime)
            .build()
            .expect("provider")
    };
    // The default (240 s) is more than this server allows.
    let err = stack
        .client(build(Duration::from_secs(240)))
        .read("Patient", "x")
        .await
        .expect_err("too long-lived");
    assert!(err.to_string().contains("assertion lifetime"), "{err}");
    let mut params = SearchParams::new();
    params.count(1);
    stack
        .client(build(Duration::from_secs(50)))
        .search("Patient", params)
        .send()
        .await
        .expect("a 50 s assertion is accepted");
}

/// oidc-provider issues no refresh tokens for client credentials, so the `refresh_token` grant is
/// exercised on the stub: what the provider sends, and what it keeps when a response has none.
#[tokio::test]
async fn auth_stub_refresh_token_grant_keeps_the_previous_refresh_token_and_scope() {
    use fhirforge_testkit::stub::{Reply, Stub};
    let token = |at: &str, extra: Value| {
        let mut body = json!({"access_token": at, "token_type": "Bearer", "expires_in": 3600});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        Reply::json(200, &body)
    };
    let stub = Stub::script(vec![
        token(
            "at-1",
            json!({"refresh_token": "rt-1", "scope": "system/*.read"}),
        ),
        token("at-2", json!({})),
        token("at-3", json!({})),
        Reply::json(400, &json!({"error": "invalid_grant"})),
        token("at-4", json!({})),
    ])
    .await;
    let auth = ClientCredentials::builder("app")
        .client_secret_post(ClientSecret::new("stub-secret-value"))
        .token_url(format!("{}/token", stub.base_url()))
        .scope("system/*.read")
        .build()
        .expect("provider");
    let http = fhirforge_runtime::auth::HttpContext::new().expect("http context");
    let mut headers = Vec::new();
    for _ in 0..4 {
        let header = auth
            .authorization(&http)
            .await
            .expect("token")
            .expect("header");
        headers.push(header.to_str().expect("ascii").to_owned());
        auth.invalidate();
    }
    assert_eq!(
        headers,
        ["Bearer at-1", "Bearer at-2", "Bearer at-3", "Bearer at-4"]
    );
    let bodies: Vec<String> = stub.requests().iter().map(|r| r.body_text()).collect();
    assert_eq!(bodies.len(), 5, "{bodies:?}");
    assert!(
        bodies[0].starts_with("grant_type=client_credentials"),
        "{}",
        bodies[0]
    );
    // A response without refresh_token keeps the previous one: rt-1 is used three times.
    for body in &bodies[1..4] {
        assert!(
            body.contains("grant_type=refresh_token&refresh_token=rt-1"),
            "{body}"
        );
        assert!(
            body.contains("client_secret=stub-secret-value"),
            "the client authenticates"
        );
    }
    // The refused refresh token is dropped and client credentials take over.
    assert!(
        bodies[4].starts_with("grant_type=client_credentials"),
        "{}",
        bodies[4]
    );
    assert_eq!(
        auth.granted_scope().as_deref(),
        Some("system/*.read"),
        "scope kept too"
    );
}
