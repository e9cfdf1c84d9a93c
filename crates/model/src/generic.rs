//! Generic (non-FHIR) HTTP operations, read from OpenAPI documents.
//!
//! Some EHR APIs are not FHIR-shaped at all (Elation's REST API, OpenEMR's `/api/...` routes), and
//! FHIR servers sometimes publish extra routes beside their FHIR base (NextGen's `/ccda`). Such an
//! operation has no resource, interaction or search parameter to map onto, so it is kept as plain
//! HTTP: a method, a path template, typed parameters, and JSON bodies (`serde_json::Value` in the
//! generated code).
//!
//! Like the rest of the model, every item keeps its wire name beside a sanitized Rust name, and
//! lists are in a deterministic order (document order).

use serde::{Deserialize, Serialize};

/// The HTTP method of a [`GenericOperation`], serialized upper-case (`"GET"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `HEAD`
    Head,
    /// `PATCH`
    Patch,
    /// `TRACE`
    Trace,
}

impl HttpMethod {
    /// Every method, in the order OpenAPI's Path Item Object lists them.
    pub const ALL: [HttpMethod; 8] = [
        Self::Get,
        Self::Put,
        Self::Post,
        Self::Delete,
        Self::Options,
        Self::Head,
        Self::Patch,
        Self::Trace,
    ];

    /// The method as sent on the wire (`"GET"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Head => "HEAD",
            Self::Patch => "PATCH",
            Self::Trace => "TRACE",
        }
    }

    /// Parses a method name in any case (OpenAPI path items use `get`, `post`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

/// Where a [`GenericParam`] is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// Substituted into the path template (`{id}`); always required.
    Path,
    /// Appended to the query string.
    Query,
    /// Sent as a request header.
    Header,
}

/// The value type of a [`GenericParam`]: only simple scalar types, anything else is a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimpleType {
    /// Text (also the fallback for objects and unknown schemas).
    String,
    /// A whole number (`integer`).
    Integer,
    /// A number that may have a fraction (`number`).
    Number,
    /// `true` or `false`.
    Boolean,
}

/// How an array-valued parameter puts several values on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListStyle {
    /// The parameter is repeated once per value (`a=1&a=2`; OpenAPI `explode: true`).
    Repeated,
    /// The values are joined by commas (`a=1,2`; OpenAPI `explode: false`, Swagger `csv`).
    CommaSeparated,
}

/// One parameter of a [`GenericOperation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericParam {
    /// The name on the wire, exactly as the document declares it (`last_modified__gte`).
    pub name: String,
    /// The sanitized Rust identifier, unique within its operation.
    pub rust_name: String,
    /// Where the parameter is sent.
    pub location: ParamLocation,
    /// Whether the caller must give it (path parameters always are).
    pub required: bool,
    /// The type of one value.
    pub value_type: SimpleType,
    /// `Some` when the parameter takes a list of values, and how the list is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListStyle>,
    /// The document's `description`.
    pub documentation: Option<String>,
}

/// A request or response body of a [`GenericOperation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericBody {
    /// The media type the document gives, a JSON one preferred when it lists several
    /// (`application/json`, `multipart/form-data`, `text/xml`).
    pub media_type: String,
    /// Whether the body must be sent (requests) or is always returned (responses: `true`).
    pub required: bool,
}

impl GenericBody {
    /// Whether the body is JSON (`application/json`, `application/fhir+json`, `*/*+json`), which
    /// the generated code types as `serde_json::Value`.
    pub fn is_json(&self) -> bool {
        let essence = self
            .media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    }
}

/// An HTTP operation that is not part of the FHIR RESTful API (a proprietary REST route).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericOperation {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path template exactly as the document writes it, relative to [`Self::server_url`]
    /// (`/api/patient/{puuid}/allergy`). Every `{name}` in it is a [`ParamLocation::Path`]
    /// parameter in [`Self::params`].
    pub path: String,
    /// The server URL the path is relative to (OpenAPI `servers[0].url` of the operation, its path
    /// item or the document; Swagger `schemes`/`host`/`basePath`), made absolute when possible.
    /// `None` when the document gives none: the caller's base URL is used.
    pub server_url: Option<String>,
    /// The Rust method name: from `operationId`, else derived from method and path
    /// (`get_api_patient_by_puuid`). Unique among the connector's generic operations.
    pub rust_name: String,
    /// `operationId`, exactly as written.
    pub operation_id: Option<String>,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub documentation: Option<String>,
    /// Path, query and header parameters: path parameters first in template order, then the
    /// others in document order.
    pub params: Vec<GenericParam>,
    /// The request body, when the operation takes one.
    pub request_body: Option<GenericBody>,
    /// The body of the success (2xx) response, when the document declares one.
    pub response_body: Option<GenericBody>,
    /// `deprecated: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_round_trip() {
        for m in HttpMethod::ALL {
            assert_eq!(HttpMethod::from_name(&m.as_str().to_lowercase()), Some(m));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.as_str()));
        }
        assert_eq!(HttpMethod::from_name("parameters"), None);
    }

    #[test]
    fn json_bodies_are_recognised_by_media_type() {
        for (media_type, json) in [
            ("application/json", true),
            ("application/fhir+json; charset=utf-8", true),
            ("Application/JSON", true),
            ("multipart/form-data", false),
            ("text/xml", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            let body = GenericBody {
                media_type: media_type.into(),
                required: true,
            };
            assert_eq!(body.is_json(), json, "{media_type}");
        }
    }
}
