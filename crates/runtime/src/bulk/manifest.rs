//! The completion manifest a status URL returns.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The manifest of a finished export (Bulk Data IG "Response - Complete Status").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The server's time when the export's data was taken (the next `_since`).
    pub transaction_time: String,
    /// The kick-off URL.
    pub request: String,
    /// Whether file URLs need the access token.
    pub requires_access_token: bool,
    /// The data files.
    #[serde(default)]
    pub output: Vec<ManifestFile>,
    /// Files of `OperationOutcome`s: what the server could not export.
    #[serde(default)]
    pub error: Vec<ManifestFile>,
    /// Files of `Bundle`s naming resources deleted since `_since`.
    #[serde(default)]
    pub deleted: Vec<ManifestFile>,
    /// Extensions, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Value>,
    /// Anything else the server sent (`link`, vendor fields), kept as sent.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The resource type of every line.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Where to download it.
    pub url: String,
    /// How many resources it holds, if the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Extensions, kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Value>,
}

impl Manifest {
    /// Reads a manifest from a status URL's `200` body.
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, String> {
        let mut de = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            format!("at {path}: {}", e.into_inner())
        })
    }

    /// Every file with its kind, in manifest order.
    pub fn files(&self) -> impl Iterator<Item = (super::FileKind, &ManifestFile)> {
        use super::FileKind;
        let tag = |kind| move |f| (kind, f);
        self.output
            .iter()
            .map(tag(FileKind::Output))
            .chain(self.error.iter().map(tag(FileKind::Error)))
            .chain(self.deleted.iter().map(tag(FileKind::Deleted)))
    }
}
