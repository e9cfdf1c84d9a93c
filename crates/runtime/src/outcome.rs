//! A small hand-written FHIR `OperationOutcome`: its shape is the same from DSTU2 to R5, so one
//! type serves every server.

use serde::{Deserialize, Serialize};

/// A FHIR `OperationOutcome`: the issues a server reports about a request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OperationOutcome {
    /// The issues, in server order.
    #[serde(default)]
    pub issue: Vec<Issue>,
}

/// One `OperationOutcome.issue`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Issue {
    /// `fatal | error | warning | information`.
    #[serde(default)]
    pub severity: String,
    /// The issue type code (`invalid`, `not-found`, `conflict`, ...).
    #[serde(default)]
    pub code: String,
    /// Additional diagnostic text from the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    /// FHIRPath expressions locating the issue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
    /// `details` (a CodeableConcept): vendors put their own codes here (Epic's 4119, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl Issue {
    /// `details.text`, or the first `details.coding` display or code.
    pub fn details_text(&self) -> Option<&str> {
        let details = self.details.as_ref()?;
        if let Some(text) = details.get("text").and_then(|t| t.as_str()) {
            return Some(text);
        }
        let coding = details.get("coding")?.as_array()?.first()?;
        coding
            .get("display")
            .or_else(|| coding.get("code"))
            .and_then(|v| v.as_str())
    }

    /// Whether the severity is `fatal` or `error`.
    pub fn is_error(&self) -> bool {
        matches!(self.severity.as_str(), "fatal" | "error")
    }
}

impl OperationOutcome {
    /// Reads an `OperationOutcome` from a JSON resource; `None` when `value` is not one.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        if value.get("resourceType")?.as_str()? != "OperationOutcome" {
            return None;
        }
        serde_json::from_value(value.clone()).ok()
    }

    /// One line naming the most severe issue: `error (invalid): diagnostics [expression]`,
    /// plus how many more issues there are.
    pub fn summary(&self) -> String {
        let rank = |s: &str| match s {
            "fatal" => 0,
            "error" => 1,
            "warning" => 2,
            _ => 3,
        };
        let Some(first) = self.issue.iter().min_by_key(|i| rank(&i.severity)) else {
            return "no issues".to_owned();
        };
        let mut line = format!("{} ({})", first.severity, first.code);
        if let Some(text) = first.diagnostics.as_deref().or(first.details_text()) {
            line.push_str(": ");
            line.push_str(text);
        }
        if !first.expression.is_empty() {
            line.push_str(&format!(" [{}]", first.expression.join(", ")));
        }
        if self.issue.len() > 1 {
            line.push_str(&format!(" (+{} more)", self.issue.len() - 1));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_summarises_the_most_severe_issue() {
        let oo = OperationOutcome::from_json(&json!({
            "resourceType": "OperationOutcome",
            "issue": [
                {"severity": "warning", "code": "informational", "details": {"coding": [{"code": "4119"}]}},
                {"severity": "error", "code": "invalid", "diagnostics": "bad date", "expression": ["Patient.birthDate"]}
            ]
        }))
        .expect("an OperationOutcome");
        assert_eq!(oo.issue.len(), 2);
        assert_eq!(oo.issue[0].details_text(), Some("4119"));
        assert_eq!(
            oo.summary(),
            "error (invalid): bad date [Patient.birthDate] (+1 more)"
        );
    }

    #[test]
    fn other_resources_are_not_outcomes() {
        assert!(OperationOutcome::from_json(&json!({"resourceType": "Patient"})).is_none());
        assert!(OperationOutcome::from_json(&json!([1, 2])).is_none());
    }
}
