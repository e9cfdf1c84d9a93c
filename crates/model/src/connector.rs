//! The connector: one EHR's FHIR API, its resources and what each allows.

use crate::{GenericOperation, ResourceInteraction, SearchParam, Security, SystemInteraction};
use serde::{Deserialize, Serialize};

/// The FHIR release a spec was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FhirRelease {
    /// DSTU2 (1.0.x): `Conformance`.
    #[serde(rename = "DSTU2")]
    Dstu2,
    /// STU3 (3.0.x).
    #[serde(rename = "STU3")]
    Stu3,
    /// R4 (4.0.x).
    #[serde(rename = "R4")]
    R4,
    /// R4B (4.3.x).
    #[serde(rename = "R4B")]
    R4B,
    /// R5 (5.0.x).
    #[serde(rename = "R5")]
    R5,
}

impl FhirRelease {
    /// The release a `fhirVersion` string belongs to (`"4.0.1"` is R4), or `None` when unknown.
    pub fn from_version(version: &str) -> Option<Self> {
        let mut parts = version.split(['.', '-']);
        let major = parts.next()?;
        let minor = parts.next().unwrap_or("0");
        match (major, minor) {
            ("1", "0") => Some(Self::Dstu2),
            ("3", "0") => Some(Self::Stu3),
            ("4", "0") => Some(Self::R4),
            ("4", "3") => Some(Self::R4B),
            ("5", _) => Some(Self::R5),
            _ => None,
        }
    }

    /// The short name (`"R4"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Dstu2 => "DSTU2",
            Self::Stu3 => "STU3",
            Self::R4 => "R4",
            Self::R4B => "R4B",
            Self::R5 => "R5",
        }
    }
}

/// The software a statement describes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// `software.name`.
    pub name: Option<String>,
    /// `software.version`.
    pub version: Option<String>,
    /// `software.releaseDate`.
    pub release_date: Option<String>,
}

/// Resource versioning support (`CapabilityStatement.rest.resource.versioning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Versioning {
    /// `no-version`
    NoVersion,
    /// `versioned`
    Versioned,
    /// `versioned-update`: the server honours `If-Match`.
    VersionedUpdate,
}

/// Conditional read support (`conditionalRead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionalRead {
    /// `not-supported`
    NotSupported,
    /// `modified-since`
    ModifiedSince,
    /// `not-match`
    NotMatch,
    /// `full-support`
    FullSupport,
}

/// Conditional delete support (`conditionalDelete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionalDelete {
    /// `not-supported`
    NotSupported,
    /// `single`
    Single,
    /// `multiple`
    Multiple,
}

/// A named operation (`$name`) at system, type or instance level.
///
/// A Bulk Data export is one too; [`export_level`](Self::export_level) tells whether it is an
/// export entry point where it is declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// The operation's name without `$`, exactly as declared (`health-cards-issue`).
    pub name: String,
    /// The sanitized Rust identifier (`health_cards_issue`), unique within its owner; `export`
    /// for a Bulk Data export entry point (Epic's `group-export` too).
    pub rust_name: String,
    /// Canonical URL of the OperationDefinition.
    pub definition: Option<String>,
    /// The spec's documentation.
    pub documentation: Option<String>,
}

/// One resource type and everything the server allows on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The FHIR resource type (`AllergyIntolerance`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The sanitized snake_case accessor name (`allergy_intolerance`).
    pub rust_name: String,
    /// `profile` (base profile).
    pub profile: Option<String>,
    /// `supportedProfile`.
    pub supported_profiles: Vec<String>,
    /// `documentation`.
    pub documentation: Option<String>,
    /// Declared interactions, deduplicated, in canonical order.
    pub interactions: Vec<ResourceInteraction>,
    /// `versioning`.
    pub versioning: Option<Versioning>,
    /// `readHistory`.
    pub read_history: Option<bool>,
    /// `updateCreate`: update may create a resource with a client-chosen id.
    pub update_create: Option<bool>,
    /// `conditionalCreate` (`If-None-Exist`).
    pub conditional_create: Option<bool>,
    /// `conditionalRead`.
    pub conditional_read: Option<ConditionalRead>,
    /// `conditionalUpdate`.
    pub conditional_update: Option<bool>,
    /// `conditionalDelete`.
    pub conditional_delete: Option<ConditionalDelete>,
    /// Declared `_include` values (`searchInclude`), deduplicated, in declaration order.
    pub search_include: Vec<String>,
    /// Declared `_revinclude` values (`searchRevInclude`), deduplicated, in declaration order.
    pub search_rev_include: Vec<String>,
    /// Search parameters, deduplicated, in declaration order.
    pub search_params: Vec<SearchParam>,
    /// Type- and instance-level operations, deduplicated, in declaration order.
    pub operations: Vec<Operation>,
}

impl Resource {
    /// A resource of this type with no capabilities yet. Its names are sanitized here, alone;
    /// [`names::assign`](crate::names::assign) makes them unique among the connector's.
    pub fn new(resource_type: impl Into<String>) -> Self {
        let resource_type = resource_type.into();
        Self {
            rust_name: crate::names::snake_ident(&resource_type),
            resource_type,
            profile: None,
            supported_profiles: Vec::new(),
            documentation: None,
            interactions: Vec::new(),
            versioning: None,
            read_history: None,
            update_create: None,
            conditional_create: None,
            conditional_read: None,
            conditional_update: None,
            conditional_delete: None,
            search_include: Vec::new(),
            search_rev_include: Vec::new(),
            search_params: Vec::new(),
            operations: Vec::new(),
        }
    }

    /// Whether the resource declares this interaction.
    pub fn supports(&self, interaction: ResourceInteraction) -> bool {
        self.interactions.contains(&interaction)
    }

    /// The search parameter with this wire name.
    pub fn search_param(&self, name: &str) -> Option<&SearchParam> {
        self.search_params.iter().find(|p| p.name == name)
    }
}

/// System-level capabilities (`rest.interaction`, `rest.operation`, `rest.searchParam`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemCapabilities {
    /// System interactions, deduplicated, in canonical order.
    pub interactions: Vec<SystemInteraction>,
    /// System-level operations.
    pub operations: Vec<Operation>,
    /// Search parameters that apply to every resource type (athenahealth's `ah-practice`).
    pub search_params: Vec<SearchParam>,
}

/// What kind of document a connector was read from; generated docs, README and example are
/// worded from it (an OpenAPI document is not a "capability statement").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A `CapabilityStatement` file (STU3 and later).
    #[default]
    CapabilityStatement,
    /// A DSTU2 `Conformance` file.
    Conformance,
    /// An OpenAPI (or Swagger) document.
    OpenApi,
    /// A server's live `/metadata` (a `CapabilityStatement` or `Conformance` fetched by URL).
    LiveMetadata,
}

impl SourceKind {
    /// How docs name the source: "capability statement", "OpenAPI document", ...
    pub fn describe(self) -> &'static str {
        match self {
            Self::CapabilityStatement => "capability statement",
            Self::Conformance => "DSTU2 Conformance statement",
            Self::OpenApi => "OpenAPI document",
            Self::LiveMetadata => "server's live capability statement (`/metadata`)",
        }
    }

    /// Whether the source is a FHIR statement (which names a FHIR version, resources and
    /// interactions), as opposed to an OpenAPI document.
    pub fn is_fhir_statement(self) -> bool {
        !matches!(self, Self::OpenApi)
    }
}

/// One EHR's FHIR API as a spec describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connector {
    /// A human name for the API: the statement's `title`, `name`, `software.name` or publisher.
    pub name: String,
    /// What the connector was read from (absent in older JSON: a capability statement).
    #[serde(default)]
    pub source_kind: SourceKind,
    /// `fhirVersion` exactly as written (`4.0.1`).
    pub fhir_version: String,
    /// The release `fhir_version` belongs to.
    pub fhir_release: Option<FhirRelease>,
    /// `implementation.url`, when present.
    pub base_url: Option<String>,
    /// `publisher`.
    pub publisher: Option<String>,
    /// `software`.
    pub software: Option<Software>,
    /// Supported formats (`format`), in declaration order.
    pub formats: Vec<String>,
    /// Supported patch formats (`patchFormat`).
    pub patch_formats: Vec<String>,
    /// Security and OAuth metadata.
    pub security: Security,
    /// System-level capabilities.
    pub system: SystemCapabilities,
    /// Resource types, sorted by type name.
    pub resources: Vec<Resource>,
    /// Non-FHIR HTTP operations (from OpenAPI documents), in document order. Empty for a
    /// CapabilityStatement, and then left out of the JSON form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generic_operations: Vec<GenericOperation>,
}

impl Connector {
    /// The resource with this FHIR type name.
    pub fn resource(&self, resource_type: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.resource_type == resource_type)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_from_versions() {
        for (v, r) in [
            ("1.0.2", Some(FhirRelease::Dstu2)),
            ("3.0.1", Some(FhirRelease::Stu3)),
            ("3.0", Some(FhirRelease::Stu3)),
            ("4.0.1", Some(FhirRelease::R4)),
            ("4.3.0", Some(FhirRelease::R4B)),
            ("5.0.0", Some(FhirRelease::R5)),
            ("5.0.0-ballot", Some(FhirRelease::R5)),
            ("4.1.0", None),
            ("", None),
        ] {
            assert_eq!(FhirRelease::from_version(v), r, "{v}");
        }
    }

    #[test]
    fn resource_names_are_sanitized_on_creation() {
        let r = Resource::new("AllergyIntolerance");
        assert_eq!(r.rust_name, "allergy_intolerance");
    }
}
