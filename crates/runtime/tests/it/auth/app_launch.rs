//! SMART App Launch end to end: a user signs in at the real authorization server
//! (oidc-provider's login and consent pages, filled in by `fhirforge_testkit::oauth::sign_in` as
//! a browser would), the code is exchanged with PKCE, the id_token is verified against the
//! server's real JWKS, and the session searches hfs through the JWT-verifying gate, renews
//! silently when the access token expires, keeps the rotated refresh token, and ends with
//! revocation.

use super::*;
use fhirforge_runtime::auth::app_launch::{
    AppLaunch, ClientAuth, FileTokenStore, Launch, SignIn, TokenStore,
};
use fhirforge_runtime::auth::SmartConfiguration;
use fhirforge_testkit::oauth::sign_in;
use url::Url;

const APP_SCOPES: &str = "openid fhirUser launch/patient patient/*.rs offline_access";
const REDIRECT: &str = "http://127.0.0.1/callback";

/// hfs, an interactive authorization server and the gate advertising SMART App Launch.
async fn app_stack(ttl: u64) -> Stack {
    app_stack_with(ttl, |b| b).await
}

async fn app_stack_with(
    ttl: u64,
    register: impl FnOnce(OAuthServerBuilder) -> OAuthServerBuilder,
) -> Stack {
    let hfs = Hfs::start().await.unwrap_or_else(|e| panic!("{e}"));
    let listener = Gate::bind().await.expect("bind gate");
    let base = listener.base_url();
    let oauth = register(OAuthServer::builder(&base))
        .access_token_ttl(ttl)
        .interactive()
        .launch_patient("pat-42")
        .app_client("public-app", REDIRECT, APP_SCOPES, None)
        .app_client(
            "confidential-app",
            REDIRECT,
            APP_SCOPES,
            Some("app-Secret-Value-77f1"),
        )
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let config = GateConfig::bearer_for(hfs.base_url(), &oauth, base, false).app_launch_for(&oauth);
    let gate = listener.serve(config).expect("gate");
    Stack {
        _hfs: hfs,
        oauth,
        gate,
    }
}

async fn app(stack: &Stack, client_id: &str, client: ClientAuth, scopes: &str) -> AppLaunch {
    let base = Url::parse(stack.base()).expect("base");
    let http = HttpContext::new().expect("http");
    let config = SmartConfiguration::discover(&http, &base)
        .await
        .expect("SMART configuration from the gate");
    AppLaunch::new(client_id, base, config)
        .client_auth(client)
        .scopes([scopes])
}

/// Signs `login` in; the redirect the browser was sent to, and the completed sign-in.
async fn signed_in(app: &AppLaunch, login: &str) -> (Url, Result<SignIn, AuthError>) {
    let pending = app
        .begin(
            Url::parse("http://127.0.0.1:53682/callback").expect("url"),
            Launch::Standalone,
        )
        .expect("begin");
    let back = sign_in(pending.url().as_str(), login)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let back = Url::parse(&back).expect("redirect URL");
    let http = HttpContext::new().expect("http");
    let result = app.complete(&http, &pending, &back).await;
    (back, result)
}

fn search_params() -> SearchParams {
    let mut params = SearchParams::new();
    params.raw("family", "Launch");
    params
}

#[tokio::test]
async fn app_launch_sign_in_search_silent_refresh_rotation_and_revocation() {
    let stack = app_stack(4).await;
    let app = app(&stack, "public-app", ClientAuth::Public, APP_SCOPES).await;
    let (back, signed) = signed_in(&app, "alice").await;
    let sign_in = signed.expect("sign-in completes");
    assert!(back.query().is_some_and(|q| q.contains("code=")), "{back}");

    // The launch context and the verified id_token's user.
    let tokens = &sign_in.tokens;
    assert_eq!(tokens.patient.as_deref(), Some("pat-42"));
    assert_eq!(
        tokens.fhir_user.as_deref(),
        Some(format!("{}/Practitioner/alice", stack.base()).as_str())
    );
    assert_eq!(sign_in.need_patient_banner, Some(true));
    assert!(
        tokens.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    assert!(
        sign_in.not_granted().is_empty(),
        "{:?}",
        sign_in.not_granted()
    );
    let first_refresh = tokens
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned());

    // The session, kept in a file store.
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn TokenStore> = Arc::new(FileTokenStore::new(dir.path()));
    store.save("alice", tokens).expect("store");
    let session = app
        .session_with_store(tokens.clone(), store.clone(), "alice")
        .expect("session");
    let client = stack.client(session.clone());
    client
        .create("Patient", &patient("Launch"))
        .await
        .expect("create as the signed-in user");
    let before = stack.token_requests().await;
    client
        .search("Patient", search_params())
        .send()
        .await
        .expect("search with the first token");
    assert_eq!(
        stack.token_requests().await,
        before,
        "the fresh token is reused"
    );

    // The access token expires (4 s; renewed at half its life); one silent refresh.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let (first, second) = (
        client.search("Patient", search_params()),
        client.search("Patient", search_params()),
    );
    let (a, b) = tokio::join!(first.send(), second.send());
    assert_eq!(a.expect("after expiry").matches().count(), 1);
    assert_eq!(b.expect("after expiry").matches().count(), 1);
    assert_eq!(
        stack.token_requests().await,
        before + 1,
        "two concurrent searches after expiry cause exactly one refresh"
    );
    assert_eq!(stack.gate.stats().distinct_tokens().len(), 2);
    // oidc-provider rotates a public client's refresh token; the store has the new one.
    let stored = store.load("alice").expect("load").expect("stored");
    let rotated = stored
        .refresh_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned());
    assert!(
        rotated.is_some() && rotated != first_refresh,
        "rotated and kept"
    );
    assert_eq!(stored.patient.as_deref(), Some("pat-42"), "context kept");
    assert_eq!(
        session
            .tokens()
            .refresh_token
            .map(|t| t.expose_secret().to_owned()),
        rotated
    );

    // Revocation ends the grant: the stored refresh token no longer renews.
    let http = HttpContext::new().expect("http");
    assert!(app.revoke(&http, &stored).await.expect("revoke"));
    let mut expired = stored.clone();
    expired.expires_at = Some(std::time::UNIX_EPOCH);
    let after_logout = stack.client(app.session(expired).expect("session"));
    let err = after_logout
        .search("Patient", search_params())
        .send()
        .await
        .expect_err("revoked");
    assert!(
        matches!(auth_error(&err), AuthError::SignInAgain { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("sign in again"), "{err}");
}

#[tokio::test]
async fn app_launch_confidential_client_replayed_code_unknown_scope_and_clean_trace() {
    let stack = app_stack(3600).await;
    let trace = TraceCapture::start();
    let secret = "app-Secret-Value-77f1";
    let app = app(
        &stack,
        "confidential-app",
        ClientAuth::SecretBasic(ClientSecret::new(secret)),
        // `user/Observation.rs` is not a scope this server knows: it drops it silently.
        &format!("{APP_SCOPES} user/Observation.rs"),
    )
    .await;
    let pending = app
        .begin(
            Url::parse("http://127.0.0.1:53682/callback").expect("url"),
            Launch::Standalone,
        )
        .expect("begin");
    let back = Url::parse(
        &sign_in(pending.url().as_str(), "bob")
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .expect("url");
    let http = HttpContext::new().expect("http");
    let sign_in = app.complete(&http, &pending, &back).await.expect("sign-in");
    assert_eq!(sign_in.not_granted(), ["user/Observation.rs"]);
    let client = stack.client(app.session(sign_in.tokens.clone()).expect("session"));
    client
        .search("Patient", search_params())
        .send()
        .await
        .expect("search");

    // The same redirect again: the code was used; the server refuses it.
    let replay = app
        .complete(&http, &pending, &back)
        .await
        .expect_err("a replayed code");
    assert!(
        matches!(&replay, AuthError::TokenEndpoint { error, .. } if error == "invalid_grant"),
        "{replay}"
    );
    assert!(replay.to_string().contains("used already"), "{replay}");

    // A forged state never reaches the server.
    let mut forged = back.clone();
    let pairs: Vec<(String, String)> = back
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let e = app
        .complete(&http, &pending, &forged)
        .await
        .expect_err("state");
    assert!(matches!(e, AuthError::StateMismatch), "{e}");

    // Nothing secret in the TRACE log of the whole flow.
    let logs = trace.captured.text();
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "the log was captured"
    );
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let tokens = &sign_in.tokens;
    let mut secrets = vec![
        ("code", code),
        ("verifier", pending.pkce().verifier().to_owned()),
        ("client secret", secret.to_owned()),
        (
            "access token",
            tokens.access_token.expose_secret().to_owned(),
        ),
    ];
    if let Some(refresh) = &tokens.refresh_token {
        secrets.push(("refresh token", refresh.expose_secret().to_owned()));
    }
    for (what, value) in secrets {
        assert!(!logs.contains(&value), "the {what} is in the log");
        assert!(
            !replay.to_string().contains(&value),
            "the {what} is in an error"
        );
    }
}

/// Two holders of one stored session (as two `fhirforge` processes would be) whose access
/// token has expired: the store's lock lets one refresh while the other waits and then uses the
/// rotated tokens. Without it both would refresh with the same refresh token, and the server,
/// seeing a rotated token replayed, would revoke the grant.
#[tokio::test]
async fn app_launch_two_sessions_sharing_a_store_refresh_once() {
    let stack = app_stack(3600).await;
    let app = app(&stack, "public-app", ClientAuth::Public, APP_SCOPES).await;
    let (_, signed) = signed_in(&app, "erin").await;
    let mut tokens = signed.expect("sign-in").tokens;
    tokens.expires_at = Some(std::time::UNIX_EPOCH);
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn TokenStore> = Arc::new(FileTokenStore::new(dir.path()));
    store.save("erin", &tokens).expect("store");
    let first = stack.client(
        app.session_with_store(tokens.clone(), store.clone(), "erin")
            .expect("session"),
    );
    let second = stack.client(
        app.session_with_store(tokens.clone(), store.clone(), "erin")
            .expect("session"),
    );
    let before = stack.token_requests().await;
    let (a, b) = (
        first.search("Patient", search_params()),
        second.search("Patient", search_params()),
    );
    let (a, b) = tokio::join!(a.send(), b.send());
    a.expect("first holder");
    b.expect("second holder");
    assert_eq!(
        stack.token_requests().await,
        before + 1,
        "one refresh for both holders"
    );
    assert_eq!(stack.gate.stats().distinct_tokens().len(), 1);
    // The grant is intact: the stored (rotated) refresh token still renews.
    let mut stored = store.load("erin").expect("load").expect("stored");
    assert_ne!(stored.refresh_token, tokens.refresh_token, "rotated");
    stored.expires_at = Some(std::time::UNIX_EPOCH);
    stack
        .client(app.session(stored).expect("session"))
        .search("Patient", search_params())
        .send()
        .await
        .expect("the rotated refresh token still renews");
}

/// A confidential app with a key (`client-confidential-asymmetric`): the code exchange and the
/// refresh carry a JWT assertion from the Backend Services signer.
#[tokio::test]
async fn app_launch_private_key_jwt_client_signs_in_and_refreshes() {
    let (pair, key) = new_key(Algorithm::Es384);
    let stack = app_stack_with(3, |b| {
        b.app_client_with_key(
            "keyed-app",
            REDIRECT,
            APP_SCOPES,
            "ES384",
            pair.public_jwks.clone(),
        )
    })
    .await;
    let app = app(
        &stack,
        "keyed-app",
        ClientAuth::PrivateKeyJwt(key),
        APP_SCOPES,
    )
    .await;
    let (_, signed) = signed_in(&app, "frank").await;
    let sign_in = signed.expect("sign-in with a signed client assertion");
    assert_eq!(sign_in.tokens.patient.as_deref(), Some("pat-42"));
    let client = stack.client(app.session(sign_in.tokens).expect("session"));
    client
        .search("Patient", search_params())
        .send()
        .await
        .expect("search");
    let before = stack.token_requests().await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    client
        .search("Patient", search_params())
        .send()
        .await
        .expect("search after a refresh with a client assertion");
    assert_eq!(stack.token_requests().await, before + 1);
}
