//! SMART App Launch `.well-known/smart-configuration` documents.

use crate::capability::valid_endpoint;
use crate::{Parsed, Warning};
use serde::Serialize;
use serde_json::{Map, Value};

/// Where SMART configuration warnings point: a JSON pointer into this document.
const DOC: &str = "smart-configuration#";

/// The parts of a SMART configuration the connector model keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SmartConfiguration {
    /// `issuer`.
    pub issuer: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`.
    pub token_endpoint: Option<String>,
    /// `revocation_endpoint`.
    pub revocation_endpoint: Option<String>,
    /// `introspection_endpoint`.
    pub introspection_endpoint: Option<String>,
    /// `registration_endpoint`.
    pub registration_endpoint: Option<String>,
    /// `management_endpoint`.
    pub management_endpoint: Option<String>,
    /// `token_endpoint_auth_methods_supported` (and athenahealth's non-standard
    /// `token_endpoint_auth_methods`).
    pub token_endpoint_auth_methods: Vec<String>,
    /// `token_endpoint_auth_signing_alg_values_supported`.
    pub token_endpoint_auth_signing_algs: Vec<String>,
    /// `grant_types_supported`.
    pub grant_types: Vec<String>,
    /// `scopes_supported`.
    pub scopes: Vec<String>,
    /// `capabilities`.
    pub capabilities: Vec<String>,
    /// What was odd about the document; pointers start with `smart-configuration#`.
    pub warnings: Vec<Warning>,
}

fn warn(warnings: &mut Vec<Warning>, key: &str, message: impl Into<String>) {
    warnings.push(Warning {
        pointer: format!("{DOC}/{key}"),
        message: message.into(),
    });
}

fn url_field(obj: &Map<String, Value>, key: &str, warnings: &mut Vec<Warning>) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if valid_endpoint(s) => Some(s.clone()),
        Value::String(_) => {
            warn(warnings, key, "not an absolute http(s) URL; ignored");
            None
        }
        Value::Null => None,
        _ => {
            warn(warnings, key, "expected a URL string; ignored");
            None
        }
    }
}

fn list_field(obj: &Map<String, Value>, key: &str, warnings: &mut Vec<Warning>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    match obj.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() && !out.contains(s) => {
                        out.push(s.clone())
                    }
                    Value::String(s) if !s.trim().is_empty() => {
                        warn(warnings, &format!("{key}/{i}"), "duplicate value merged");
                    }
                    _ => warn(
                        warnings,
                        &format!("{key}/{i}"),
                        "expected a non-empty string; skipped",
                    ),
                }
            }
        }
        // `scopes_supported` is sometimes written as one space-separated string.
        Some(Value::String(s)) => {
            warn(
                warnings,
                key,
                "expected an array, found a string; split at spaces",
            );
            for part in s.split_whitespace() {
                if !out.iter().any(|o| o == part) {
                    out.push(part.to_owned());
                }
            }
        }
        Some(_) => warn(warnings, key, "expected an array of strings; ignored"),
    }
    out
}

/// Reads a parsed JSON document as a SMART configuration.
pub(crate) fn read(doc: &Value) -> Result<SmartConfiguration, crate::Error> {
    let Value::Object(obj) = doc else {
        return Err(crate::Error::NotSmartConfiguration {
            found: "the top level is not a JSON object".to_owned(),
        });
    };
    if obj.contains_key("resourceType") {
        return Err(crate::Error::NotSmartConfiguration {
            found: "a FHIR resource (it has resourceType)".to_owned(),
        });
    }
    let mut w = Vec::new();
    let mut methods = list_field(obj, "token_endpoint_auth_methods_supported", &mut w);
    if obj.contains_key("token_endpoint_auth_methods") {
        let extra = list_field(obj, "token_endpoint_auth_methods", &mut w);
        let same = extra == methods;
        let added: Vec<String> = extra.into_iter().filter(|m| !methods.contains(m)).collect();
        warn(
            &mut w,
            "token_endpoint_auth_methods",
            if same {
                "non-standard key (the standard one is token_endpoint_auth_methods_supported); same values".to_owned()
            } else {
                format!(
                    "non-standard key (the standard one is token_endpoint_auth_methods_supported); \
                     {} value(s) merged",
                    added.len()
                )
            },
        );
        methods.extend(added);
    }
    let config = SmartConfiguration {
        issuer: url_field(obj, "issuer", &mut w),
        jwks_uri: url_field(obj, "jwks_uri", &mut w),
        authorization_endpoint: url_field(obj, "authorization_endpoint", &mut w),
        token_endpoint: url_field(obj, "token_endpoint", &mut w),
        revocation_endpoint: url_field(obj, "revocation_endpoint", &mut w),
        introspection_endpoint: url_field(obj, "introspection_endpoint", &mut w),
        registration_endpoint: url_field(obj, "registration_endpoint", &mut w),
        management_endpoint: url_field(obj, "management_endpoint", &mut w),
        token_endpoint_auth_methods: methods,
        token_endpoint_auth_signing_algs: list_field(
            obj,
            "token_endpoint_auth_signing_alg_values_supported",
            &mut w,
        ),
        grant_types: list_field(obj, "grant_types_supported", &mut w),
        scopes: list_field(obj, "scopes_supported", &mut w),
        capabilities: list_field(obj, "capabilities", &mut w),
        warnings: Vec::new(),
    };
    if config.token_endpoint.is_none() {
        warn(&mut w, "token_endpoint", "no token endpoint");
    }
    Ok(SmartConfiguration {
        warnings: w,
        ..config
    })
}

fn merge_list(into: &mut Vec<String>, from: Vec<String>) {
    for v in from {
        if !into.contains(&v) {
            into.push(v);
        }
    }
}

impl Parsed {
    /// Merges a SMART configuration into the connector's security. The SMART document is the
    /// authority for OAuth endpoints: where the statement's `oauth-uris` names a different URL,
    /// the SMART one is used and a warning says so. The configuration's own warnings are moved
    /// into [`Parsed::warnings`].
    pub fn merge_smart_configuration(&mut self, smart: SmartConfiguration) {
        let security = &mut self.connector.security;
        let oauth = &mut security.oauth;
        for (name, key, slot, value) in [
            (
                "token",
                "token_endpoint",
                &mut oauth.token,
                smart.token_endpoint,
            ),
            (
                "authorize",
                "authorization_endpoint",
                &mut oauth.authorize,
                smart.authorization_endpoint,
            ),
            (
                "revoke",
                "revocation_endpoint",
                &mut oauth.revoke,
                smart.revocation_endpoint,
            ),
            (
                "introspect",
                "introspection_endpoint",
                &mut oauth.introspect,
                smart.introspection_endpoint,
            ),
            (
                "register",
                "registration_endpoint",
                &mut oauth.register,
                smart.registration_endpoint,
            ),
            (
                "manage",
                "management_endpoint",
                &mut oauth.manage,
                smart.management_endpoint,
            ),
        ] {
            let Some(value) = value else { continue };
            if slot.as_ref().is_some_and(|old| *old != value) {
                self.warnings.push(Warning {
                    pointer: format!("{DOC}/{key}"),
                    message: format!(
                        "the {name} endpoint differs from the statement's oauth-uris; the SMART configuration's is used"
                    ),
                });
            }
            *slot = Some(value);
        }
        security.issuer = smart.issuer.or(security.issuer.take());
        security.jwks_uri = smart.jwks_uri.or(security.jwks_uri.take());
        merge_list(
            &mut security.token_endpoint_auth_methods,
            smart.token_endpoint_auth_methods,
        );
        merge_list(
            &mut security.token_endpoint_auth_signing_algs,
            smart.token_endpoint_auth_signing_algs,
        );
        merge_list(&mut security.grant_types, smart.grant_types);
        merge_list(&mut security.scopes, smart.scopes);
        merge_list(&mut security.smart_capabilities, smart.capabilities);
        self.warnings.extend(smart.warnings);
    }
}
