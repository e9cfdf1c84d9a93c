//! SMART App Launch, the part of the authorization-code flow that happens before the browser
//! comes back: PKCE (RFC 7636, `S256` only), a random `state`, and the authorization URL
//! (RFC 6749 §4.1.1 with SMART's `aud` and, for an EHR launch, `launch`), checked against what
//! the server's SMART configuration says it offers. Then the redirect is read back
//! ([`PendingAuthorization::code_from_redirect`]): the `state` must match and an OAuth2 error
//! is reported as such.
//!
//! [`SmartTokenResponse`] reads what the token endpoint answers to the code exchange, with
//! SMART's launch context. Sending the exchange, refreshing and storing tokens are not here yet.

use super::oauth::{check_bearer, lifetime};
use super::smart::SmartConfiguration;
use super::transport::is_loopback;
use super::{AccessToken, AuthError, RefreshToken};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::time::Duration;
use url::Url;

/// Random bytes from the OS, base64url without padding.
fn random_text(bytes: usize) -> Result<String, AuthError> {
    use rand_core::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand_core::OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|e| AuthError::Config(format!("no randomness from the OS: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// A PKCE verifier and its `S256` challenge. The verifier is a secret until the code is
/// exchanged, so `Debug` never shows it.
#[derive(Clone)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &"[redacted]")
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, 43 characters (RFC 7636 §4.1 recommends exactly
    /// this).
    ///
    /// # Errors
    /// [`AuthError::Config`] when the OS gives no randomness.
    pub fn generate() -> Result<Self, AuthError> {
        Self::from_verifier(&random_text(32)?)
    }

    /// The pair for a given verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for a verifier outside that grammar.
    pub fn from_verifier(verifier: &str) -> Result<Self, AuthError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
        if !(43..=128).contains(&verifier.len()) || !verifier.chars().all(allowed) {
            return Err(AuthError::Config(
                "a PKCE code verifier is 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'"
                    .into(),
            ));
        }
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Ok(Self {
            verifier: verifier.to_owned(),
            challenge,
        })
    }

    /// The verifier, sent once with the code exchange.
    ///
    /// # Security Warning
    /// Do not log it: with the code it obtains the tokens.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// `BASE64URL(SHA256(verifier))`, sent in the authorization URL.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// How the app is launched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// The app starts on its own (SMART capability `launch-standalone`).
    Standalone,
    /// The EHR started the app and passed this `launch` value (capability `launch-ehr`).
    Ehr(String),
}

/// How the client authenticates at the token endpoint, which decides the SMART capability the
/// server must list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// No secret: PKCE alone (`client-public`).
    Public,
    /// A client secret (`client-confidential-symmetric`).
    ConfidentialSymmetric,
    /// A signed JWT assertion (`client-confidential-asymmetric`).
    ConfidentialAsymmetric,
}

impl ClientKind {
    fn capability(self) -> &'static str {
        match self {
            Self::Public => "client-public",
            Self::ConfidentialSymmetric => "client-confidential-symmetric",
            Self::ConfidentialAsymmetric => "client-confidential-asymmetric",
        }
    }
}

/// What to ask the authorization server for.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    client_id: String,
    redirect_uri: Url,
    aud: Url,
    scopes: Vec<String>,
    launch: Launch,
    client: ClientKind,
}

impl AuthorizationRequest {
    /// A standalone launch of a public client. `aud` is the FHIR base URL the token is for
    /// (SMART requires it, so a token cannot be replayed at another server).
    pub fn new(client_id: impl Into<String>, redirect_uri: Url, aud: Url) -> Self {
        Self {
            client_id: client_id.into(),
            redirect_uri,
            aud,
            scopes: Vec::new(),
            launch: Launch::Standalone,
            client: ClientKind::Public,
        }
    }

    /// Adds scopes (`openid`, `fhirUser`, `launch/patient`, `patient/*.rs`, `offline_access`).
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// An EHR launch with the `launch` value the EHR passed.
    #[must_use]
    pub fn ehr_launch(mut self, launch: impl Into<String>) -> Self {
        self.launch = Launch::Ehr(launch.into());
        self
    }

    /// How the client will authenticate at the token endpoint (default [`ClientKind::Public`]).
    #[must_use]
    pub fn client(mut self, kind: ClientKind) -> Self {
        self.client = kind;
        self
    }

    /// Checks the request against the server's SMART configuration and builds the
    /// authorization URL with a fresh `state` and PKCE pair.
    ///
    /// A server that lists no capabilities or no challenge methods (SMART v1) is not held to
    /// them; one that lists them must list what this request needs.
    ///
    /// # Errors
    /// [`AuthError::Config`] when the configuration has no `authorization_endpoint`, it is
    /// plain http to another host, or the scopes are empty; [`AuthError::NotOffered`] when the
    /// server lists its capabilities or challenge methods without the ones needed.
    pub fn begin(&self, config: &SmartConfiguration) -> Result<PendingAuthorization, AuthError> {
        let endpoint = config.authorization_endpoint.as_ref().ok_or_else(|| {
            AuthError::Config(
                "the server's SMART configuration has no authorization_endpoint: it does not \
                 offer the authorization-code flow"
                    .into(),
            )
        })?;
        if endpoint.scheme() != "https" && !is_loopback(endpoint) {
            return Err(AuthError::Config(format!(
                "the authorization endpoint {endpoint} is not https"
            )));
        }
        if self.scopes.is_empty() {
            return Err(AuthError::Config(
                "no scopes requested (for example `openid fhirUser patient/*.rs`)".into(),
            ));
        }
        let methods = &config.code_challenge_methods_supported;
        if !methods.is_empty() && !methods.iter().any(|m| m == "S256") {
            return Err(AuthError::NotOffered {
                what: "PKCE with S256 (code_challenge_methods_supported)".into(),
                listed: methods.clone(),
            });
        }
        let caps = &config.capabilities;
        if !caps.is_empty() {
            let launch = match self.launch {
                Launch::Standalone => "launch-standalone",
                Launch::Ehr(_) => "launch-ehr",
            };
            let offline = self.scopes.iter().any(|s| s == "offline_access");
            let needed = [Some(launch), Some(self.client.capability())]
                .into_iter()
                .chain([offline.then_some("permission-offline")]);
            for capability in needed.flatten() {
                if !caps.iter().any(|c| c == capability) {
                    return Err(AuthError::NotOffered {
                        what: format!("the SMART capability `{capability}`"),
                        listed: caps.clone(),
                    });
                }
            }
        }
        let state = random_text(16)?;
        let pkce = Pkce::generate()?;
        let mut url = endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", self.redirect_uri.as_str())
                .append_pair("scope", &self.scopes.join(" "))
                .append_pair("state", &state)
                .append_pair("aud", self.aud.as_str())
                .append_pair("code_challenge", pkce.challenge())
                .append_pair("code_challenge_method", "S256");
            if let Launch::Ehr(launch) = &self.launch {
                query.append_pair("launch", launch);
            }
        }
        Ok(PendingAuthorization {
            url,
            state,
            pkce,
            redirect_uri: self.redirect_uri.clone(),
        })
    }
}

/// An authorization in progress: the URL to open in a browser, and what checks the redirect.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    url: Url,
    state: String,
    pkce: Pkce,
    redirect_uri: Url,
}

impl PendingAuthorization {
    /// The URL to open in the user's browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The PKCE pair; its verifier goes with the code exchange.
    pub fn pkce(&self) -> &Pkce {
        &self.pkce
    }

    /// The authorization code from the URL the browser was redirected to.
    ///
    /// # Errors
    /// [`AuthError::Config`] when the URL is not the redirect URI (another scheme, host, port
    /// or path) or carries no code; [`AuthError::StateMismatch`] when its `state` is missing or
    /// not this authorization's (a forged or stale redirect); [`AuthError::AuthorizationDenied`]
    /// when the server redirected with an OAuth2 `error`.
    pub fn code_from_redirect(&self, redirect: &Url) -> Result<String, AuthError> {
        let expected = &self.redirect_uri;
        if redirect.scheme() != expected.scheme()
            || redirect.host_str() != expected.host_str()
            || redirect.port_or_known_default() != expected.port_or_known_default()
            || redirect.path() != expected.path()
        {
            return Err(AuthError::Config(format!(
                "the redirect went to {}{}, not to the redirect URI {}",
                redirect.origin().ascii_serialization(),
                redirect.path(),
                expected
            )));
        }
        let param = |name: &str| {
            redirect
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let state_matches = param("state").is_some_and(|s| {
            // Compared without an early exit, like any secret.
            s.len() == self.state.len()
                && s.bytes()
                    .zip(self.state.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if !state_matches {
            return Err(AuthError::StateMismatch);
        }
        if let Some(error) = param("error") {
            return Err(AuthError::AuthorizationDenied {
                error,
                description: param("error_description"),
            });
        }
        param("code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| AuthError::Config("the redirect carries no authorization code".into()))
    }
}

/// The token endpoint's answer to a SMART code exchange: the tokens, and the launch context
/// SMART App Launch adds (RFC 6749 §5.1; SMART App Launch 2.x "Response to Access Token
/// Request"). Tokens are redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct SmartTokenResponse {
    /// The access token (always `Bearer`).
    pub access_token: AccessToken,
    /// Its lifetime, when the server says (at most 24 hours are believed).
    pub expires_in: Option<Duration>,
    /// The scopes granted, which may be fewer than requested.
    pub scope: Option<String>,
    /// The refresh token (`offline_access` or `online_access`).
    pub refresh_token: Option<RefreshToken>,
    /// The OpenID Connect `id_token` (a JWT naming the user), for `openid fhirUser`.
    pub id_token: Option<AccessToken>,
    /// The patient in context (`launch/patient`), a logical id.
    pub patient: Option<String>,
    /// The encounter in context (`launch/encounter`), a logical id.
    pub encounter: Option<String>,
    /// The user, as a FHIR resource URL (SMART 2 gives it in the id_token; some servers also
    /// send it here).
    pub fhir_user: Option<String>,
    /// Whether the app must show a patient banner.
    pub need_patient_banner: Option<bool>,
    /// Where the EHR's style sheet for the app is.
    pub smart_style_url: Option<String>,
}

impl SmartTokenResponse {
    /// Reads a token response body.
    ///
    /// # Errors
    /// [`AuthError::InvalidTokenResponse`] (naming `token_url`) when the body is not JSON, has
    /// no access token, a token type other than Bearer, or a field of the wrong kind. The
    /// reason never quotes a token.
    pub fn from_json(token_url: &Url, body: &[u8]) -> Result<Self, AuthError> {
        let fail = |reason: String| AuthError::InvalidTokenResponse {
            url: token_url.to_string(),
            reason,
        };
        let value: Value =
            serde_json::from_slice(body).map_err(|_| fail("the body is not JSON".into()))?;
        let Value::Object(fields) = value else {
            return Err(fail("the body is not a JSON object".into()));
        };
        let text = |name: &str| -> Result<Option<String>, AuthError> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(fail(format!("\"{name}\" is not a non-empty string"))),
            }
        };
        let access_token =
            text("access_token")?.ok_or_else(|| fail("no \"access_token\"".into()))?;
        check_bearer(text("token_type")?.as_deref()).map_err(fail)?;
        let expires_in = lifetime(fields.get("expires_in")).map_err(fail)?;
        let need_patient_banner = match fields.get("need_patient_banner") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(fail("\"need_patient_banner\" is not a boolean".into())),
        };
        Ok(Self {
            access_token: AccessToken::new(access_token),
            expires_in,
            scope: text("scope")?,
            refresh_token: text("refresh_token")?.map(RefreshToken::new),
            id_token: text("id_token")?.map(AccessToken::new),
            patient: text("patient")?,
            encounter: text("encounter")?,
            fhir_user: text("fhirUser")?,
            need_patient_banner,
            smart_style_url: text("smart_style_url")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vendor_config(vendor: &str) -> SmartConfiguration {
        let path = format!(
            "{}/../../specs/vendors/{vendor}-smart-configuration.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("vendor smart configuration");
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        let url = Url::parse("https://fhir.example/.well-known/smart-configuration").expect("url");
        SmartConfiguration::from_json(&url, &doc).expect("config")
    }

    fn request() -> AuthorizationRequest {
        AuthorizationRequest::new(
            "my-app",
            Url::parse("http://127.0.0.1:8976/callback").expect("url"),
            Url::parse("https://fhir.example/api/FHIR/R4").expect("url"),
        )
        .scopes(["openid", "fhirUser", "launch/patient", "patient/*.rs"])
    }

    fn query(url: &Url) -> Vec<(String, String)> {
        url.query_pairs()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        // RFC 7636, Appendix B.
        let pkce =
            Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("valid");
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!format!("{pkce:?}").contains("dBjft"));
    }

    #[test]
    fn pkce_verifiers_are_fresh_and_in_the_grammar() {
        let a = Pkce::generate().expect("random");
        let b = Pkce::generate().expect("random");
        assert_eq!(a.verifier().len(), 43);
        assert_ne!(a.verifier(), b.verifier());
        assert!(Pkce::from_verifier(a.verifier()).is_ok());
        assert!(Pkce::from_verifier("too-short").is_err());
        assert!(Pkce::from_verifier(&"a".repeat(129)).is_err());
        assert!(Pkce::from_verifier(&format!("{}+", "a".repeat(43))).is_err());
    }

    #[test]
    fn the_authorization_url_for_each_shipped_vendor() {
        for vendor in ["epic-r4", "cerner-r4", "athenahealth-r4"] {
            let config = vendor_config(vendor);
            let pending = request().begin(&config).expect(vendor);
            let url = pending.url();
            let endpoint = config.authorization_endpoint.as_ref().expect("endpoint");
            assert_eq!(url.path(), endpoint.path(), "{vendor}");
            let q = query(url);
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            assert_eq!(get("response_type"), Some("code"));
            assert_eq!(get("client_id"), Some("my-app"));
            assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:8976/callback"));
            assert_eq!(
                get("scope"),
                Some("openid fhirUser launch/patient patient/*.rs")
            );
            assert_eq!(get("aud"), Some("https://fhir.example/api/FHIR/R4"));
            assert_eq!(get("code_challenge"), Some(pending.pkce().challenge()));
            assert_eq!(get("code_challenge_method"), Some("S256"));
            assert_eq!(get("launch"), None);
            assert!(get("state").is_some_and(|s| s.len() >= 22));
        }
        let pending = request()
            .ehr_launch("xyz123")
            .begin(&vendor_config("epic-r4"))
            .expect("EHR launch");
        assert!(query(pending.url()).contains(&("launch".into(), "xyz123".into())));
    }

    #[test]
    fn what_the_server_does_not_offer_is_refused() {
        let mut config = vendor_config("epic-r4");
        config.code_challenge_methods_supported = vec!["plain".into()];
        let e = request().begin(&config).expect_err("no S256");
        assert!(matches!(e, AuthError::NotOffered { .. }), "{e}");
        assert!(e.to_string().contains("S256"), "{e}");

        let mut config = vendor_config("epic-r4");
        config.capabilities.retain(|c| c != "launch-ehr");
        let e = request()
            .ehr_launch("x")
            .begin(&config)
            .expect_err("no EHR launch");
        assert!(e.to_string().contains("`launch-ehr`"), "{e}");
        assert!(
            request().begin(&config).is_ok(),
            "standalone is still offered"
        );

        let mut config = vendor_config("epic-r4");
        config.capabilities.retain(|c| c != "permission-offline");
        let e = request()
            .scopes(["offline_access"])
            .begin(&config)
            .expect_err("no offline access");
        assert!(e.to_string().contains("permission-offline"), "{e}");

        let mut config = vendor_config("epic-r4");
        config.capabilities.retain(|c| c != "client-public");
        assert!(request().begin(&config).is_err());
        assert!(request()
            .client(ClientKind::ConfidentialAsymmetric)
            .begin(&config)
            .is_ok());

        let mut config = vendor_config("epic-r4");
        config.authorization_endpoint = None;
        assert!(request().begin(&config).is_err());

        let mut config = vendor_config("epic-r4");
        config.authorization_endpoint =
            Some(Url::parse("http://ehr.example/authorize").expect("url"));
        assert!(
            request().begin(&config).is_err(),
            "plain http to another host"
        );

        let config = vendor_config("epic-r4");
        let no_scopes = AuthorizationRequest::new(
            "a",
            Url::parse("http://127.0.0.1:1/cb").expect("url"),
            Url::parse("https://f.example").expect("url"),
        );
        assert!(no_scopes.begin(&config).is_err());
    }

    #[test]
    fn the_redirect_gives_the_code_only_with_the_right_state() {
        let pending = request().begin(&vendor_config("epic-r4")).expect("begin");
        let state = query(pending.url())
            .into_iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v)
            .expect("state");
        let redirect =
            |q: &str| Url::parse(&format!("http://127.0.0.1:8976/callback?{q}")).expect("url");

        assert_eq!(
            pending
                .code_from_redirect(&redirect(&format!("code=abc&state={state}")))
                .expect("code"),
            "abc"
        );
        assert!(matches!(
            pending.code_from_redirect(&redirect("code=abc&state=forged")),
            Err(AuthError::StateMismatch)
        ));
        assert!(matches!(
            pending.code_from_redirect(&redirect("code=abc")),
            Err(AuthError::StateMismatch)
        ));
        let denied = pending
            .code_from_redirect(&redirect(&format!(
                "error=access_denied&error_description=user+said+no&state={state}"
            )))
            .expect_err("denied");
        assert!(
            matches!(&denied, AuthError::AuthorizationDenied { error, description }
                if error == "access_denied" && description.as_deref() == Some("user said no")),
            "{denied}"
        );
        assert!(pending
            .code_from_redirect(&redirect(&format!("state={state}")))
            .is_err());
        let elsewhere = Url::parse(&format!(
            "http://127.0.0.1:8976/other?code=abc&state={state}"
        ))
        .expect("url");
        assert!(pending.code_from_redirect(&elsewhere).is_err());
    }

    #[test]
    fn a_smart_token_response_with_launch_context() {
        let url = Url::parse("https://ehr.example/token").expect("url");
        let body = br#"{"access_token":"at-secret-1","token_type":"bearer","expires_in":"3600",
            "scope":"openid fhirUser launch/patient patient/*.rs","refresh_token":"rt-secret-2",
            "id_token":"eyJ.id.token","patient":"123","encounter":"e9",
            "fhirUser":"Practitioner/7","need_patient_banner":true,
            "smart_style_url":"https://ehr.example/style.json","extra":{"ignored":1}}"#;
        let r = SmartTokenResponse::from_json(&url, body).expect("valid");
        assert_eq!(r.access_token.expose_secret(), "at-secret-1");
        assert_eq!(r.expires_in, Some(Duration::from_secs(3600)));
        assert_eq!(
            r.refresh_token.as_ref().map(|t| t.expose_secret()),
            Some("rt-secret-2")
        );
        assert_eq!(r.patient.as_deref(), Some("123"));
        assert_eq!(r.encounter.as_deref(), Some("e9"));
        assert_eq!(r.fhir_user.as_deref(), Some("Practitioner/7"));
        assert_eq!(r.need_patient_banner, Some(true));
        assert_eq!(
            r.scope.as_deref(),
            Some("openid fhirUser launch/patient patient/*.rs")
        );
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("at-secret-1")
                && !shown.contains("rt-secret-2")
                && !shown.contains("eyJ.id"),
            "{shown}"
        );

        let minimal =
            SmartTokenResponse::from_json(&url, br#"{"access_token":"a","token_type":"Bearer"}"#)
                .expect("minimal");
        assert!(
            minimal.patient.is_none()
                && minimal.refresh_token.is_none()
                && minimal.expires_in.is_none()
        );
    }

    #[test]
    fn a_bad_token_response_says_why_without_the_token() {
        let url = Url::parse("https://ehr.example/token").expect("url");
        for (body, why) in [
            (&b"not json"[..], "not JSON"),
            (br#"["a"]"#, "not a JSON object"),
            (br#"{"token_type":"bearer"}"#, "no \"access_token\""),
            (br#"{"access_token":"tok-123456","token_type":"mac"}"#, "only Bearer"),
            (br#"{"access_token":"tok-123456"}"#, "no \"token_type\""),
            (br#"{"access_token":"tok-123456","token_type":"bearer","expires_in":"soon"}"#, "expires_in"),
            (br#"{"access_token":"tok-123456","token_type":"bearer","patient":42}"#, "\"patient\""),
            (br#"{"access_token":"tok-123456","token_type":"bearer","need_patient_banner":"yes"}"#, "need_patient_banner"),
        ] {
            let e = SmartTokenResponse::from_json(&url, body).expect_err(why);
            let text = e.to_string();
            assert!(matches!(e, AuthError::InvalidTokenResponse { .. }), "{text}");
            assert!(text.contains(why), "{text} should say {why}");
            assert!(!text.contains("tok-123456"), "{text}");
        }
    }
}
