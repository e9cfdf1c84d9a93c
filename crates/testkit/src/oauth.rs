//! The OAuth2 authorization server for the auth end-to-end tests: `oidc-provider` (npm, pinned by
//! `crates/testkit/oauth-server/package-lock.json`), configured by `oauth-server/server.mjs` for
//! the client credentials grant with `private_key_jwt` (RS384, ES384), `client_secret_basic` and
//! `client_secret_post`, issuing JWT access tokens for one audience (the FHIR base behind the
//! [`gate`](crate::gate)).
//!
//! Install once with `scripts/install-oauth-server.sh` (`npm ci`). Each [`OAuthServer`] is its own
//! `node` process on a free 127.0.0.1 port, stopped when the value is dropped.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fhirforge_testkit::oauth::OAuthServer;
//! let server = OAuthServer::builder("http://127.0.0.1:8080")
//!     .access_token_ttl(5)
//!     .client_secret("app", "secret-value", "client_secret_basic", "system/*.read")
//!     .start()
//!     .await?;
//! println!("{}", server.token_url());
//! assert_eq!(server.token_requests().await?, 0);
//! # Ok(()) }
//! ```

use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};

/// Where the node project lives.
pub fn server_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oauth-server")
}

/// Configures an [`OAuthServer`] before it starts.
#[derive(Debug, Clone)]
#[must_use]
pub struct OAuthServerBuilder {
    audience: String,
    access_token_ttl: u64,
    max_assertion_lifetime: u64,
    scopes: Vec<String>,
    clients: Vec<Value>,
    interactive: bool,
    launch_patient: Option<String>,
}

impl OAuthServerBuilder {
    /// Access token lifetime in seconds (default 3600). A few seconds make expiry testable.
    pub fn access_token_ttl(mut self, seconds: u64) -> Self {
        self.access_token_ttl = seconds;
        self
    }

    /// Client assertions whose `exp` is more than this many seconds ahead are refused (default
    /// 300, the SMART Backend Services maximum).
    pub fn max_assertion_lifetime(mut self, seconds: u64) -> Self {
        self.max_assertion_lifetime = seconds;
        self
    }

    /// Scopes the server knows besides the clients' own (a known scope a client is not
    /// registered for is refused with `invalid_scope`; an unknown one is silently dropped).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Registers a client authenticating with a secret; `method` is `client_secret_basic` or
    /// `client_secret_post` (the server refuses the other one); `scope` is space-separated.
    pub fn client_secret(
        mut self,
        client_id: &str,
        secret: &str,
        method: &str,
        scope: &str,
    ) -> Self {
        self.clients.push(json!({
            "client_id": client_id,
            "client_secret": secret,
            "token_endpoint_auth_method": method,
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
            "scope": scope,
        }));
        self
    }

    /// Registers a SMART Backend Services client (`private_key_jwt`) with its public JWK Set and
    /// the one algorithm (`RS384` or `ES384`) its assertions must use.
    pub fn private_key_jwt_client(
        mut self,
        client_id: &str,
        alg: &str,
        jwks: Value,
        scope: &str,
    ) -> Self {
        self.clients.push(json!({
            "client_id": client_id,
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": alg,
            "jwks": jwks,
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
            "scope": scope,
        }));
        self
    }

    /// Users sign in (SMART App Launch): oidc-provider's development login and consent pages
    /// (any login and password) and token revocation are on. See [`sign_in`].
    pub fn interactive(mut self) -> Self {
        self.interactive = true;
        self
    }

    /// The patient id the token response puts in launch context when `launch/patient` is
    /// granted (SMART's `patient` field).
    pub fn launch_patient(mut self, id: impl Into<String>) -> Self {
        self.launch_patient = Some(id.into());
        self
    }

    /// Registers an app for the authorization-code flow (a native app: any loopback port is
    /// accepted for `redirect_uri`, RFC 8252 §7.3) with refresh tokens. `secret`: `None` for
    /// a public client (PKCE alone), else `client_secret_basic`.
    pub fn app_client(
        mut self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        secret: Option<&str>,
    ) -> Self {
        let mut client = app_registration(client_id, redirect_uri, scope);
        match secret {
            Some(secret) => {
                client["client_secret"] = json!(secret);
                client["token_endpoint_auth_method"] = json!("client_secret_basic");
            }
            None => client["token_endpoint_auth_method"] = json!("none"),
        }
        self.clients.push(client);
        self
    }

    /// Registers an app for the authorization-code flow that authenticates with a JWT assertion
    /// (`private_key_jwt`, SMART `client-confidential-asymmetric`) signed by a key in `jwks`
    /// with `alg` (`RS384` or `ES384`).
    pub fn app_client_with_key(
        mut self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        alg: &str,
        jwks: Value,
    ) -> Self {
        let mut client = app_registration(client_id, redirect_uri, scope);
        client["token_endpoint_auth_method"] = json!("private_key_jwt");
        client["token_endpoint_auth_signing_alg"] = json!(alg);
        client["jwks"] = jwks;
        self.clients.push(client);
        self
    }

    /// Starts `node server.mjs` and waits (up to 30 s) until it listens.
    ///
    /// # Errors
    ///
    /// When node or the npm packages are missing, or the server does not come up; the message
    /// says how to install it and quotes the server's stderr.
    pub async fn start(self) -> io::Result<OAuthServer> {
        let dir = server_dir();
        if !dir.join("node_modules/oidc-provider").is_dir() {
            return Err(io::Error::other(format!(
                "the OAuth test server is not installed: run scripts/install-oauth-server.sh (npm ci in {})",
                dir.display()
            )));
        }
        let work = tempfile::tempdir()?;
        let config_path = work.path().join("oauth-config.json");
        let config = json!({
            "audience": self.audience,
            "accessTokenTtl": self.access_token_ttl,
            "maxAssertionLifetime": self.max_assertion_lifetime,
            "scopes": self.scopes,
            "clients": self.clients,
            "interactive": self.interactive,
            "launchPatient": self.launch_patient,
        });
        std::fs::write(&config_path, serde_json::to_vec_pretty(&config)?)?;
        let stderr_path = work.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path)?;
        let node = std::env::var("FHIRFORGE_NODE_BIN").unwrap_or_else(|_| "node".into());
        let mut child = tokio::process::Command::new(&node)
            .arg("server.mjs")
            .current_dir(&dir)
            .env("FHIRFORGE_OAUTH_CONFIG", &config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                io::Error::other(format!(
                    "cannot start {node} (Node.js 20+ is required): {e}"
                ))
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout pipe"))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(info) = line.strip_prefix("READY ") {
                    return Ok::<_, io::Error>(Some(info.to_owned()));
                }
            }
            Ok(None)
        })
        .await;
        let stderr_tail = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let info = match ready {
            Ok(Ok(Some(info))) => info,
            Ok(Ok(None)) => {
                return Err(io::Error::other(format!(
                    "the OAuth test server exited before it was ready: {}",
                    stderr_tail()
                )))
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(io::Error::other(format!(
                    "the OAuth test server did not start within 30 s: {}",
                    stderr_tail()
                )))
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let info: Value = serde_json::from_str(&info)?;
        let field = |name: &str| -> io::Result<String> {
            info.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| io::Error::other(format!("READY line has no {name}")))
        };
        Ok(OAuthServer {
            issuer: field("issuer")?,
            token_url: field("token_endpoint")?,
            jwks_url: field("jwks_uri")?,
            authorization_url: field("authorization_endpoint")?,
            revocation_url: info
                .get("revocation_endpoint")
                .and_then(Value::as_str)
                .map(str::to_owned),
            child,
            _work: work,
        })
    }
}

/// A running `oidc-provider` on 127.0.0.1; killed on drop.
#[derive(Debug)]
pub struct OAuthServer {
    issuer: String,
    token_url: String,
    jwks_url: String,
    authorization_url: String,
    revocation_url: Option<String>,
    child: tokio::process::Child,
    _work: tempfile::TempDir,
}

impl OAuthServer {
    /// A builder for a server whose access tokens are for `audience` (the FHIR base URL).
    pub fn builder(audience: impl Into<String>) -> OAuthServerBuilder {
        OAuthServerBuilder {
            audience: audience.into(),
            access_token_ttl: 3600,
            max_assertion_lifetime: 300,
            scopes: Vec::new(),
            clients: Vec::new(),
            interactive: false,
            launch_patient: None,
        }
    }

    /// The issuer (`http://127.0.0.1:PORT`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The JWKS URL holding the keys that sign access tokens.
    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    /// The authorization endpoint (users sign in there when the server is
    /// [`interactive`](OAuthServerBuilder::interactive)).
    pub fn authorization_url(&self) -> &str {
        &self.authorization_url
    }

    /// The RFC 7009 revocation endpoint, when the server is interactive.
    pub fn revocation_url(&self) -> Option<&str> {
        self.revocation_url.as_deref()
    }

    /// How many POSTs the token endpoint has received so far (successful or not).
    ///
    /// # Errors
    ///
    /// When the server cannot be asked.
    pub async fn token_requests(&self) -> io::Result<u64> {
        let url = format!("{}/__fhirforge/token-requests", self.issuer);
        let value: Value = reqwest::get(&url)
            .await
            .map_err(io::Error::other)?
            .json()
            .await
            .map_err(io::Error::other)?;
        value
            .get("count")
            .and_then(Value::as_u64)
            .ok_or_else(|| io::Error::other("bad count response"))
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// What every authorization-code app registers: a native app (any loopback port), the code and
/// refresh grants, its redirect URI and scopes.
fn app_registration(client_id: &str, redirect_uri: &str, scope: &str) -> Value {
    json!({
        "client_id": client_id,
        "application_type": "native",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": [redirect_uri],
        "scope": scope,
    })
}

/// Signs a user in at an [`interactive`](OAuthServerBuilder::interactive) server, as a browser
/// would: opens `authorization_url`, fills oidc-provider's login form (any `login`, any
/// password) and consent form, keeping the server's cookies, and returns the URL the server
/// finally redirects to (the app's redirect URI with `code` and `state`, or with `error`),
/// without opening it.
///
/// # Errors
///
/// When the server cannot be reached, or answers with a page that has no form and no redirect
/// (the error quotes the start of the page).
pub async fn sign_in(authorization_url: &str, login: &str) -> io::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(io::Error::other)?;
    let start = reqwest::Url::parse(authorization_url).map_err(io::Error::other)?;
    let origin = start.origin();
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut next = (reqwest::Method::GET, start, Vec::<(String, String)>::new());
    for _ in 0..20 {
        let (method, url, form) = next;
        if url.origin() != origin {
            return Ok(url.to_string());
        }
        let cookie = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = http.request(method.clone(), url.clone());
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        if method == reqwest::Method::POST {
            request = request.form(&form);
        }
        let response = request.send().await.map_err(io::Error::other)?;
        for value in response.headers().get_all("set-cookie") {
            let Some(pair) = value.to_str().ok().and_then(|v| v.split(';').next()) else {
                continue;
            };
            if let Some((name, value)) = pair.split_once('=') {
                cookies.retain(|(n, _)| n != name.trim());
                if !value.is_empty() {
                    cookies.push((name.trim().to_owned(), value.to_owned()));
                }
            }
        }
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| io::Error::other("a redirect without Location"))?;
            next = (
                reqwest::Method::GET,
                url.join(location).map_err(io::Error::other)?,
                Vec::new(),
            );
            continue;
        }
        let page = response.text().await.map_err(io::Error::other)?;
        let Some(action) = form_action(&page) else {
            // An error page: its body says why.
            let body = page.find("<body").map_or(page.as_str(), |at| &page[at..]);
            return Err(io::Error::other(format!(
                "the sign-in page has no form: {}",
                body.chars().take(600).collect::<String>()
            )));
        };
        let mut fields = hidden_inputs(&page);
        if page.contains("name=\"login\"") {
            fields.push(("login".into(), login.into()));
            fields.push(("password".into(), "any-password".into()));
        }
        next = (
            reqwest::Method::POST,
            url.join(&action).map_err(io::Error::other)?,
            fields,
        );
    }
    Err(io::Error::other(
        "the sign-in did not finish within 20 steps",
    ))
}

/// The `action` of the first `<form>` in a page.
fn form_action(page: &str) -> Option<String> {
    let form = &page[page.find("<form")?..];
    let rest = &form[form.find("action=\"")? + 8..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

/// `name`/`value` of every `<input type="hidden">` in a page.
fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[start..start + tag[start..].find('"')?].to_owned())
    };
    page.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| {
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect()
}
