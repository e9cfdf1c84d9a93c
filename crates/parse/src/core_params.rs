//! The FHIR R4 core SearchParameter definitions, embedded compressed.
//!
//! `build.rs` reduces `specs/fhir/r4-search-parameters.json` (1,375 definitions) to one row per
//! (base type, code) and deflates it; the first lookup inflates and indexes it, once per process.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

static COMPRESSED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/core-search-params.json.gz"));

/// One core search parameter as it applies to one base type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreSearchParam {
    /// The base resource type (`Patient`, `Resource`, `DomainResource`).
    pub base: String,
    /// The code (`birthdate`).
    pub code: String,
    /// The FHIR search parameter type code (`date`).
    pub param_type: String,
    /// The canonical URL (`http://hl7.org/fhir/SearchParameter/individual-birthdate`).
    pub url: String,
    /// The description for this base type (multi-base descriptions are split per type).
    pub description: String,
}

/// code → definitions for each base type.
type Index = BTreeMap<String, Vec<CoreSearchParam>>;

static INDEX: OnceLock<Index> = OnceLock::new();

fn index() -> &'static Index {
    INDEX.get_or_init(|| {
        // The data is produced by our own build script, so a failure here is a build bug; it
        // still degrades to "no core definitions" rather than a panic.
        let mut text = Vec::new();
        if flate2::read::GzDecoder::new(COMPRESSED)
            .read_to_end(&mut text)
            .is_err()
        {
            return Index::new();
        }
        let rows: Vec<[String; 5]> = serde_json::from_slice(&text).unwrap_or_default();
        let mut index = Index::new();
        for [base, code, param_type, url, description] in rows {
            index
                .entry(code.clone())
                .or_default()
                .push(CoreSearchParam {
                    base,
                    code,
                    param_type,
                    url,
                    description,
                });
        }
        index
    })
}

/// The core definition of search parameter `code` on `resource_type`, falling back to the
/// definitions every resource inherits (`DomainResource`, then `Resource`: `_id`,
/// `_lastUpdated`, ...). Pass `"Resource"` for system-level parameters.
pub fn lookup(resource_type: &str, code: &str) -> Option<&'static CoreSearchParam> {
    let defs = index().get(code)?;
    [resource_type, "DomainResource", "Resource"]
        .into_iter()
        .find_map(|base| defs.iter().find(|d| d.base == base))
}

/// How many (base type, code) rows are embedded.
pub fn len() -> usize {
    index().values().map(Vec::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_definitions_are_found_by_type_and_code() {
        let bd = lookup("Patient", "birthdate").unwrap();
        assert_eq!(bd.param_type, "date");
        assert_eq!(
            bd.url,
            "http://hl7.org/fhir/SearchParameter/individual-birthdate"
        );
        // `clinical-patient` covers many bases; each gets its own line of the description.
        let p = lookup("AllergyIntolerance", "patient").unwrap();
        assert_eq!(
            p.url,
            "http://hl7.org/fhir/SearchParameter/clinical-patient"
        );
        assert_eq!(p.description, "Who the sensitivity is for");
        let id = lookup("Patient", "_id").unwrap();
        assert_eq!(id.base, "Resource");
        assert!(lookup("Patient", "ah-practice").is_none());
        assert!(lookup("Account", "-encounter").is_none());
        assert!(len() > 1375, "{}", len());
    }
}
