use super::*;
use crate::auth::AccessToken;
use crate::auth::PlainHttp;
use crate::time::ManualClock;

fn response(
    token: &str,
    expires: Option<u64>,
    refresh: Option<&str>,
    scope: Option<&str>,
) -> TokenResponse {
    TokenResponse {
        access_token: AccessToken::new(token),
        expires_in: expires.map(Duration::from_secs),
        refresh_token: refresh.map(RefreshToken::new),
        scope: scope.map(str::to_owned),
    }
}

fn header(v: &str) -> HeaderValue {
    HeaderValue::from_str(v).unwrap()
}

#[test]
fn token_is_fresh_until_expires_in_minus_skew() {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let mut state = TokenState::default();
    state.apply(
        response("a", Some(570), None, None),
        header("Bearer a"),
        t0,
        DEFAULT_SKEW,
    );
    assert!(state.fresh(t0 + Duration::from_secs(509)).is_some());
    assert!(state.fresh(t0 + Duration::from_secs(510)).is_none());
    // Short-lived tokens: the skew is capped at half the lifetime.
    state.apply(
        response("b", Some(4), None, None),
        header("Bearer b"),
        t0,
        DEFAULT_SKEW,
    );
    assert!(state.fresh(t0 + Duration::from_secs(1)).is_some());
    assert!(state.fresh(t0 + Duration::from_secs(2)).is_none());
    // No expires_in: five minutes assumed.
    state.apply(
        response("c", None, None, None),
        header("Bearer c"),
        t0,
        DEFAULT_SKEW,
    );
    assert!(state.fresh(t0 + Duration::from_secs(239)).is_some());
    assert!(state.fresh(t0 + Duration::from_secs(240)).is_none());
}

#[test]
fn huge_expires_in_is_clamped_not_a_panic() {
    let url = Url::parse("https://as.test/token").unwrap();
    for huge in [
        u64::MAX.to_string(),
        format!("\"{}\"", u64::MAX),
        "31536000000".to_owned(),
    ] {
        let body = format!(r#"{{"access_token":"x","token_type":"Bearer","expires_in":{huge}}}"#);
        let parsed = parse_token_response(&url, body.as_bytes()).unwrap();
        assert_eq!(parsed.expires_in, Some(MAX_TOKEN_LIFETIME), "{huge}");
    }
    // Even unclamped input and a clock at the end of time: no overflow panic.
    let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let mut state = TokenState::default();
    state.apply(
        TokenResponse {
            expires_in: Some(Duration::MAX),
            ..response("a", None, None, None)
        },
        header("Bearer a"),
        t0,
        DEFAULT_SKEW,
    );
    let day = MAX_TOKEN_LIFETIME - DEFAULT_SKEW;
    assert!(state.fresh(t0 + day - Duration::from_secs(1)).is_some());
    assert!(state.fresh(t0 + day).is_none());
    // The latest representable time (to the second): adding a day overflows.
    let mut end = UNIX_EPOCH;
    let mut step = Duration::from_secs(1 << 62);
    while step >= Duration::from_secs(1) {
        if let Some(later) = end.checked_add(step) {
            end = later;
        }
        step /= 2;
    }
    state.apply(
        response("b", Some(86_400), None, None),
        header("Bearer b"),
        end,
        DEFAULT_SKEW,
    );
    assert!(state.fresh(end).is_none(), "due for renewal at once");
}

#[test]
fn a_response_without_refresh_token_or_scope_keeps_the_previous_ones() {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
    let mut state = TokenState::default();
    state.apply(
        response("a", Some(60), Some("r1"), Some("system/*.read")),
        header("Bearer a"),
        t0,
        DEFAULT_SKEW,
    );
    state.apply(
        response("b", Some(60), None, None),
        header("Bearer b"),
        t0,
        DEFAULT_SKEW,
    );
    assert_eq!(
        state
            .refresh_token
            .as_ref()
            .map(RefreshToken::expose_secret),
        Some("r1")
    );
    assert_eq!(state.granted_scope.as_deref(), Some("system/*.read"));
    assert_eq!(state.fresh(t0).unwrap(), "Bearer b");
    state.apply(
        response("c", Some(60), Some("r2"), Some("system/Patient.rs")),
        header("Bearer c"),
        t0,
        DEFAULT_SKEW,
    );
    assert_eq!(
        state
            .refresh_token
            .as_ref()
            .map(RefreshToken::expose_secret),
        Some("r2")
    );
    assert_eq!(state.granted_scope.as_deref(), Some("system/Patient.rs"));
}

#[test]
fn rate_guard_admits_max_per_window_then_says_when() {
    let t0 = UNIX_EPOCH + Duration::from_secs(10_000);
    let mut guard = RateGuard {
        max: 3,
        per: Duration::from_secs(60),
        sent: VecDeque::new(),
    };
    for i in 0..3 {
        guard.admit(t0 + Duration::from_secs(i)).unwrap();
    }
    match guard.admit(t0 + Duration::from_secs(10)) {
        Err(AuthError::RateLimited {
            retry_after,
            max: 3,
            ..
        }) => {
            assert_eq!(retry_after, Duration::from_secs(50));
        }
        other => panic!("{other:?}"),
    }
    guard.admit(t0 + Duration::from_secs(60)).unwrap();
    assert!(guard.admit(t0 + Duration::from_secs(60)).is_err());
}

#[test]
fn token_responses_are_validated() {
    let url = Url::parse("https://as.test/token").unwrap();
    let ok = parse_token_response(
        &url,
        br#"{"access_token":"x","token_type":"bearer","expires_in":"30"}"#,
    )
    .unwrap();
    assert_eq!(ok.expires_in, Some(Duration::from_secs(30)));
    for bad in [
        &b"<html>"[..],
        br#"{"token_type":"Bearer"}"#,
        br#"{"access_token":"x","token_type":"DPoP"}"#,
        br#"{"access_token":"x"}"#,
        br#"{"access_token":"x","token_type":"Bearer","expires_in":-1}"#,
    ] {
        let err = parse_token_response(&url, bad).unwrap_err();
        assert!(
            matches!(err, AuthError::InvalidTokenResponse { .. }),
            "{err}"
        );
    }
}

fn provider(method: Method) -> ClientCredentials {
    let builder = ClientCredentials::builder("app-1")
        .token_url("https://as.test/token")
        .scope("system/*.read");
    let builder = match method {
        Method::SecretBasic(s) => builder.client_secret_basic(s),
        Method::SecretPost(s) => builder.client_secret_post(s),
        Method::PrivateKeyJwt(k) => builder.private_key_jwt(k),
        Method::None => builder.public_client(),
    };
    builder.build().unwrap()
}

#[test]
fn token_endpoint_errors_say_what_to_fix() {
    let key = crate::auth::keys::generate(crate::auth::keys::Algorithm::Es384)
        .unwrap()
        .signing_key()
        .unwrap();
    let jwt = provider(Method::PrivateKeyJwt(key));
    let url = Url::parse("https://as.test/token").unwrap();
    let hint = |p: &ClientCredentials, status: u16, body: &str| match p.token_error(
        &url,
        status,
        body.as_bytes(),
        Some("30"),
        &Grant::ClientCredentials,
        &[],
    ) {
        AuthError::TokenEndpoint { hint, .. } => hint,
        other => panic!("{other:?}"),
    };
    assert!(hint(&jwt, 401, r#"{"error":"invalid_client","error_description":"client authentication failed: client not found"}"#).contains("does not know client_id"));
    assert!(hint(
        &jwt,
        401,
        r#"{"error":"invalid_client","error_description":"signature verification failed"}"#
    )
    .contains("signature was not accepted"));
    assert!(hint(
        &jwt,
        401,
        r#"{"error":"invalid_client","error_description":"\"exp\" claim timestamp check failed"}"#
    )
    .contains("clock"));
    assert!(hint(&jwt, 401, r#"{"error":"invalid_client","error_description":"audience (aud) must equal the token endpoint url"}"#).contains("aud must be the token URL"));
    assert!(hint(
        &jwt,
        400,
        r#"{"error":"invalid_scope","error_description":"requested scope is not allowed"}"#
    )
    .contains("scope not granted"));
    assert!(hint(&jwt, 429, "").contains("Retry-After: 30"));
    assert!(hint(&jwt, 401, r#"{"error":"invalid_client"}"#).contains("registered JWK Set"));
    let basic = provider(Method::SecretBasic(ClientSecret::new("s3cr3t-value")));
    assert!(hint(
        &basic,
        401,
        r#"{"error":"invalid_client","error_description":"invalid secret provided"}"#
    )
    .contains("client secret was not accepted"));
    // A description that echoes the secret is redacted.
    let err = basic.token_error(
        &url,
        400,
        br#"{"error":"invalid_request","error_description":"bad client_secret s3cr3t-value"}"#,
        None,
        &Grant::ClientCredentials,
        &["s3cr3t-value".to_owned()],
    );
    assert!(!err.to_string().contains("s3cr3t-value"), "{err}");
    assert!(err.to_string().contains("[redacted]"));
    // Non-JSON bodies still give a status-based error.
    let err = basic.token_error(&url, 502, b"<html>", None, &Grant::ClientCredentials, &[]);
    assert!(err.to_string().contains("http_502"), "{err}");
}

#[test]
fn builder_rejects_bad_configuration() {
    let b = || ClientCredentials::builder("id").client_secret_basic(ClientSecret::new("s"));
    assert!(matches!(b().build(), Err(AuthError::Config(_))));
    assert!(matches!(
        ClientCredentials::builder("id")
            .token_url("https://a.test/t")
            .build(),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        b().token_url("not a url").build(),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        b().token_url("http://ehr.example/token").build(),
        Err(AuthError::InsecureHttp(PlainHttp {
            what: "the token endpoint",
            ..
        }))
    ));
    assert!(b().token_url("http://127.0.0.1:9/token").build().is_ok());
    assert!(matches!(
        b().token_url("https://a.test/t")
            .assertion_lifetime(Duration::from_secs(301))
            .build(),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        b().token_url("https://a.test/t")
            .rate_limit(0, Duration::from_secs(1))
            .build(),
        Err(AuthError::Config(_))
    ));
    assert!(matches!(
        ClientCredentials::builder(" ")
            .client_secret_basic(ClientSecret::new("s"))
            .token_url("https://a.test/t")
            .build(),
        Err(AuthError::Config(_))
    ));
    let key = crate::auth::keys::generate(crate::auth::keys::Algorithm::Es384)
        .unwrap()
        .signing_key()
        .unwrap();
    let err = ClientCredentials::builder("id")
        .private_key_jwt(key)
        .token_url("https://a.test/t")
        .supported_signing_algs(["RS384"])
        .build()
        .unwrap_err();
    assert!(
        matches!(err, AuthError::UnsupportedAlgorithm { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("ES384"));
}

#[test]
fn client_assertion_claims_follow_smart_backend_services() {
    let key = crate::auth::keys::generate(crate::auth::keys::Algorithm::Es384)
        .unwrap()
        .signing_key()
        .unwrap();
    let kid = key.kid().to_owned();
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let p = ClientCredentials::builder("app-1")
        .private_key_jwt(key.clone())
        .jku("https://app.test/jwks.json")
        .token_url("https://as.test/token")
        .clock(clock.clone())
        .build()
        .unwrap();
    let url = Url::parse("https://as.test/token").unwrap();
    let a = p.client_assertion(&key, &url, clock.now()).unwrap();
    let b = p.client_assertion(&key, &url, clock.now()).unwrap();
    let part = |jws: &str, i: usize| -> Value {
        serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jws.split('.').nth(i).unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    let (header, claims) = (part(a.expose_secret(), 0), part(a.expose_secret(), 1));
    assert_eq!(header["alg"], "ES384");
    assert_eq!(header["kid"], kid.as_str());
    assert_eq!(header["jku"], "https://app.test/jwks.json");
    assert_eq!(claims["iss"], "app-1");
    assert_eq!(claims["sub"], "app-1");
    assert_eq!(claims["aud"], "https://as.test/token");
    assert_eq!(claims["iat"], 1_700_000_000u64);
    let exp = claims["exp"].as_u64().unwrap();
    assert!(exp > 1_700_000_000 && exp <= 1_700_000_300, "{exp}");
    assert_ne!(
        claims["jti"],
        part(b.expose_secret(), 1)["jti"],
        "jti must be unique"
    );
    assert!(!format!("{p:?}").contains(a.expose_secret()));
}

#[test]
fn rejected_drops_only_the_refused_token() {
    let p = provider(Method::SecretPost(ClientSecret::new("s")));
    let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
    p.lock_state().apply(
        response("new", Some(3600), None, None),
        header("Bearer new"),
        t0,
        DEFAULT_SKEW,
    );
    // A stale token from before: the current one stays, and a retry is still worthwhile.
    assert!(p.rejected(&header("Bearer old")));
    assert!(p.lock_state().access.is_some());
    assert!(p.rejected(&header("Bearer new")));
    assert!(p.lock_state().access.is_none());
}
