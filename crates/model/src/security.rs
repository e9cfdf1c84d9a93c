//! What a server says about authentication: service codes, OAuth endpoints and SMART metadata.

use serde::{Deserialize, Serialize};

/// OAuth2 endpoints, from the SMART `oauth-uris` extension of a CapabilityStatement and from a
/// `.well-known/smart-configuration` document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthEndpoints {
    /// Token endpoint.
    pub token: Option<String>,
    /// Authorization endpoint.
    pub authorize: Option<String>,
    /// Revocation endpoint.
    pub revoke: Option<String>,
    /// Introspection endpoint.
    pub introspect: Option<String>,
    /// Dynamic client registration endpoint.
    pub register: Option<String>,
    /// User-facing authorization management endpoint.
    pub manage: Option<String>,
}

impl OAuthEndpoints {
    /// Whether no endpoint is known.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The endpoints in canonical order with their names (`token`, `authorize`, ...).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        [
            ("token", self.token.as_deref()),
            ("authorize", self.authorize.as_deref()),
            ("revoke", self.revoke.as_deref()),
            ("introspect", self.introspect.as_deref()),
            ("register", self.register.as_deref()),
            ("manage", self.manage.as_deref()),
        ]
        .into_iter()
    }
}

/// The security a server declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// `security.cors`.
    pub cors: Option<bool>,
    /// Service codes (`OAuth`, `SMART-on-FHIR`, `Basic`, ...), in declaration order, deduplicated.
    pub services: Vec<String>,
    /// `security.description`.
    pub description: Option<String>,
    /// OAuth2 endpoints.
    pub oauth: OAuthEndpoints,
    /// Issuer, from the SMART configuration.
    pub issuer: Option<String>,
    /// JWK Set URL of the authorization server, from the SMART configuration.
    pub jwks_uri: Option<String>,
    /// `token_endpoint_auth_methods_supported` (`private_key_jwt`, `client_secret_basic`, ...).
    pub token_endpoint_auth_methods: Vec<String>,
    /// `token_endpoint_auth_signing_alg_values_supported` (`RS384`, `ES384`).
    pub token_endpoint_auth_signing_algs: Vec<String>,
    /// `grant_types_supported`.
    pub grant_types: Vec<String>,
    /// `scopes_supported`.
    pub scopes: Vec<String>,
    /// SMART `capabilities`.
    pub smart_capabilities: Vec<String>,
}

impl Security {
    /// Whether the server declares any OAuth2 or SMART security.
    pub fn declares_oauth(&self) -> bool {
        !self.oauth.is_empty()
            || self
                .services
                .iter()
                .any(|s| s.eq_ignore_ascii_case("OAuth") || s.eq_ignore_ascii_case("SMART-on-FHIR"))
    }

    /// Whether the server declares HTTP basic authentication.
    pub fn declares_basic(&self) -> bool {
        self.services
            .iter()
            .any(|s| s.eq_ignore_ascii_case("Basic"))
    }
}
