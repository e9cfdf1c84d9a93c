//! Which declared operations are FHIR Bulk Data exports (`$export`), and at what level.
//!
//! The Bulk Data Access IG invokes an export as `[base]/$export`, `[base]/Patient/$export` or
//! `[base]/Group/[id]/$export`, but servers declare it in different words: athenahealth declares
//! `export` on Group with the definition `.../ah-group-export`, Epic declares `group-export` with
//! the IG's `.../bulkdata/OperationDefinition/group-export`, Cerner declares `export` on Group and
//! on Patient. [`Operation::export_level`] is the one place that reads them; the name assignment
//! ([`names::assign`](crate::names::assign)) and the generator both ask it.

use crate::Operation;
use serde::{Deserialize, Serialize};

/// The level a Bulk Data export is invoked at, given by where the operation is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportLevel {
    /// Declared in `rest.operation`: everything the client may see, `[base]/$export`.
    System,
    /// Declared on `Patient`: every patient's compartment, `[base]/Patient/$export`.
    Patient,
    /// Declared on `Group`: the members of one group, `[base]/Group/[id]/$export`.
    Group,
}

impl ExportLevel {
    /// The level of an export declared on `resource_type` (`None`: at system level), or `None`
    /// for a resource type the Bulk Data IG defines no export on.
    pub fn of_owner(resource_type: Option<&str>) -> Option<Self> {
        match resource_type {
            None => Some(Self::System),
            Some("Patient") => Some(Self::Patient),
            Some("Group") => Some(Self::Group),
            Some(_) => None,
        }
    }

    /// The request URL, for docs: `[base]/$export`, `[base]/Patient/$export`,
    /// `[base]/Group/[id]/$export`.
    pub fn url(self) -> &'static str {
        match self {
            Self::System => "[base]/$export",
            Self::Patient => "[base]/Patient/$export",
            Self::Group => "[base]/Group/[id]/$export",
        }
    }
}

/// The OperationDefinition ids of the Bulk Data IG (`.../OperationDefinition/group-export`).
const IG_IDS: &[&str] = &["export", "group-export", "patient-export"];

impl Operation {
    /// Whether this operation is a Bulk Data export, wherever it is declared:
    ///
    /// * its `name` is `export` (how the IG invokes it) or one of the IG's definition ids,
    ///   `group-export` and `patient-export` (Epic's name); names are compared exactly, as a
    ///   server matches `$name`;
    /// * or the last path segment of its `definition` (without `|version`, query or fragment),
    ///   ignoring ASCII case, is one of those ids, alone or after one vendor word:
    ///   `.../bulkdata/OperationDefinition/group-export`, Cerner's `.../patient-export`,
    ///   athenahealth's `.../ah-group-export`, a `.../acme-export`.
    ///
    /// Not exports: `$export-poll-status`, `exportable-thing`, a definition ending in
    /// `ccda-document-export` (two words before `export`, neither a level).
    pub fn is_bulk_export(&self) -> bool {
        IG_IDS.contains(&self.name.as_str())
            || self.definition.as_deref().is_some_and(definition_is_export)
    }

    /// The level of the export entry point this operation is, declared on `resource_type`
    /// (`None`: in `rest.operation`, at system level): `Some` for a
    /// [Bulk Data export](Self::is_bulk_export) at system level, on `Patient` or on `Group`;
    /// `None` for anything else, including an export declared on another resource type (which
    /// stays a plain operation).
    pub fn export_level(&self, resource_type: Option<&str>) -> Option<ExportLevel> {
        ExportLevel::of_owner(resource_type).filter(|_| self.is_bulk_export())
    }
}

/// Whether a definition canonical names one of the IG's export definitions, possibly after a
/// vendor word (`ah-group-export`).
fn definition_is_export(canonical: &str) -> bool {
    let url = canonical.split(['|', '?', '#']).next().unwrap_or_default();
    let Some(id) = url.trim_end_matches('/').rsplit('/').next() else {
        return false;
    };
    let id = id.to_ascii_lowercase();
    if IG_IDS.contains(&id.as_str()) {
        return true;
    }
    // One vendor word: `ah-group-export` is `ah` + `group-export`.
    id.split_once('-').is_some_and(|(vendor, rest)| {
        !vendor.is_empty()
            && vendor.chars().all(|c| c.is_ascii_alphanumeric())
            && IG_IDS.contains(&rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str, definition: Option<&str>) -> Operation {
        Operation {
            name: name.into(),
            rust_name: String::new(),
            definition: definition.map(Into::into),
            documentation: None,
        }
    }

    #[test]
    fn vendor_forms_are_exports() {
        for (vendor, name, definition) in [
            (
                "athenahealth",
                "export",
                Some("https://fhir.athena.io/OperationDefinition/ah-group-export"),
            ),
            (
                "Epic",
                "group-export",
                Some("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"),
            ),
            (
                "Cerner (Group)",
                "export",
                Some("https://fhir-ehr.cerner.com/r4/OperationDefinition/group-export"),
            ),
            (
                "Cerner (Patient)",
                "export",
                Some("https://fhir-ehr.cerner.com/r4/OperationDefinition/patient-export"),
            ),
            ("name alone", "export", None),
            ("Epic's name alone", "group-export", None),
            (
                "IG system export, versioned",
                "bulk",
                Some("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export|2.0.0"),
            ),
            (
                "definition id in another case",
                "x",
                Some("https://ehr.example/OperationDefinition/Patient-Export/"),
            ),
            (
                "vendor word before export",
                "x",
                Some("https://ehr.example/OperationDefinition/acme-export"),
            ),
        ] {
            assert!(op(name, definition).is_bulk_export(), "{vendor}");
        }
    }

    #[test]
    fn other_operations_are_not_exports() {
        for (name, definition) in [
            ("export-poll-status", None),
            (
                "export-poll-status",
                Some("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export-poll-status"),
            ),
            ("exportable-thing", None),
            ("Export", None),
            ("bulk-status", Some("https://ehr.example/bulk-status")),
            (
                "everything",
                Some("http://hl7.org/fhir/OperationDefinition/Patient-everything"),
            ),
            (
                "docs",
                Some("https://ehr.example/OperationDefinition/ccda-document-export"),
            ),
            ("x", Some("https://ehr.example/OperationDefinition/-export")),
            (
                "x",
                Some("https://ehr.example/export/OperationDefinition/lastn"),
            ),
            ("x", Some("")),
            // The id is the last segment: `export` as a fragment or query is not it.
            (
                "x",
                Some("https://ehr.example/OperationDefinition/lastn#export"),
            ),
            (
                "x",
                Some("https://ehr.example/OperationDefinition/lastn?id=export"),
            ),
        ] {
            assert!(
                !op(name, definition).is_bulk_export(),
                "{name} {definition:?}"
            );
        }
    }

    #[test]
    fn the_owner_decides_the_level() {
        let export = op("export", None);
        assert_eq!(export.export_level(None), Some(ExportLevel::System));
        assert_eq!(
            export.export_level(Some("Patient")),
            Some(ExportLevel::Patient)
        );
        assert_eq!(export.export_level(Some("Group")), Some(ExportLevel::Group));
        // The IG defines no export on other types: a plain operation there.
        assert_eq!(export.export_level(Some("Observation")), None);
        // Epic's `group-export` declared at system level is the system export.
        assert_eq!(
            op("group-export", None).export_level(None),
            Some(ExportLevel::System)
        );
        assert_eq!(op("lastn", None).export_level(Some("Patient")), None);
        assert_eq!(ExportLevel::Group.url(), "[base]/Group/[id]/$export");
    }
}
