//! The auth gate: a small reverse proxy that puts bearer or basic authentication in front of an
//! upstream FHIR server (hfs has none of its own).
//!
//! * Bearer: the JWT access token is verified against the authorization server's JWKS (RS256,
//!   RS384 or ES384), then `iss`, `aud` and `exp`; optionally the SMART scope for the resource
//!   type (v1 `system/T.read|write|*`, v2 `system/T.cruds`).
//! * Basic: user name and password.
//! * Failures answer 401 with `WWW-Authenticate` (`Bearer error="invalid_token"` or
//!   `Basic realm=...`), or 403 `insufficient_scope`.
//! * `Location`, `Content-Location` and every upstream URL in response bodies (Bundle links,
//!   `fullUrl`) are rewritten to the gate's own base.
//! * `GET /.well-known/smart-configuration` points at the token endpoint, and `GET /metadata`
//!   is public (as on real EHRs), with the SMART `oauth-uris` extension added.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fhirforge_testkit::gate::{Gate, GateAuth, GateConfig};
//! let listener = Gate::bind().await?; // learn the base URL first: it is the token audience
//! let config = GateConfig::new(
//!     "http://127.0.0.1:8080",
//!     GateAuth::Basic { user: "u".into(), password: "p".into() },
//! );
//! let gate = listener.serve(config)?;
//! println!("FHIR base behind auth: {}", gate.base_url());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{json, Value};

/// The realm in `WWW-Authenticate`.
const REALM: &str = "fhirforge-gate";
/// Largest request body the gate forwards.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// What the gate requires.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GateAuth {
    /// A JWT bearer token issued by `issuer`, signed by a key in `jwks_url`, for `audience`.
    Bearer {
        /// Expected `iss`.
        issuer: String,
        /// Where the signing keys are.
        jwks_url: String,
        /// Expected `aud` (the gate's base URL, normally).
        audience: String,
        /// Check the SMART scope against the request's resource type and method.
        check_scope: bool,
    },
    /// HTTP basic with this user and password.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

/// How the gate is set up.
#[derive(Debug, Clone)]
pub struct GateConfig {
    upstream: String,
    auth: GateAuth,
    token_endpoint: Option<String>,
    signing_algs: Vec<String>,
    auth_methods: Vec<String>,
    app_launch: Option<AppLaunchEndpoints>,
}

/// What `.well-known/smart-configuration` says about SMART App Launch (see
/// [`GateConfig::app_launch`]).
#[derive(Debug, Clone)]
pub struct AppLaunchEndpoints {
    /// The authorization server's issuer (the id_token's `iss`).
    pub issuer: String,
    /// Where users sign in.
    pub authorization_endpoint: String,
    /// The JWK Set that verifies id_tokens.
    pub jwks_uri: String,
    /// RFC 7009 token revocation, if offered.
    pub revocation_endpoint: Option<String>,
}

impl GateConfig {
    /// Proxy to `upstream` (a FHIR base URL) requiring `auth`.
    pub fn new(upstream: impl Into<String>, auth: GateAuth) -> Self {
        Self {
            upstream: upstream.into().trim_end_matches('/').to_owned(),
            auth,
            token_endpoint: None,
            signing_algs: vec!["RS384".into(), "ES384".into()],
            auth_methods: vec![
                "private_key_jwt".into(),
                "client_secret_basic".into(),
                "client_secret_post".into(),
            ],
            app_launch: None,
        }
    }

    /// Also advertise SMART App Launch in `.well-known/smart-configuration`: the endpoints,
    /// the `authorization_code` and `refresh_token` grants, PKCE `S256`, and the capabilities
    /// `launch-standalone`, `client-public`, `context-standalone-patient`, `permission-offline`,
    /// `sso-openid-connect`.
    pub fn app_launch(mut self, endpoints: AppLaunchEndpoints) -> Self {
        self.app_launch = Some(endpoints);
        self
    }

    /// Bearer tokens from `oauth` for `audience` (the gate's base URL) in front of `upstream`,
    /// with `oauth`'s token endpoint advertised: the usual set-up of the auth tests.
    pub fn bearer_for(
        upstream: impl Into<String>,
        oauth: &crate::oauth::OAuthServer,
        audience: impl Into<String>,
        check_scope: bool,
    ) -> Self {
        Self::new(
            upstream,
            GateAuth::Bearer {
                issuer: oauth.issuer().to_owned(),
                jwks_url: oauth.jwks_url().to_owned(),
                audience: audience.into(),
                check_scope,
            },
        )
        .token_endpoint(oauth.token_url())
    }

    /// [`app_launch`](Self::app_launch) with `oauth`'s endpoints (an
    /// [`interactive`](crate::oauth::OAuthServerBuilder::interactive) server).
    pub fn app_launch_for(self, oauth: &crate::oauth::OAuthServer) -> Self {
        self.app_launch(AppLaunchEndpoints {
            issuer: oauth.issuer().to_owned(),
            authorization_endpoint: oauth.authorization_url().to_owned(),
            jwks_uri: oauth.jwks_url().to_owned(),
            revocation_endpoint: oauth.revocation_url().map(str::to_owned),
        })
    }

    /// Advertise `url` as the token endpoint in `.well-known/smart-configuration` and in the
    /// capability statement's `oauth-uris`.
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// The `token_endpoint_auth_signing_alg_values_supported` to advertise (default RS384, ES384).
    pub fn signing_algs<I: IntoIterator<Item = S>, S: Into<String>>(mut self, algs: I) -> Self {
        self.signing_algs = algs.into_iter().map(Into::into).collect();
        self
    }
}

/// Request counters, for assertions.
#[derive(Debug, Default)]
pub struct GateStats {
    accepted: AtomicU64,
    rejected: AtomicU64,
    forbidden: AtomicU64,
    tokens: Mutex<Vec<String>>,
}

impl GateStats {
    /// Requests that passed authentication and were forwarded.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
    /// Requests answered 401.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::SeqCst)
    }
    /// Requests answered 403 (`insufficient_scope`).
    pub fn forbidden(&self) -> u64 {
        self.forbidden.load(Ordering::SeqCst)
    }
    /// The distinct access tokens (their `jti`) accepted so far, in first-seen order.
    pub fn distinct_tokens(&self) -> Vec<String> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A bound, not yet serving gate: its base URL is known (to use as the token audience).
#[derive(Debug)]
pub struct GateListener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl GateListener {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts serving with `config`.
    ///
    /// # Errors
    ///
    /// When the upstream client cannot be built.
    pub fn serve(self, config: GateConfig) -> io::Result<Gate> {
        let base = self.base_url();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(io::Error::other)?;
        let stats = Arc::new(GateStats::default());
        let state = Arc::new(GateState {
            base: base.clone(),
            config,
            http,
            jwks: Mutex::new(HashMap::new()),
            stats: stats.clone(),
        });
        let app = axum::Router::new().fallback(handle).with_state(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Gate {
            base,
            stats,
            shutdown: Some(tx),
            task,
        })
    }
}

/// A running gate; stops when dropped.
#[derive(Debug)]
pub struct Gate {
    base: String,
    stats: Arc<GateStats>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gate {
    /// Binds a free port on 127.0.0.1.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub async fn bind() -> io::Result<GateListener> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok(GateListener { listener, addr })
    }

    /// The gate's base URL: the FHIR base clients use.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Counters.
    pub fn stats(&self) -> &GateStats {
        &self.stats
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

enum VerifyKey {
    Rsa(rsa::RsaPublicKey),
    P384(p384::ecdsa::VerifyingKey),
}

struct GateState {
    base: String,
    config: GateConfig,
    http: reqwest::Client,
    jwks: Mutex<HashMap<String, Arc<VerifyKey>>>,
    stats: Arc<GateStats>,
}

enum Denied {
    /// 401; `error` is `None` when no credentials came at all.
    Unauthorized(Option<String>),
    /// 403 insufficient_scope.
    Forbidden(String),
}

#[allow(
    clippy::disallowed_methods,
    reason = "the gate stands in for a real server: it checks exp against the real clock, its one SystemTime::now call site"
)]
fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn handle(State(state): State<Arc<GateState>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if req.method() == Method::GET && path == "/.well-known/smart-configuration" {
        return smart_configuration(&state);
    }
    let public_metadata = req.method() == Method::GET && path == "/metadata";
    if !public_metadata {
        if let Err(denied) = authorize(&state, req.method(), &path, req.headers()).await {
            return deny(&state, denied);
        }
        state.stats.accepted.fetch_add(1, Ordering::SeqCst);
    }
    match forward(&state, req, public_metadata).await {
        Ok(response) => response,
        Err(message) => plain(StatusCode::BAD_GATEWAY, &message),
    }
}

fn plain(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(message.to_owned()));
    *response.status_mut() = status;
    response
}

fn smart_configuration(state: &GateState) -> Response {
    let Some(token) = &state.config.token_endpoint else {
        return plain(StatusCode::NOT_FOUND, "no SMART configuration");
    };
    let mut doc = json!({
        "token_endpoint": token,
        "token_endpoint_auth_methods_supported": state.config.auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": state.config.signing_algs,
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": ["system/*.read", "system/*.rs"],
        "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
    });
    if let Some(app) = &state.config.app_launch {
        doc["issuer"] = json!(app.issuer);
        doc["authorization_endpoint"] = json!(app.authorization_endpoint);
        doc["jwks_uri"] = json!(app.jwks_uri);
        if let Some(revocation) = &app.revocation_endpoint {
            doc["revocation_endpoint"] = json!(revocation);
        }
        doc["grant_types_supported"] =
            json!(["authorization_code", "refresh_token", "client_credentials"]);
        doc["code_challenge_methods_supported"] = json!(["S256"]);
        doc["response_types_supported"] = json!(["code"]);
        doc["scopes_supported"] = json!([
            "openid",
            "fhirUser",
            "launch/patient",
            "offline_access",
            "patient/*.rs",
            "system/*.read",
            "system/*.rs"
        ]);
        doc["capabilities"] = json!([
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "client-confidential-asymmetric",
            "context-standalone-patient",
            "permission-offline",
            "permission-v2",
            "sso-openid-connect"
        ]);
        if let Some(methods) = doc["token_endpoint_auth_methods_supported"].as_array_mut() {
            methods.push(json!("none"));
        }
    }
    let mut response = Response::new(Body::from(doc.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn deny(state: &GateState, denied: Denied) -> Response {
    let bearer = matches!(state.config.auth, GateAuth::Bearer { .. });
    let (status, challenge, body) = match denied {
        Denied::Unauthorized(error) => {
            state.stats.rejected.fetch_add(1, Ordering::SeqCst);
            let challenge = match (&error, bearer) {
                (_, false) => format!("Basic realm=\"{REALM}\""),
                (None, true) => format!("Bearer realm=\"{REALM}\""),
                (Some(e), true) => format!(
                    "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                    e.replace('"', "'")
                ),
            };
            (
                StatusCode::UNAUTHORIZED,
                challenge,
                error.unwrap_or_else(|| "authentication required".into()),
            )
        }
        Denied::Forbidden(e) => {
            state.stats.forbidden.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::FORBIDDEN,
                format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"{e}\""),
                e,
            )
        }
    };
    let outcome = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": if status == StatusCode::FORBIDDEN { "forbidden" } else { "login" }, "diagnostics": body}],
    });
    let mut response = Response::new(Body::from(outcome.to_string()));
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    response
}

async fn authorize(
    state: &GateState,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), Denied> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Denied::Unauthorized(None))?;
    match &state.config.auth {
        GateAuth::Basic { user, password } => {
            let encoded = given
                .strip_prefix("Basic ")
                .ok_or(Denied::Unauthorized(None))?;
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| Denied::Unauthorized(Some("malformed basic credentials".into())))?;
            if decoded == format!("{user}:{password}") {
                Ok(())
            } else {
                Err(Denied::Unauthorized(Some(
                    "wrong user name or password".into(),
                )))
            }
        }
        GateAuth::Bearer {
            issuer,
            jwks_url,
            audience,
            check_scope,
        } => {
            let token = given
                .strip_prefix("Bearer ")
                .ok_or(Denied::Unauthorized(None))?
                .trim();
            let claims = verify_jwt(state, jwks_url, token)
                .await
                .map_err(|e| Denied::Unauthorized(Some(e)))?;
            let invalid = |m: &str| Denied::Unauthorized(Some(m.to_owned()));
            if claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str()) {
                return Err(invalid("wrong issuer"));
            }
            let aud_ok = match claims.get("aud") {
                Some(Value::String(a)) => a == audience,
                Some(Value::Array(list)) => {
                    list.iter().any(|a| a.as_str() == Some(audience.as_str()))
                }
                _ => false,
            };
            if !aud_ok {
                return Err(invalid("the token is not for this server (aud)"));
            }
            let exp = claims
                .get("exp")
                .and_then(Value::as_u64)
                .ok_or_else(|| invalid("the token has no exp"))?;
            if exp <= now_unix() {
                return Err(invalid("the access token expired"));
            }
            if *check_scope {
                let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
                let resource = path.trim_start_matches('/').split('/').next().unwrap_or("");
                let search = path.ends_with("/_search");
                if !scope_allows(scope, resource, method, search) {
                    return Err(Denied::Forbidden(format!(
                        "the token's scope does not allow {method} on {resource}"
                    )));
                }
            }
            let jti = claims
                .get("jti")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let mut seen = state.stats.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if !seen.contains(&jti) {
                seen.push(jti);
            }
            Ok(())
        }
    }
}

/// SMART v1 (`system/Patient.read`, `.write`, `.*`) and v2 (`system/Patient.cruds`) scopes.
fn scope_allows(scope: &str, resource: &str, method: &Method, search: bool) -> bool {
    // POST _search is a read.
    let write = !(matches!(*method, Method::GET | Method::HEAD) || search);
    let v2_needs: &[char] = match *method {
        Method::GET | Method::HEAD => &['r', 's'],
        Method::POST if search => &['s'],
        Method::POST => &['c'],
        Method::PUT | Method::PATCH => &['u'],
        Method::DELETE => &['d'],
        _ => &['c', 'r', 'u', 'd', 's'],
    };
    scope.split_whitespace().any(|s| {
        let Some(rest) = s.strip_prefix("system/") else {
            return false;
        };
        let Some((ty, perm)) = rest.split_once('.') else {
            return false;
        };
        if ty != "*" && ty != resource {
            return false;
        }
        let perm = perm.split('?').next().unwrap_or(perm);
        match perm {
            "*" => true,
            "read" => !write,
            "write" => write,
            v2 if v2.chars().all(|c| "cruds".contains(c)) => {
                v2_needs.iter().any(|c| v2.contains(*c))
            }
            _ => false,
        }
    })
}

async fn verify_jwt(state: &GateState, jwks_url: &str, token: &str) -> Result<Value, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a JWT".into());
    };
    let decode = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|_| "malformed JWT".to_owned())
    };
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| "malformed JWT header")?;
    let claims: Value = serde_json::from_slice(&decode(c)?).map_err(|_| "malformed JWT claims")?;
    let signature = decode(s)?;
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let key = match key_for(state, jwks_url, &kid, false).await? {
        Some(key) => key,
        None => key_for(state, jwks_url, &kid, true)
            .await?
            .ok_or_else(|| "unknown signing key".to_owned())?,
    };
    let input = format!("{h}.{c}");
    let ok = match (alg, key.as_ref()) {
        ("RS256", VerifyKey::Rsa(k)) => verify_rsa(k, false, &input, &signature),
        ("RS384", VerifyKey::Rsa(k)) => verify_rsa(k, true, &input, &signature),
        ("ES384", VerifyKey::P384(k)) => {
            use p384::ecdsa::signature::Verifier as _;
            p384::ecdsa::Signature::from_slice(&signature)
                .map(|sig| k.verify(input.as_bytes(), &sig).is_ok())
                .unwrap_or(false)
        }
        _ => return Err(format!("unsupported token algorithm {alg}")),
    };
    if ok {
        Ok(claims)
    } else {
        Err("bad token signature".into())
    }
}

fn verify_rsa(key: &rsa::RsaPublicKey, sha384: bool, input: &str, signature: &[u8]) -> bool {
    use rsa::signature::Verifier as _;
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    if sha384 {
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key.clone())
            .verify(input.as_bytes(), &sig)
            .is_ok()
    } else {
        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
            .verify(input.as_bytes(), &sig)
            .is_ok()
    }
}

async fn key_for(
    state: &GateState,
    jwks_url: &str,
    kid: &str,
    reload: bool,
) -> Result<Option<Arc<VerifyKey>>, String> {
    if !reload {
        return Ok(state
            .jwks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(kid)
            .cloned());
    }
    let jwks: Value = state
        .http
        .get(jwks_url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the JWKS: {e}"))?
        .json()
        .await
        .map_err(|e| format!("bad JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let member = |n: &str| {
            jwk.get(n)
                .and_then(Value::as_str)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        };
        let id = jwk
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let key = match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => match (member("n"), member("e")) {
                (Some(n), Some(e)) => rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(&n),
                    rsa::BigUint::from_bytes_be(&e),
                )
                .ok()
                .map(VerifyKey::Rsa),
                _ => None,
            },
            Some("EC") if jwk.get("crv").and_then(Value::as_str) == Some("P-384") => {
                match (member("x"), member("y")) {
                    (Some(x), Some(y)) => {
                        let mut sec1 = vec![4u8];
                        sec1.extend_from_slice(&x);
                        sec1.extend_from_slice(&y);
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                            .ok()
                            .map(VerifyKey::P384)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(key) = key {
            keys.insert(id, Arc::new(key));
        }
    }
    let found = keys.get(kid).cloned();
    *state.jwks.lock().unwrap_or_else(|e| e.into_inner()) = keys;
    Ok(found)
}

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

async fn forward(
    state: &GateState,
    req: Request,
    add_oauth_uris: bool,
) -> Result<Response, String> {
    let (parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let url = format!("{}{}", state.config.upstream, path_and_query);
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| format!("cannot read the request body: {e}"))?;
    let mut request = state.http.request(parts.method.clone(), &url);
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if n == "host" || n == "authorization" || n == "content-length" || HOP_BY_HOP.contains(&n) {
            continue;
        }
        request = request.header(name, value);
    }
    let upstream = request
        .body(body)
        .send()
        .await
        .map_err(|e| format!("upstream unreachable: {e}"))?;
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let bytes = upstream
        .bytes()
        .await
        .map_err(|e| format!("upstream body: {e}"))?;
    let rewrite = |s: &str| s.replace(&state.config.upstream, &state.base);
    let body = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains(&state.config.upstream) || add_oauth_uris => {
            let mut text = rewrite(text);
            if add_oauth_uris {
                text = with_oauth_uris(&text, state.config.token_endpoint.as_deref());
            }
            Body::from(text)
        }
        _ => Body::from(bytes),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in &headers {
        let n = name.as_str();
        if n == "content-length" || HOP_BY_HOP.contains(&n) {
            continue;
        }
        let value = if n == "location" || n == "content-location" {
            value
                .to_str()
                .ok()
                .and_then(|v| HeaderValue::from_str(&rewrite(v)).ok())
                .unwrap_or_else(|| value.clone())
        } else {
            value.clone()
        };
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

/// Adds the SMART `oauth-uris` extension to a CapabilityStatement's `rest[0].security`.
fn with_oauth_uris(text: &str, token: Option<&str>) -> String {
    let (Some(token), Ok(mut cs)) = (token, serde_json::from_str::<Value>(text)) else {
        return text.to_owned();
    };
    if let Some(rest) = cs.pointer_mut("/rest/0").and_then(Value::as_object_mut) {
        rest.insert(
            "security".into(),
            json!({
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [{"url": "token", "valueUri": token}],
                }],
            }),
        );
    }
    cs.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_scopes_v1_and_v2() {
        let allows =
            |scope: &str, ty: &str, m: Method, search: bool| scope_allows(scope, ty, &m, search);
        assert!(allows("system/*.read", "Patient", Method::GET, false));
        assert!(!allows("system/*.read", "Patient", Method::POST, false));
        assert!(allows("system/*.read", "Patient", Method::POST, true));
        assert!(allows(
            "system/Patient.write",
            "Patient",
            Method::PUT,
            false
        ));
        assert!(!allows(
            "system/Patient.*",
            "Observation",
            Method::GET,
            false
        ));
        assert!(allows("system/Patient.rs", "Patient", Method::GET, false));
        assert!(allows("system/Patient.rs", "Patient", Method::POST, true));
        assert!(!allows("system/Patient.rs", "Patient", Method::POST, false));
        assert!(!allows(
            "system/Patient.rs",
            "Patient",
            Method::DELETE,
            false
        ));
        assert!(allows("system/*.cruds", "Patient", Method::DELETE, false));
        assert!(!allows(
            "user/*.read patient/*.read",
            "Patient",
            Method::GET,
            false
        ));
    }

    #[test]
    fn oauth_uris_are_added_to_the_capability_statement() {
        let cs = r#"{"resourceType":"CapabilityStatement","rest":[{"mode":"server"}]}"#;
        let out: Value =
            serde_json::from_str(&with_oauth_uris(cs, Some("http://as/token"))).unwrap();
        assert_eq!(
            out.pointer("/rest/0/security/extension/0/extension/0/valueUri"),
            Some(&json!("http://as/token"))
        );
        assert_eq!(with_oauth_uris("not json", Some("x")), "not json");
    }
}
