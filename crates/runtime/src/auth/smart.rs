//! Where the token endpoint is: SMART discovery (`.well-known/smart-configuration`) and the
//! capability statement's `oauth-uris` extension.

use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::transport::{check_transport_security, HttpContext};
use super::AuthError;

/// The extension URL SMART uses in `CapabilityStatement.rest.security`.
const OAUTH_URIS: &str = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/// A SMART App Launch 2.x `.well-known/smart-configuration` document.
///
/// The one type for it in the workspace: the client credentials flow reads it here
/// ([`SmartConfiguration::discover`]), and the model reader (`fhirforge_parse`) builds it with
/// its own stricter checks and warnings. Absent lists are empty: SMART gives an empty list no
/// meaning of its own, so "not declared" and "declared empty" are treated alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SmartConfiguration {
    /// `issuer`, verbatim: an ID token's `iss` must equal it character for character, and
    /// parsing it as a [`Url`] would change it (`https://ehr.test` becomes `https://ehr.test/`).
    pub issuer: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<Url>,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<Url>,
    /// `token_endpoint`. Optional here because a document for apps that only launch may lack
    /// it; [`SmartConfiguration::from_json`] and [`SmartConfiguration::discover`] require it.
    pub token_endpoint: Option<Url>,
    /// `revocation_endpoint`.
    pub revocation_endpoint: Option<Url>,
    /// `introspection_endpoint`.
    pub introspection_endpoint: Option<Url>,
    /// `registration_endpoint`.
    pub registration_endpoint: Option<Url>,
    /// `management_endpoint`.
    pub management_endpoint: Option<Url>,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// `token_endpoint_auth_signing_alg_values_supported`.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    /// `grant_types_supported`.
    pub grant_types_supported: Vec<String>,
    /// `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// `response_types_supported`.
    pub response_types_supported: Vec<String>,
    /// `code_challenge_methods_supported`.
    pub code_challenge_methods_supported: Vec<String>,
    /// `capabilities`.
    pub capabilities: Vec<String>,
}

impl SmartConfiguration {
    /// The discovery URL for a FHIR base: `<base>/.well-known/smart-configuration`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Config`] if the base cannot be a base URL.
    pub fn url_for(fhir_base: &Url) -> Result<Url, AuthError> {
        let mut base = fhir_base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.join(".well-known/smart-configuration")
            .map_err(|e| AuthError::Config(format!("bad FHIR base URL {fhir_base}: {e}")))
    }

    /// Parses a smart-configuration document; relative token URLs resolve against `url`.
    ///
    /// # Errors
    ///
    /// [`AuthError::Discovery`] when `token_endpoint` is missing or not a URL: the client
    /// credentials flow cannot work without it.
    pub fn from_json(url: &Url, doc: &Value) -> Result<Self, AuthError> {
        let fail = |reason: String| AuthError::Discovery {
            url: url.to_string(),
            reason,
        };
        let token = doc
            .get("token_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("the document has no \"token_endpoint\"".into()))?;
        let token_endpoint = url
            .join(token)
            .map_err(|e| fail(format!("token_endpoint {token:?} is not a URL: {e}")))?;
        // Lenient where the flow does not depend on a field: a malformed optional URL or a
        // non-string list entry is dropped rather than failing discovery.
        let endpoint = |name: &str| {
            doc.get(name)
                .and_then(Value::as_str)
                .and_then(|v| url.join(v).ok())
        };
        let list = |name: &str| {
            doc.get(name)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        Ok(Self {
            issuer: doc.get("issuer").and_then(Value::as_str).map(str::to_owned),
            jwks_uri: endpoint("jwks_uri"),
            authorization_endpoint: endpoint("authorization_endpoint"),
            token_endpoint: Some(token_endpoint),
            revocation_endpoint: endpoint("revocation_endpoint"),
            introspection_endpoint: endpoint("introspection_endpoint"),
            registration_endpoint: endpoint("registration_endpoint"),
            management_endpoint: endpoint("management_endpoint"),
            token_endpoint_auth_methods_supported: list("token_endpoint_auth_methods_supported"),
            token_endpoint_auth_signing_alg_values_supported: list(
                "token_endpoint_auth_signing_alg_values_supported",
            ),
            grant_types_supported: list("grant_types_supported"),
            scopes_supported: list("scopes_supported"),
            response_types_supported: list("response_types_supported"),
            code_challenge_methods_supported: list("code_challenge_methods_supported"),
            capabilities: list("capabilities"),
        })
    }

    /// Fetches and parses `<fhir_base>/.well-known/smart-configuration`, within the context's
    /// timeout and body limit.
    ///
    /// # Errors
    ///
    /// [`AuthError::InsecureHttp`] for plain http to another host (unless the context allows it);
    /// [`AuthError::Discovery`] when the document cannot be fetched or parsed.
    pub async fn discover(http: &HttpContext, fhir_base: &Url) -> Result<Self, AuthError> {
        let url = Self::url_for(fhir_base)?;
        // The document names the token endpoint: read over plain http, an on-path attacker
        // could name its own and collect the client's credentials.
        check_transport_security(
            "the SMART discovery URL",
            &url,
            http.insecure_http_allowed(),
        )?;
        let fail = |reason: String| AuthError::Discovery {
            url: url.to_string(),
            reason,
        };
        tracing::debug!(%url, "discovering the SMART configuration");
        let (status, _, body) = http
            .send(
                http.get(&url)
                    .header(http::header::ACCEPT, "application/json"),
            )
            .await
            .map_err(fail)?;
        if !status.is_success() {
            return Err(fail(format!(
                "HTTP {status}: the server publishes no SMART configuration; configure the token URL instead"
            )));
        }
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("the body is not JSON: {e}")))?;
        Self::from_json(&url, &doc)
    }
}

/// The SMART OAuth endpoints a capability statement declares (`rest.security` extension
/// `oauth-uris`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuthUris {
    /// The `token` URL.
    pub token: Option<Url>,
    /// The `authorize` URL.
    pub authorize: Option<Url>,
    /// The `register` URL.
    pub register: Option<Url>,
    /// The `manage` URL.
    pub manage: Option<Url>,
}

/// The endpoints a capability statement's `oauth-uris` give, for a server that publishes no
/// `.well-known/smart-configuration`: no capabilities, grant types or challenge methods are
/// listed, so none are checked, and no `jwks_uri`, so an `id_token` cannot be verified.
impl From<&OAuthUris> for SmartConfiguration {
    fn from(uris: &OAuthUris) -> Self {
        Self {
            authorization_endpoint: uris.authorize.clone(),
            token_endpoint: uris.token.clone(),
            registration_endpoint: uris.register.clone(),
            management_endpoint: uris.manage.clone(),
            ..Self::default()
        }
    }
}

/// Reads the `oauth-uris` extension of a CapabilityStatement; `None` when it declares none.
/// Values that are not URLs are skipped.
pub fn oauth_uris(capability_statement: &Value) -> Option<OAuthUris> {
    let rests = capability_statement.get("rest")?.as_array()?;
    for rest in rests {
        let Some(extensions) = rest
            .pointer("/security/extension")
            .and_then(Value::as_array)
        else {
            continue;
        };
        for ext in extensions {
            if ext.get("url").and_then(Value::as_str) != Some(OAUTH_URIS) {
                continue;
            }
            let mut uris = OAuthUris::default();
            for part in ext
                .get("extension")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let value = part
                    .get("valueUri")
                    .or_else(|| part.get("valueUrl"))
                    .and_then(Value::as_str)
                    .and_then(|v| Url::parse(v).ok());
                match part.get("url").and_then(Value::as_str) {
                    Some("token") => uris.token = value,
                    Some("authorize") => uris.authorize = value,
                    Some("register") => uris.register = value,
                    Some("manage") => uris.manage = value,
                    _ => {}
                }
            }
            return Some(uris);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn oauth_uris_from_a_capability_statement() {
        let cs = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "security": {
        "service": [{"coding": [{"code": "SMART-on-FHIR"}]}],
        "extension": [{"url": OAUTH_URIS, "extension": [
            {"url": "token", "valueUri": "https://ehr.test/oauth2/token"},
            {"url": "authorize", "valueUri": "https://ehr.test/oauth2/authorize"},
            {"url": "register", "valueUri": "not a url"}
        ]}]}}]});
        let uris = oauth_uris(&cs).unwrap();
        assert_eq!(
            uris.token.unwrap().as_str(),
            "https://ehr.test/oauth2/token"
        );
        assert_eq!(
            uris.authorize.unwrap().as_str(),
            "https://ehr.test/oauth2/authorize"
        );
        assert_eq!(uris.register, None);
        assert_eq!(oauth_uris(&json!({"rest": [{"mode": "server"}]})), None);
        assert_eq!(oauth_uris(&json!("garbage")), None);
    }

    #[test]
    fn discovery_url_and_document() {
        let base = Url::parse("https://ehr.test/api/FHIR/R4").unwrap();
        let url = SmartConfiguration::url_for(&base).unwrap();
        assert_eq!(
            url.as_str(),
            "https://ehr.test/api/FHIR/R4/.well-known/smart-configuration"
        );
        let url2 =
            SmartConfiguration::url_for(&Url::parse("https://ehr.test/r4/").unwrap()).unwrap();
        assert_eq!(
            url2.as_str(),
            "https://ehr.test/r4/.well-known/smart-configuration"
        );
        let conf = SmartConfiguration::from_json(
            &url,
            &json!({"token_endpoint": "https://ehr.test/token",
                    "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"]}),
        )
        .unwrap();
        assert_eq!(
            conf.token_endpoint.map(String::from).as_deref(),
            Some("https://ehr.test/token")
        );
        assert_eq!(
            conf.token_endpoint_auth_signing_alg_values_supported,
            ["RS384", "ES384"]
        );
        assert!(SmartConfiguration::from_json(&url, &json!({})).is_err());
    }

    #[test]
    fn the_app_launch_fields_are_read() {
        let url = Url::parse("https://ehr.test/r4/.well-known/smart-configuration").unwrap();
        let conf = SmartConfiguration::from_json(
            &url,
            &json!({"issuer": "https://ehr.test",
                    "token_endpoint": "/token",
                    "authorization_endpoint": "https://ehr.test/authorize",
                    "code_challenge_methods_supported": ["S256"],
                    "capabilities": ["launch-ehr", 7, "client-public"]}),
        )
        .unwrap();
        // Verbatim: an ID token's iss is compared with it as written.
        assert_eq!(conf.issuer.as_deref(), Some("https://ehr.test"));
        assert_eq!(
            conf.token_endpoint.map(String::from).as_deref(),
            Some("https://ehr.test/token")
        );
        assert_eq!(
            conf.authorization_endpoint.map(String::from).as_deref(),
            Some("https://ehr.test/authorize")
        );
        assert_eq!(conf.code_challenge_methods_supported, ["S256"]);
        assert_eq!(conf.capabilities, ["launch-ehr", "client-public"]);
        assert!(conf.response_types_supported.is_empty());
    }
}
