//! Generation options: what a `fhirforge.toml` (`--config`) may say about the generated crate.

use crate::Error;
use fhirforge_model::{Connector, Resource};
use serde::Deserialize;
use std::collections::BTreeMap;

/// An authentication kind the generated client builder exposes a setter for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// HTTP basic authentication (`basic`).
    Basic,
    /// An OAuth2 bearer token obtained elsewhere (`oauth2`).
    Oauth2,
    /// SMART Backend Services: `client_credentials` with a signed JWT assertion (`smart-backend`).
    SmartBackend,
}

impl AuthKind {
    /// Every kind, in canonical order.
    pub const ALL: [AuthKind; 3] = [Self::Basic, Self::Oauth2, Self::SmartBackend];

    /// The configuration name (`"smart-backend"`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Oauth2 => "oauth2",
            Self::SmartBackend => "smart-backend",
        }
    }
}

/// Whether date, number and quantity parameters accept a range or only a single value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeMode {
    /// Methods take `impl Into<search::Date>` (a prefixed value or a range). The default.
    #[default]
    ValueOrRange,
    /// Methods take `impl Into<search::DateValue>` (one prefixed value, no range).
    ValueOnly,
}

/// Options for one search parameter, keyed `"Type.name"` (`"Patient.birthdate"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ParamOptions {
    /// Overrides the global [`GenerateOptions::range`] for this parameter.
    pub range: Option<RangeMode>,
}

/// Everything that shapes a generated connector besides the spec itself.
///
/// Read from TOML with [`GenerateOptions::from_toml`]; every key is optional:
///
/// ```toml
/// name = "fhirforge-epic"
/// base-url = "https://fhir.epic.com/interconnect-fhir-oauth/api/FHIR/R4"
/// auth = ["smart-backend", "oauth2"]
/// range = "value-or-range"
/// exclude-resources = ["Binary"]
///
/// [params."Patient.birthdate"]
/// range = "value-only"
///
/// [default-params]
/// ah-practice = "Organization/a-1.Practice-195900"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GenerateOptions {
    /// Cargo package name of the generated crate; default `fhirforge-<spec name>`.
    pub name: Option<String>,
    /// One-line description for `Cargo.toml`.
    pub description: Option<String>,
    /// Default base URL exposed as `DEFAULT_BASE_URL`; default the spec's `implementation.url`.
    pub base_url: Option<String>,
    /// Auth kinds the client builder exposes; default those the spec's security declares, else all.
    pub auth: Option<Vec<AuthKind>>,
    /// Range support for every date, number and quantity parameter.
    #[serde(default)]
    pub range: RangeMode,
    /// Per-parameter options, keyed `"Type.name"`.
    #[serde(default)]
    pub params: BTreeMap<String, ParamOptions>,
    /// Only these resource types (all when empty).
    #[serde(default)]
    pub include_resources: Vec<String>,
    /// Never these resource types.
    #[serde(default)]
    pub exclude_resources: Vec<String>,
    /// Parameters added to every search, by wire name (athenahealth's `ah-practice` tenant).
    #[serde(default)]
    pub default_params: BTreeMap<String, String>,
    /// Path of the `fhirforge-runtime` crate, relative to the generated crate; without it the
    /// crate depends on the runtime by version.
    pub runtime_path: Option<String>,
    /// Known quirks of this EHR, listed in the generated README.
    #[serde(default)]
    pub quirks: Vec<String>,
    /// Emit an empty `[workspace]` table so the crate builds on its own inside another workspace.
    #[serde(default)]
    pub standalone: bool,
}

impl GenerateOptions {
    /// Parses options from TOML text.
    ///
    /// # Errors
    /// [`Error::Options`] for malformed TOML, unknown keys or unknown values.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str(text).map_err(|e| Error::Options(e.to_string()))
    }

    /// The range mode of one parameter of one resource type.
    pub fn range_for(&self, resource_type: &str, param: &str) -> RangeMode {
        self.params
            .get(&format!("{resource_type}.{param}"))
            .and_then(|p| p.range)
            .unwrap_or(self.range)
    }

    /// Whether a resource type is generated.
    pub fn wants_resource(&self, resource_type: &str) -> bool {
        (self.include_resources.is_empty()
            || self.include_resources.iter().any(|r| r == resource_type))
            && !self.exclude_resources.iter().any(|r| r == resource_type)
    }

    /// The auth kinds to expose for this connector.
    pub fn auth_kinds(&self, connector: &Connector) -> Vec<AuthKind> {
        let mut kinds = match &self.auth {
            Some(kinds) => kinds.clone(),
            None => {
                let security = &connector.security;
                let mut kinds = Vec::new();
                if security.declares_basic() {
                    kinds.push(AuthKind::Basic);
                }
                if security.declares_oauth() {
                    kinds.push(AuthKind::Oauth2);
                    kinds.push(AuthKind::SmartBackend);
                }
                if kinds.is_empty() {
                    kinds = AuthKind::ALL.to_vec();
                }
                kinds
            }
        };
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Keys of this configuration that match nothing in `connector` (a resource type or a
    /// `"Type.name"` parameter it does not declare), for the caller to report as warnings.
    pub fn unused_keys(&self, connector: &Connector) -> Vec<String> {
        let declares = |ty: &str| connector.resource(ty).is_some();
        let mut unused = Vec::new();
        for ty in self.include_resources.iter().chain(&self.exclude_resources) {
            if !declares(ty) {
                unused.push(ty.clone());
            }
        }
        for key in self.params.keys() {
            let found = key.split_once('.').is_some_and(|(ty, name)| {
                connector
                    .resource(ty)
                    .is_some_and(|r: &Resource| r.search_param(name).is_some())
                    || connector
                        .system
                        .search_params
                        .iter()
                        .any(|p| p.name == name)
            });
            if !found {
                unused.push(format!("params.\"{key}\""));
            }
        }
        unused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let text = r#"
            name = "fhirforge-athena"
            base-url = "https://example.invalid/fhir"
            auth = ["smart-backend", "basic"]
            range = "value-only"
            include-resources = ["Patient"]
            exclude-resources = ["Binary"]
            standalone = true
            [params."Patient.birthdate"]
            range = "value-or-range"
            [default-params]
            ah-practice = "Organization/a-1.Practice-1"
        "#;
        let o = GenerateOptions::from_toml(text).unwrap();
        assert_eq!(o.name.as_deref(), Some("fhirforge-athena"));
        assert_eq!(o.range, RangeMode::ValueOnly);
        assert_eq!(o.range_for("Patient", "birthdate"), RangeMode::ValueOrRange);
        assert_eq!(o.range_for("Patient", "death-date"), RangeMode::ValueOnly);
        assert!(o.wants_resource("Patient"));
        assert!(!o.wants_resource("Binary"));
        assert!(!o.wants_resource("Observation"));
        assert_eq!(
            o.default_params["ah-practice"],
            "Organization/a-1.Practice-1"
        );
        assert!(o.standalone);
    }

    #[test]
    fn rejects_unknown_keys_and_values_with_a_clear_error() {
        let err = GenerateOptions::from_toml("rnage = \"value-only\"").unwrap_err();
        assert!(err.to_string().contains("rnage"), "{err}");
        let err = GenerateOptions::from_toml("range = \"sometimes\"").unwrap_err();
        assert!(err.to_string().contains("sometimes"), "{err}");
        let err = GenerateOptions::from_toml("auth = [\"kerberos\"]").unwrap_err();
        assert!(err.to_string().contains("kerberos"), "{err}");
    }
}
