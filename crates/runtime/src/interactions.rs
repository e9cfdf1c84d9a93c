//! The FHIR RESTful interactions.

use http::{header, HeaderName, HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::bundle::Bundle;
use crate::client::{Client, Req, Resp, FHIR_JSON};
use crate::error::Error;
use crate::outcome::OperationOutcome;
use crate::paging::SearchRequest;
use crate::search::SearchParams;
use crate::write::{OperationRequest, WriteRequest};

/// What a write should return (`Prefer: return=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    /// No body.
    Minimal,
    /// The resource as stored.
    Representation,
    /// An `OperationOutcome` about the write.
    OperationOutcome,
}

impl Return {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Return::Minimal => "return=minimal",
            Return::Representation => "return=representation",
            Return::OperationOutcome => "return=OperationOutcome",
        })
    }
}

/// Options of a write (create, update, patch, delete).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct WriteOptions {
    if_match: Option<String>,
    if_none_exist: Option<SearchParams>,
    pub(crate) if_none_exist_honoured: Option<bool>,
    prefer: Option<Return>,
}

impl WriteOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only write if the current version is `version_id` (`If-Match: W/"<version_id>"`); a stale
    /// version fails with 412.
    pub fn if_match_version(mut self, version_id: impl AsRef<str>) -> Self {
        self.if_match = Some(format!("W/\"{}\"", version_id.as_ref()));
        self
    }

    /// Only write if the current ETag is `etag`, as the server sent it (`W/"3"`).
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    /// Conditional create: create only if no resource matches `criteria` (`If-None-Exist`).
    /// Retried after a transient failure only when the client knows the server honours it
    /// ([`ClientBuilder::conditional_create_is_idempotent`](crate::ClientBuilder::conditional_create_is_idempotent)).
    pub fn if_none_exist(mut self, criteria: SearchParams) -> Self {
        self.if_none_exist = Some(criteria);
        self
    }

    /// Whether this server honours `If-None-Exist` for this resource type (its statement
    /// declares `conditionalCreate`), so a conditional create may be retried after a transient
    /// failure without risking a duplicate. Overrides
    /// [`ClientBuilder::conditional_create_is_idempotent`](crate::ClientBuilder::conditional_create_is_idempotent)
    /// for this request; generated connectors set it per resource from the statement.
    pub fn server_honours_if_none_exist(mut self, honoured: bool) -> Self {
        self.if_none_exist_honoured = Some(honoured);
        self
    }

    /// What the server should return (`Prefer: return=...`).
    pub fn prefer(mut self, ret: Return) -> Self {
        self.prefer = Some(ret);
        self
    }

    pub(crate) fn apply(&self, req: &mut Req) -> Result<(), Error> {
        if let Some(etag) = &self.if_match {
            let value = HeaderValue::from_str(etag)
                .map_err(|_| Error::invalid("If-Match", "not a valid header value"))?;
            req.headers.insert(header::IF_MATCH, value);
        }
        if let Some(criteria) = &self.if_none_exist {
            let query = criteria.to_query_string()?;
            let value = HeaderValue::from_str(&query)
                .map_err(|_| Error::invalid("If-None-Exist", "not a valid header value"))?;
            req.headers
                .insert(HeaderName::from_static("if-none-exist"), value);
            // Repeating is safe only if the server honours the header (the client knows).
            req.conditional_create = true;
            req.conditional_create_honoured = self.if_none_exist_honoured;
        }
        if let Some(ret) = self.prefer {
            req.headers
                .insert(HeaderName::from_static("prefer"), ret.header());
        }
        Ok(())
    }
}

/// The server's answer to a write: status, `Location`, `ETag`, and the body if any.
#[derive(Debug, Clone)]
pub struct WriteResponse {
    status: StatusCode,
    location: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    body: Option<Value>,
}

impl WriteResponse {
    pub(crate) fn from_resp(resp: &Resp) -> Result<Self, Error> {
        Ok(Self {
            status: resp.status,
            location: resp
                .header(header::LOCATION)
                .or_else(|| resp.header(header::CONTENT_LOCATION)),
            etag: resp.header(header::ETAG),
            last_modified: resp.header(header::LAST_MODIFIED),
            body: resp.json("resource")?,
        })
    }

    /// The HTTP status (201 created, 200 updated or already existing, 204, ...).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Whether the server created a resource (201).
    pub fn created(&self) -> bool {
        self.status == StatusCode::CREATED
    }

    /// The `Location` (or `Content-Location`) header.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The `ETag` header (`W/"2"`).
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The `Last-Modified` header.
    pub fn last_modified(&self) -> Option<&str> {
        self.last_modified.as_deref()
    }

    /// The returned resource, unless the body is empty or an `OperationOutcome`.
    pub fn resource(&self) -> Option<&Value> {
        self.body
            .as_ref()
            .filter(|b| b.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome"))
    }

    /// The returned resource, owned.
    pub fn into_resource(self) -> Option<Value> {
        self.body
            .filter(|b| b.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome"))
    }

    /// The returned `OperationOutcome`, if the body is one.
    pub fn outcome(&self) -> Option<OperationOutcome> {
        self.body.as_ref().and_then(OperationOutcome::from_json)
    }

    /// The logical id: from the resource, else from `Location` (`.../Patient/<id>/_history/<v>`).
    pub fn id(&self) -> Option<&str> {
        if let Some(id) = self
            .resource()
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
            .filter(|id| crate::id::is_valid(id))
        {
            return Some(id);
        }
        let location = self.location.as_deref()?;
        let path = location.split('?').next().unwrap_or(location);
        let mut parts: Vec<&str> = path.trim_end_matches('/').rsplit('/').collect();
        if parts.len() >= 3 && parts[1] == "_history" {
            parts.drain(..2);
        }
        // A hostile `Location` must not hand the caller an id that rewrites the next URL.
        parts.first().copied().filter(|s| crate::id::is_valid(s))
    }

    /// The version id: from `ETag`, else the resource's `meta.versionId`, else `Location`.
    pub fn version_id(&self) -> Option<&str> {
        if let Some(etag) = &self.etag {
            let v = etag.trim_start_matches("W/").trim_matches('"');
            if crate::id::is_valid(v) {
                return Some(v);
            }
        }
        if let Some(v) = self
            .resource()
            .and_then(|r| r.pointer("/meta/versionId"))
            .and_then(Value::as_str)
            .filter(|v| crate::id::is_valid(v))
        {
            return Some(v);
        }
        let location = self.location.as_deref()?;
        let (_, version) = location.split_once("/_history/")?;
        Some(version.trim_end_matches('/')).filter(|v| crate::id::is_valid(v))
    }
}

/// Where an operation or history applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole server (`[base]/$op`, `[base]/_history`).
    System,
    /// A resource type (`[base]/Patient/$op`).
    Type(&'a str),
    /// One resource (`[base]/Patient/1/$op`).
    Instance(&'a str, &'a str),
}

pub(crate) fn check_type(resource_type: &str) -> Result<(), Error> {
    let mut chars = resource_type.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
        && resource_type.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "resource type",
            format!("{resource_type:?} is not a FHIR resource type name"),
        ))
    }
}

fn check_id(what: &'static str, id: &str) -> Result<(), Error> {
    crate::id::check(what, id)
}

impl Client {
    /// `[base]/seg/seg...`, each segment percent-encoded by `url`.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.inner.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| Error::invalid("base URL", "cannot be a base"))?;
            path.pop_if_empty();
            for segment in segments {
                path.push(segment);
            }
        }
        Ok(url)
    }

    fn type_url(&self, resource_type: &str, rest: &[&str]) -> Result<Url, Error> {
        check_type(resource_type)?;
        let mut segments = vec![resource_type];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    fn instance_url(&self, resource_type: &str, id: &str, rest: &[&str]) -> Result<Url, Error> {
        check_id("id", id)?;
        let mut segments = vec![id];
        segments.extend_from_slice(rest);
        self.type_url(resource_type, &segments)
    }

    fn scope_url(&self, scope: Scope<'_>, rest: &[&str]) -> Result<Url, Error> {
        match scope {
            Scope::System => self.url(rest),
            Scope::Type(t) => self.type_url(t, rest),
            Scope::Instance(t, id) => self.instance_url(t, id, rest),
        }
    }

    async fn resource(&self, req: Req) -> Result<Value, Error> {
        self.execute(req).await?.json_required("resource")
    }

    /// The server's `CapabilityStatement` (`GET [base]/metadata`).
    ///
    /// # Errors
    /// Transport, server and decode errors.
    pub async fn capabilities(&self) -> Result<Value, Error> {
        self.resource(Req::new(Method::GET, self.url(&["metadata"])?))
            .await
    }

    /// Reads a resource (`GET [base]/[type]/[id]`).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad type or id; [`Error::Outcome`]/[`Error::Status`] with
    /// 404 or 410 when it does not exist; transport and decode errors.
    pub async fn read(&self, resource_type: &str, id: &str) -> Result<Value, Error> {
        self.resource(Req::new(
            Method::GET,
            self.instance_url(resource_type, id, &[])?,
        ))
        .await
    }

    /// Reads one version of a resource (`GET [base]/[type]/[id]/_history/[vid]`).
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub async fn vread(
        &self,
        resource_type: &str,
        id: &str,
        version: &str,
    ) -> Result<Value, Error> {
        check_id("version id", version)?;
        let url = self.instance_url(resource_type, id, &["_history", version])?;
        self.resource(Req::new(Method::GET, url)).await
    }

    /// Reads a resource and decodes it as `T` (any `DeserializeOwned`: the caller's own struct or
    /// a FHIR model crate's type).
    ///
    /// # Errors
    /// As [`read`](Self::read), and [`Error::Decode`] when the resource is not a `T`.
    pub async fn read_as<T: DeserializeOwned>(
        &self,
        resource_type: &str,
        id: &str,
    ) -> Result<T, Error> {
        crate::write::from_value(self.read(resource_type, id).await?, "resource")
    }

    /// Creates a resource (`POST [base]/[type]`): add `.if_none_exist(..)` (conditional
    /// create) or `.prefer(..)`, then `.send()` or `.await`. A plain create is never retried once
    /// it may have been sent.
    ///
    /// `send` fails with [`Error::InvalidInput`] when `resource` is not an object of
    /// `resource_type`; then with server, transport and decode errors.
    pub fn create<'a>(&'a self, resource_type: &str, resource: &Value) -> WriteRequest<'a> {
        let req = check_body(resource_type, resource).and_then(|()| {
            Req::new(Method::POST, self.type_url(resource_type, &[])?)
                .json_body(resource, FHIR_JSON)
        });
        WriteRequest::new(self, req)
    }

    /// Updates (or creates with a client-chosen id) a resource (`PUT [base]/[type]/[id]`): add
    /// `.if_match_version(..)` for optimistic locking (a stale version fails with 412).
    ///
    /// `send` fails as [`create`](Self::create)'s, and with [`Error::InvalidInput`] when the
    /// body's `id` differs.
    pub fn update<'a>(
        &'a self,
        resource_type: &str,
        id: &str,
        resource: &Value,
    ) -> WriteRequest<'a> {
        let req = check_body(resource_type, resource).and_then(|()| {
            if let Some(body_id) = resource.get("id").and_then(Value::as_str) {
                if body_id != id {
                    return Err(Error::invalid(
                        "resource",
                        format!("body id {body_id:?} differs from the URL id {id:?}"),
                    ));
                }
            }
            Req::new(Method::PUT, self.instance_url(resource_type, id, &[])?)
                .json_body(resource, FHIR_JSON)
        });
        WriteRequest::new(self, req)
    }

    /// Conditional update (`PUT [base]/[type]?criteria`): updates the one match, creates when
    /// none matches, fails with 412 when several match.
    ///
    /// `send` fails as [`update`](Self::update)'s, and with [`Error::Search`] for invalid
    /// criteria.
    pub fn update_conditional<'a>(
        &'a self,
        resource_type: &str,
        criteria: &SearchParams,
        resource: &Value,
    ) -> WriteRequest<'a> {
        let req = check_body(resource_type, resource).and_then(|()| {
            let mut url = self.type_url(resource_type, &[])?;
            url.set_query(Some(&criteria.to_query_string()?));
            Req::new(Method::PUT, url).json_body(resource, FHIR_JSON)
        });
        WriteRequest::new(self, req)
    }

    /// Applies a JSON Patch (`PATCH [base]/[type]/[id]`, `application/json-patch+json`).
    ///
    /// `send` fails with [`Error::InvalidInput`] when `json_patch` is not an array; then with
    /// server, transport and decode errors.
    pub fn patch<'a>(
        &'a self,
        resource_type: &str,
        id: &str,
        json_patch: &Value,
    ) -> WriteRequest<'a> {
        let req = if json_patch.is_array() {
            self.instance_url(resource_type, id, &[]).and_then(|url| {
                Req::new(Method::PATCH, url).json_body(json_patch, "application/json-patch+json")
            })
        } else {
            Err(Error::invalid(
                "JSON Patch",
                "must be an array of operations",
            ))
        };
        WriteRequest::new(self, req)
    }

    /// Deletes a resource (`DELETE [base]/[type]/[id]`).
    ///
    /// `send` fails with [`Error::InvalidInput`] for a bad type or id; then with server and
    /// transport errors.
    pub fn delete<'a>(&'a self, resource_type: &str, id: &str) -> WriteRequest<'a> {
        let req = self
            .instance_url(resource_type, id, &[])
            .map(|url| Req::new(Method::DELETE, url));
        WriteRequest::new(self, req)
    }

    /// Conditional delete (`DELETE [base]/[type]?criteria`).
    ///
    /// `send` fails as [`delete`](Self::delete)'s, and with [`Error::Search`] for invalid or
    /// empty criteria (a criteria-less delete would empty the type).
    pub fn delete_conditional<'a>(
        &'a self,
        resource_type: &str,
        criteria: &SearchParams,
    ) -> WriteRequest<'a> {
        let req = self.type_url(resource_type, &[]).and_then(|mut url| {
            let query = criteria.to_query_string()?;
            if query.is_empty() {
                return Err(Error::invalid(
                    "conditional delete",
                    "needs at least one criterion",
                ));
            }
            url.set_query(Some(&query));
            Ok(Req::new(Method::DELETE, url))
        });
        WriteRequest::new(self, req)
    }

    /// Searches a resource type; see [`SearchRequest`] for sending, paging and POST.
    pub fn search(&self, resource_type: &str, params: SearchParams) -> SearchRequest {
        SearchRequest::new(
            self.clone(),
            self.type_url(resource_type, &[]),
            params,
            true,
        )
    }

    /// Searches across all types (`GET [base]?_type=...`).
    pub fn search_system(&self, params: SearchParams) -> SearchRequest {
        SearchRequest::new(self.clone(), self.url(&[]), params, true)
    }

    /// History at a scope, paged like a search (`_count`, `_since`, `_at` go in `params`).
    pub fn history(&self, scope: Scope<'_>, params: SearchParams) -> SearchRequest {
        SearchRequest::new(
            self.clone(),
            self.scope_url(scope, &["_history"]),
            params,
            false,
        )
    }

    /// The first page of a resource's history (`GET [base]/[type]/[id]/_history`).
    ///
    /// # Errors
    /// Bad type or id, transport, server and decode errors.
    pub async fn history_instance(&self, resource_type: &str, id: &str) -> Result<Bundle, Error> {
        self.history(Scope::Instance(resource_type, id), SearchParams::new())
            .send()
            .await
    }

    /// The first page of a type's history (`GET [base]/[type]/_history`).
    ///
    /// # Errors
    /// As [`history_instance`](Self::history_instance).
    pub async fn history_type(&self, resource_type: &str) -> Result<Bundle, Error> {
        self.history(Scope::Type(resource_type), SearchParams::new())
            .send()
            .await
    }

    /// The first page of the server's history (`GET [base]/_history`).
    ///
    /// # Errors
    /// As [`history_instance`](Self::history_instance).
    pub async fn history_system(&self) -> Result<Bundle, Error> {
        self.history(Scope::System, SearchParams::new())
            .send()
            .await
    }

    /// Invokes operation `name` (`$everything` or `everything`) at `scope`: add
    /// `.parameters(&p)` to `POST` a `Parameters` resource, `.query(..)` for a `GET` with simple
    /// parameters, `.instance(id)` to move a type-level call to one instance; then `.send()` or
    /// `.await`. See [`OperationRequest`].
    pub fn operation<'a>(&'a self, scope: Scope<'a>, name: &'a str) -> OperationRequest<'a> {
        OperationRequest::new(self, scope, name)
    }

    pub(crate) fn operation_url(&self, scope: Scope<'_>, name: &str) -> Result<Url, Error> {
        let bare = name.strip_prefix('$').unwrap_or(name);
        let ok = !bare.is_empty()
            && bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !ok {
            return Err(Error::invalid(
                "operation name",
                format!("{name:?} is not an operation name"),
            ));
        }
        let op = format!("${bare}");
        self.scope_url(scope, &[&op])
    }

    /// Sends a `batch` Bundle (`POST [base]`); each entry succeeds or fails on its own.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless `bundle` is a Bundle of type `batch`; transport, server
    /// and decode errors.
    pub async fn batch(&self, bundle: &Value) -> Result<Bundle, Error> {
        self.post_bundle(bundle, "batch").await
    }

    /// Sends a `transaction` Bundle (`POST [base]`); all entries succeed or none.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless `bundle` is a Bundle of type `transaction`; transport,
    /// server and decode errors.
    pub async fn transaction(&self, bundle: &Value) -> Result<Bundle, Error> {
        self.post_bundle(bundle, "transaction").await
    }

    async fn post_bundle(&self, bundle: &Value, kind: &str) -> Result<Bundle, Error> {
        check_body("Bundle", bundle)?;
        if bundle.get("type").and_then(Value::as_str) != Some(kind) {
            return Err(Error::invalid(
                "bundle",
                format!("Bundle.type must be {kind:?}"),
            ));
        }
        let req = Req::new(Method::POST, self.url(&[])?).json_body(bundle, FHIR_JSON)?;
        self.bundle(req).await
    }
}

pub(crate) fn check_body(resource_type: &str, resource: &Value) -> Result<(), Error> {
    check_type(resource_type)?;
    match resource.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == resource_type => Ok(()),
        Some(t) => Err(Error::invalid(
            "resource",
            format!("resourceType {t:?} does not match {resource_type:?}"),
        )),
        None => Err(Error::invalid(
            "resource",
            "not a JSON object with a resourceType",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::builder("http://127.0.0.1:1/fhir")
            .build()
            .expect("valid")
    }

    #[test]
    fn urls_are_built_below_the_base_and_inputs_checked() {
        let c = client();
        assert_eq!(
            c.instance_url("Patient", "a-1.2", &["_history", "3"])
                .expect("valid")
                .as_str(),
            "http://127.0.0.1:1/fhir/Patient/a-1.2/_history/3"
        );
        assert_eq!(
            c.operation_url(Scope::Type("Patient"), "everything")
                .expect("valid")
                .as_str(),
            "http://127.0.0.1:1/fhir/Patient/$everything"
        );
        assert_eq!(
            c.operation_url(Scope::System, "$meta")
                .expect("valid")
                .as_str(),
            "http://127.0.0.1:1/fhir/$meta"
        );
        for (t, id) in [
            ("patient", "1"),
            ("Patient", "../x"),
            ("Patient", ""),
            ("Patient", "."),
            ("Patient", ".."),
            ("Patient", ".\t."),
            ("Pa/tient", "1"),
        ] {
            assert!(
                matches!(c.instance_url(t, id, &[]), Err(Error::InvalidInput { .. })),
                "{t} {id}"
            );
        }
        assert!(c.operation_url(Scope::System, "$a/b").is_err());
    }

    #[test]
    fn write_response_ids_from_headers() {
        let w = WriteResponse {
            status: StatusCode::CREATED,
            location: Some("http://h/Patient/abc/_history/4".into()),
            etag: None,
            last_modified: None,
            body: None,
        };
        assert_eq!(w.id(), Some("abc"));
        assert_eq!(w.version_id(), Some("4"));
        assert!(w.created());
        let w = WriteResponse {
            etag: Some("W/\"7\"".into()),
            location: Some("Patient/xyz".into()),
            ..w
        };
        assert_eq!(w.id(), Some("xyz"));
        assert_eq!(w.version_id(), Some("7"));
        // Ids a hostile server puts in `Location`, `ETag` or the body are dropped, not passed on
        // to a later `delete(type, id)` that would lose the segment.
        for (location, etag) in [
            ("http://h/Patient/../_history/..", "W/\"..\""),
            ("http://h/Patient/./_history/.", "W/\".\""),
            ("Patient/a%2Fb/_history/1%20", "W/\"a b\""),
        ] {
            let w = WriteResponse {
                location: Some(location.into()),
                etag: Some(etag.into()),
                body: Some(
                    serde_json::json!({"resourceType": "Patient", "id": "..", "meta": {"versionId": "."}}),
                ),
                ..w.clone()
            };
            assert_eq!((w.id(), w.version_id()), (None, None), "{location}");
        }
    }

    #[test]
    fn bodies_must_match_the_type() {
        assert!(check_body("Patient", &serde_json::json!({"resourceType": "Patient"})).is_ok());
        assert!(check_body(
            "Patient",
            &serde_json::json!({"resourceType": "Observation"})
        )
        .is_err());
        assert!(check_body("Patient", &serde_json::json!([1])).is_err());
    }
}
