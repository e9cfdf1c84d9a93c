//! SMART App Launch `.well-known/smart-configuration` documents.

use crate::capability::valid_endpoint;
use crate::collect::{Pushed, UniqueList, Warnings, MAX_ITEMS};
use crate::{Parsed, Warning};
pub use fhirforge_runtime::auth::SmartConfiguration;
use serde::Serialize;
use serde_json::{Map, Value};
use url::Url;

/// Where SMART configuration warnings point: a JSON pointer into this document.
const DOC: &str = "smart-configuration#";

/// A SMART configuration as the model reader read it: the runtime's one
/// [`SmartConfiguration`] type plus what was odd about the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SmartDocument {
    /// The document's fields that passed the reader's checks.
    pub configuration: SmartConfiguration,
    /// What was odd about the document; pointers start with `smart-configuration#`.
    pub warnings: Vec<Warning>,
}

/// Largest SMART configuration read, in bytes: real ones are 1 to 5 kB, so 1 MiB leaves room
/// and keeps a hostile discovery answer from costing the general 16 MiB document limit.
pub(crate) const MAX_SMART_BYTES: u64 = 1024 * 1024;

fn warn(warnings: &mut Warnings, key: &str, message: impl Into<String>) {
    warnings.push(format!("{DOC}/{key}"), message);
}

/// An absolute http(s) URL, verbatim (for `issuer`, which must be compared as written).
fn url_string_field(
    obj: &Map<String, Value>,
    key: &str,
    warnings: &mut Warnings,
) -> Option<String> {
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

/// An absolute http(s) URL, parsed.
fn url_field(obj: &Map<String, Value>, key: &str, warnings: &mut Warnings) -> Option<Url> {
    // `url_string_field` already checked that it parses.
    url_string_field(obj, key, warnings).and_then(|s| Url::parse(&s).ok())
}

/// A list of strings, deduplicated (with a hash index: a hostile list of a million entries
/// would make `Vec::contains` quadratic) and cut at [`MAX_ITEMS`].
fn list_field(obj: &Map<String, Value>, key: &str, warnings: &mut Warnings) -> Vec<String> {
    let mut out: UniqueList<String> = UniqueList::default();
    match obj.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_ITEMS {
                warn(
                    warnings,
                    key,
                    format!(
                        "{} elements; only the first {MAX_ITEMS} are read",
                        items.len()
                    ),
                );
            }
            for (i, item) in items.iter().take(MAX_ITEMS).enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => {
                        if out.push(s.clone()) == Pushed::Duplicate {
                            warn(warnings, &format!("{key}/{i}"), "duplicate value merged");
                        }
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
                if out.push(part.to_owned()) == Pushed::Full {
                    warn(
                        warnings,
                        key,
                        format!("more than {MAX_ITEMS} values; the rest are ignored"),
                    );
                    break;
                }
            }
        }
        Some(_) => warn(warnings, key, "expected an array of strings; ignored"),
    }
    out.into_vec()
}

/// Reads a parsed JSON document as a SMART configuration.
pub(crate) fn read(doc: &Value) -> Result<SmartDocument, crate::Error> {
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
    let mut w = Warnings::default();
    let mut methods = list_field(obj, "token_endpoint_auth_methods_supported", &mut w);
    if obj.contains_key("token_endpoint_auth_methods") {
        let extra = list_field(obj, "token_endpoint_auth_methods", &mut w);
        let same = extra == methods;
        let known: std::collections::HashSet<&String> = methods.iter().collect();
        let added: Vec<String> = extra.into_iter().filter(|m| !known.contains(m)).collect();
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
    // Field by field: the runtime's type is `#[non_exhaustive]` so it can grow.
    let mut config = SmartConfiguration::default();
    config.issuer = url_string_field(obj, "issuer", &mut w);
    config.jwks_uri = url_field(obj, "jwks_uri", &mut w);
    config.authorization_endpoint = url_field(obj, "authorization_endpoint", &mut w);
    config.token_endpoint = url_field(obj, "token_endpoint", &mut w);
    config.revocation_endpoint = url_field(obj, "revocation_endpoint", &mut w);
    config.introspection_endpoint = url_field(obj, "introspection_endpoint", &mut w);
    config.registration_endpoint = url_field(obj, "registration_endpoint", &mut w);
    config.management_endpoint = url_field(obj, "management_endpoint", &mut w);
    config.token_endpoint_auth_methods_supported = methods;
    config.token_endpoint_auth_signing_alg_values_supported = list_field(
        obj,
        "token_endpoint_auth_signing_alg_values_supported",
        &mut w,
    );
    config.grant_types_supported = list_field(obj, "grant_types_supported", &mut w);
    config.scopes_supported = list_field(obj, "scopes_supported", &mut w);
    config.response_types_supported = list_field(obj, "response_types_supported", &mut w);
    config.code_challenge_methods_supported =
        list_field(obj, "code_challenge_methods_supported", &mut w);
    config.capabilities = list_field(obj, "capabilities", &mut w);
    if config.token_endpoint.is_none() {
        warn(&mut w, "token_endpoint", "no token endpoint");
    }
    Ok(SmartDocument {
        configuration: config,
        warnings: w.finish(),
    })
}

/// Appends the values `into` lacks, up to [`MAX_ITEMS`] in all.
fn merge_list(into: &mut Vec<String>, from: Vec<String>) {
    let mut list = UniqueList::from_vec(std::mem::take(into));
    for v in from {
        if list.push(v) == Pushed::Full {
            break;
        }
    }
    *into = list.into_vec();
}

impl Parsed {
    /// Merges a SMART configuration into the connector's security. The SMART document is the
    /// authority for OAuth endpoints: where the statement's `oauth-uris` names a different URL,
    /// the SMART one is used and a warning says so. The configuration's own warnings are moved
    /// into [`Parsed::warnings`].
    pub fn merge_smart_configuration(&mut self, smart: SmartDocument) {
        let SmartDocument {
            configuration: smart,
            warnings: smart_warnings,
        } = smart;
        let mut warnings = Warnings::resume(std::mem::take(&mut self.warnings));
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
            // The model keeps URLs as strings.
            let Some(value) = value.map(String::from) else {
                continue;
            };
            if slot.as_ref().is_some_and(|old| *old != value) {
                warn(
                    &mut warnings,
                    key,
                    format!(
                        "the {name} endpoint differs from the statement's oauth-uris; the SMART configuration's is used"
                    ),
                );
            }
            *slot = Some(value);
        }
        security.issuer = smart.issuer.or(security.issuer.take());
        security.jwks_uri = smart
            .jwks_uri
            .map(String::from)
            .or(security.jwks_uri.take());
        merge_list(
            &mut security.token_endpoint_auth_methods,
            smart.token_endpoint_auth_methods_supported,
        );
        merge_list(
            &mut security.token_endpoint_auth_signing_algs,
            smart.token_endpoint_auth_signing_alg_values_supported,
        );
        merge_list(&mut security.grant_types, smart.grant_types_supported);
        merge_list(&mut security.scopes, smart.scopes_supported);
        merge_list(&mut security.smart_capabilities, smart.capabilities);
        warnings.extend(smart_warnings);
        self.warnings = warnings.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuer_stays_verbatim_and_endpoints_parse() {
        let doc = read(&json!({
            "issuer": "https://ehr.test",
            "token_endpoint": "https://ehr.test/token",
            "authorization_endpoint": "ftp://ehr.test/authorize",
            "code_challenge_methods_supported": ["S256", "S256", ""],
        }))
        .unwrap();
        // Parsed as a Url it would gain a trailing slash, and an ID token's iss would no
        // longer match it.
        assert_eq!(
            doc.configuration.issuer.as_deref(),
            Some("https://ehr.test")
        );
        assert_eq!(
            doc.configuration
                .token_endpoint
                .map(String::from)
                .as_deref(),
            Some("https://ehr.test/token")
        );
        assert_eq!(doc.configuration.authorization_endpoint, None);
        assert_eq!(doc.configuration.code_challenge_methods_supported, ["S256"]);
        let pointers: Vec<&str> = doc.warnings.iter().map(|w| w.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "smart-configuration#/authorization_endpoint",
                "smart-configuration#/code_challenge_methods_supported/1",
                "smart-configuration#/code_challenge_methods_supported/2",
            ]
        );
    }
}
