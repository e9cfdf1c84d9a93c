//! FHIR RESTful interaction codes, at resource (type and instance) and at system level.

use serde::{Deserialize, Serialize};

/// An interaction on one resource type, serialized as its FHIR code (`"search-type"`).
///
/// The codes are the same from DSTU2 to R5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceInteraction {
    /// `GET [base]/[type]/[id]`
    Read,
    /// `GET [base]/[type]/[id]/_history/[vid]`
    Vread,
    /// `PUT [base]/[type]/[id]`
    Update,
    /// `PATCH [base]/[type]/[id]`
    Patch,
    /// `DELETE [base]/[type]/[id]`
    Delete,
    /// `GET [base]/[type]/[id]/_history`
    HistoryInstance,
    /// `GET [base]/[type]/_history`
    HistoryType,
    /// `POST [base]/[type]`
    Create,
    /// `GET [base]/[type]?params` and `POST [base]/[type]/_search`
    SearchType,
}

impl ResourceInteraction {
    /// Every interaction, in canonical order (the order of the FHIR `type-restful-interaction`
    /// value set, which is also the sort order of this enum).
    pub const ALL: [ResourceInteraction; 9] = [
        Self::Read,
        Self::Vread,
        Self::Update,
        Self::Patch,
        Self::Delete,
        Self::HistoryInstance,
        Self::HistoryType,
        Self::Create,
        Self::SearchType,
    ];

    /// The FHIR code, e.g. `"history-instance"`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Vread => "vread",
            Self::Update => "update",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::HistoryInstance => "history-instance",
            Self::HistoryType => "history-type",
            Self::Create => "create",
            Self::SearchType => "search-type",
        }
    }

    /// Parses a FHIR code; `None` for a code that is not a resource-level interaction.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.code() == code)
    }
}

/// An interaction on the whole server, serialized as its FHIR code (`"batch"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemInteraction {
    /// `POST [base]` with a `transaction` Bundle.
    Transaction,
    /// `POST [base]` with a `batch` Bundle.
    Batch,
    /// `GET [base]?params`
    SearchSystem,
    /// `GET [base]/_history`
    HistorySystem,
}

impl SystemInteraction {
    /// Every system interaction, in canonical order.
    pub const ALL: [SystemInteraction; 4] = [
        Self::Transaction,
        Self::Batch,
        Self::SearchSystem,
        Self::HistorySystem,
    ];

    /// The FHIR code, e.g. `"search-system"`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::Batch => "batch",
            Self::SearchSystem => "search-system",
            Self::HistorySystem => "history-system",
        }
    }

    /// Parses a FHIR code; `None` for a code that is not a system-level interaction.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde_and_from_code() {
        for i in ResourceInteraction::ALL {
            let json = serde_json::to_string(&i).unwrap();
            assert_eq!(json, format!("\"{}\"", i.code()));
            assert_eq!(ResourceInteraction::from_code(i.code()), Some(i));
        }
        for i in SystemInteraction::ALL {
            let json = serde_json::to_string(&i).unwrap();
            assert_eq!(json, format!("\"{}\"", i.code()));
            assert_eq!(SystemInteraction::from_code(i.code()), Some(i));
        }
        assert_eq!(ResourceInteraction::from_code("batch"), None);
    }
}
