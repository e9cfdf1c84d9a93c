//! Search parameters and their FHIR types.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The FHIR type of a search parameter (`SearchParamType` value set).
///
/// A type this model does not know is kept verbatim as [`SearchParamType::Other`] so that a
/// vendor's oddity survives into warnings and diffs instead of disappearing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SearchParamType {
    /// `number`
    Number,
    /// `date` (date, dateTime, instant and Period values)
    Date,
    /// `string`
    String,
    /// `token`
    Token,
    /// `reference`
    Reference,
    /// `composite`
    Composite,
    /// `quantity`
    Quantity,
    /// `uri`
    Uri,
    /// `special`
    Special,
    /// `resource` (R5)
    Resource,
    /// A type code this model does not know, kept as written.
    Other(String),
}

impl SearchParamType {
    /// The FHIR code, e.g. `"quantity"`.
    pub fn code(&self) -> &str {
        match self {
            Self::Number => "number",
            Self::Date => "date",
            Self::String => "string",
            Self::Token => "token",
            Self::Reference => "reference",
            Self::Composite => "composite",
            Self::Quantity => "quantity",
            Self::Uri => "uri",
            Self::Special => "special",
            Self::Resource => "resource",
            Self::Other(code) => code,
        }
    }

    /// Whether the type is one this model knows.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// Whether values of this type are ordered, so that prefixes and ranges apply
    /// (date, number and quantity).
    pub fn supports_range(&self) -> bool {
        matches!(self, Self::Date | Self::Number | Self::Quantity)
    }
}

impl From<String> for SearchParamType {
    fn from(code: String) -> Self {
        match code.as_str() {
            "number" => Self::Number,
            "date" => Self::Date,
            "string" => Self::String,
            "token" => Self::Token,
            "reference" => Self::Reference,
            "composite" => Self::Composite,
            "quantity" => Self::Quantity,
            "uri" => Self::Uri,
            "special" => Self::Special,
            "resource" => Self::Resource,
            _ => Self::Other(code),
        }
    }
}

impl From<SearchParamType> for String {
    fn from(t: SearchParamType) -> Self {
        t.code().to_owned()
    }
}

impl fmt::Display for SearchParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Result-control parameters: they shape the result set rather than filter it, so they never get
/// prefix or range treatment even when a statement types them `number` (`_count`).
pub const RESULT_PARAMETERS: &[&str] = &[
    "_count",
    "_offset",
    "_sort",
    "_include",
    "_revinclude",
    "_summary",
    "_total",
    "_elements",
    "_contained",
    "_containedType",
    "_format",
    "_pretty",
    "_graph",
    "_maxresults",
];

/// One search parameter, as declared for a resource type or for the whole system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchParam {
    /// The name on the wire, exactly as the spec declares it (`general-practitioner`, `-encounter`).
    pub name: String,
    /// The sanitized Rust identifier (`general_practitioner`, `vendor_encounter`), unique within
    /// its resource.
    pub rust_name: String,
    /// The FHIR search parameter type.
    #[serde(rename = "type")]
    pub param_type: SearchParamType,
    /// The spec's documentation, or the FHIR core definition's description when the spec gives none.
    pub documentation: Option<String>,
    /// Canonical URL of the SearchParameter definition, from the spec or from FHIR core.
    pub definition: Option<String>,
    /// Whether search by range (two bounds) applies: date, number and quantity parameters, never
    /// result parameters such as `_count`.
    pub range: bool,
    /// Whether documentation or definition came from the FHIR core definitions rather than the spec.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_core: bool,
    /// Search modifiers the spec declares as supported for this parameter (`missing`, `exact`,
    /// a resource type for a reference), from entries written `name:modifier` next to the
    /// parameter (`subject:missing`). In declaration order, without duplicates; empty (and
    /// omitted from JSON) when the spec declares none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
}

impl SearchParam {
    /// Whether range search applies to a parameter with this name and type.
    pub fn range_applies(name: &str, param_type: &SearchParamType) -> bool {
        param_type.supports_range() && !RESULT_PARAMETERS.contains(&name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_survive_a_round_trip() {
        let t: SearchParamType = serde_json::from_str("\"fancy\"").unwrap();
        assert_eq!(t, SearchParamType::Other("fancy".into()));
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"fancy\"");
        let d: SearchParamType = serde_json::from_str("\"date\"").unwrap();
        assert_eq!(d, SearchParamType::Date);
    }

    #[test]
    fn range_never_applies_to_result_parameters() {
        assert!(SearchParam::range_applies(
            "birthdate",
            &SearchParamType::Date
        ));
        assert!(SearchParam::range_applies(
            "value-quantity",
            &SearchParamType::Quantity
        ));
        assert!(!SearchParam::range_applies(
            "_count",
            &SearchParamType::Number
        ));
        assert!(!SearchParam::range_applies(
            "_offset",
            &SearchParamType::Number
        ));
        assert!(!SearchParam::range_applies(
            "name",
            &SearchParamType::String
        ));
    }
}
