//! The part of the authorization-code flow that happens before the browser comes back: PKCE
//! (RFC 7636, `S256` only), a random `state` and `nonce`, and the authorization URL (RFC 6749
//! §4.1.1 with SMART's `aud` and, for an EHR launch, `launch`), checked against what the server's
//! SMART configuration says it offers. Then the redirect is read back
//! ([`PendingAuthorization::code_from_redirect`]): the `state` must match and an OAuth2 error is
//! reported as such.

use crate::auth::smart::SmartConfiguration;
use crate::auth::transport::is_loopback;
use crate::auth::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use std::fmt;
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
        // RFC 8252 §7.3 and §8.3: a native app's redirect is loopback; plain http anywhere
        // else would hand the code to whoever is on the path.
        let redirect = &self.redirect_uri;
        let loopback_ip = matches!(
            redirect.host(),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
        ) || matches!(redirect.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        if !(redirect.scheme() == "https" || (redirect.scheme() == "http" && loopback_ip)) {
            return Err(AuthError::Config(format!(
                "the redirect URI {redirect} is neither https nor http on a loopback address \
                 (127.0.0.1 or [::1], RFC 8252)"
            )));
        }
        let grants = &config.grant_types_supported;
        if !grants.is_empty() && !grants.iter().any(|g| g == "authorization_code") {
            return Err(AuthError::NotOffered {
                what: "the authorization_code grant (grant_types_supported)".into(),
                listed: grants.clone(),
            });
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
        // OpenID Connect: the id_token must carry this nonce back (a replayed id_token does not).
        let nonce = if self.scopes.iter().any(|s| s == "openid") {
            Some(random_text(16)?)
        } else {
            None
        };
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
            if let Some(nonce) = &nonce {
                query.append_pair("nonce", nonce);
            }
        }
        Ok(PendingAuthorization {
            url,
            state,
            nonce,
            pkce,
            redirect_uri: self.redirect_uri.clone(),
            scopes: self.scopes.clone(),
        })
    }
}

/// An authorization in progress: the URL to open in a browser, and what checks the redirect.
#[derive(Clone)]
pub struct PendingAuthorization {
    url: Url,
    state: String,
    nonce: Option<String>,
    pkce: Pkce,
    redirect_uri: Url,
    scopes: Vec<String>,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL holds the state and challenge, not secrets once the code is exchanged, but
        // they are not needed in a log either.
        f.debug_struct("PendingAuthorization")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
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

    /// The OpenID Connect nonce sent (when `openid` was requested); the id_token must carry it.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// The redirect URI the authorization request named (the code exchange repeats it).
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The scopes requested.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
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
            assert_eq!(get("nonce"), pending.nonce(), "openid sends a nonce");
            assert!(pending.nonce().is_some_and(|n| n.len() >= 22));
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

        let mut config = vendor_config("epic-r4");
        config.grant_types_supported = vec!["client_credentials".into()];
        let e = request().begin(&config).expect_err("no authorization_code");
        assert!(e.to_string().contains("authorization_code"), "{e}");

        let config = vendor_config("epic-r4");
        for redirect in [
            "http://app.example/callback",
            "http://localhost.evil.example/cb",
        ] {
            let e = AuthorizationRequest::new(
                "a",
                Url::parse(redirect).expect("url"),
                Url::parse("https://f.example").expect("url"),
            )
            .scopes(["openid"])
            .begin(&config)
            .expect_err(redirect);
            assert!(e.to_string().contains("loopback"), "{e}");
        }
        for redirect in [
            "http://127.0.0.1:9/cb",
            "http://[::1]:9/cb",
            "https://app.example/cb",
        ] {
            let ok = AuthorizationRequest::new(
                "a",
                Url::parse(redirect).expect("url"),
                Url::parse("https://f.example").expect("url"),
            )
            .scopes(["openid"])
            .begin(&config);
            assert!(ok.is_ok(), "{redirect}: {ok:?}");
        }

        let no_scopes = AuthorizationRequest::new(
            "a",
            Url::parse("http://127.0.0.1:1/cb").expect("url"),
            Url::parse("https://f.example").expect("url"),
        );
        assert!(no_scopes.begin(&config).is_err());
    }

    #[test]
    fn a_statement_s_oauth_uris_are_enough_to_begin() {
        let statement: Value = serde_json::json!({"rest": [{"security": {"extension": [{
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [
            {"url": "authorize", "valueUri": "https://ehr.example/oauth2/authorize"},
            {"url": "token", "valueUri": "https://ehr.example/oauth2/token"}
        ]}]}}]});
        let uris = crate::auth::oauth_uris(&statement).expect("oauth-uris");
        let config = SmartConfiguration::from(&uris);
        assert_eq!(
            config.token_endpoint.as_ref().map(Url::as_str),
            Some("https://ehr.example/oauth2/token")
        );
        let pending = request()
            .begin(&config)
            .expect("nothing listed, nothing refused");
        assert_eq!(pending.url().path(), "/oauth2/authorize");
        assert!(config.jwks_uri.is_none(), "an id_token cannot be verified");
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
}
