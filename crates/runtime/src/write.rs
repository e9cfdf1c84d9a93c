//! Consuming request builders for writes and operations, in the reqwest style: the call names
//! what is required, optional headers are chained, and nothing is sent until `.send()` (or
//! `.await`, through [`IntoFuture`]).
//!
//! ```no_run
//! # async fn demo(client: fhirforge_runtime::Client, patient: serde_json::Value)
//! # -> Result<(), fhirforge_runtime::Error> {
//! use fhirforge_runtime::search::{SearchParams, Token};
//! use fhirforge_runtime::Return;
//!
//! let mut criteria = SearchParams::new();
//! criteria.push("identifier", Token::system_code("urn:mrn", "12345"));
//! let created = client
//!     .create("Patient", &patient)
//!     .if_none_exist(criteria)
//!     .prefer(Return::Representation)
//!     .send()
//!     .await?;
//! // Without options, `.await` sends directly.
//! client.delete("Patient", created.id().unwrap_or_default()).await?;
//! # Ok(()) }
//! ```

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use http::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{Client, Req};
use crate::error::Error;
use crate::interactions::{Return, Scope, WriteOptions, WriteResponse};
use crate::search::SearchParams;

/// The future of a builder's `.await`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A create, update, patch or delete; nothing is sent until [`send`](Self::send) (or `.await`).
///
/// Built by [`Client::create`], [`Client::update`], [`Client::update_conditional`],
/// [`Client::patch`], [`Client::delete`] and [`Client::delete_conditional`]. An invalid
/// argument (a bad id, a body of another type) is reported by `send`, before anything is sent.
#[derive(Debug)]
#[must_use = "a write does nothing until `.send()` or `.await`"]
pub struct WriteRequest<'a> {
    client: &'a Client,
    req: Result<Req, Error>,
    options: WriteOptions,
}

impl<'a> WriteRequest<'a> {
    pub(crate) fn new(client: &'a Client, req: Result<Req, Error>) -> Self {
        Self {
            client,
            req,
            options: WriteOptions::new(),
        }
    }

    /// Only write if the current version is `version_id` (`If-Match: W/"<version_id>"`); a stale
    /// version fails with 412.
    pub fn if_match_version(mut self, version_id: impl AsRef<str>) -> Self {
        self.options = self.options.if_match_version(version_id);
        self
    }

    /// Only write if the current ETag is `etag`, as the server sent it (`W/"3"`).
    pub fn if_match(mut self, etag: impl Into<String>) -> Self {
        self.options = self.options.if_match(etag);
        self
    }

    /// Conditional create: create only if no resource matches `criteria` (`If-None-Exist`).
    pub fn if_none_exist(mut self, criteria: SearchParams) -> Self {
        self.options = self.options.if_none_exist(criteria);
        self
    }

    /// Whether the server honours `If-None-Exist` for this resource type (see
    /// [`WriteOptions::server_honours_if_none_exist`]); generated connectors set it from the
    /// statement's `conditionalCreate`.
    pub fn server_honours_if_none_exist(mut self, honoured: bool) -> Self {
        self.options = self.options.server_honours_if_none_exist(honoured);
        self
    }

    /// What the server should return (`Prefer: return=...`).
    pub fn prefer(mut self, ret: Return) -> Self {
        self.options = self.options.prefer(ret);
        self
    }

    /// Replaces every option with `options` (prepared elsewhere, e.g. from command-line flags).
    /// What the connector knows about the server (`server_honours_if_none_exist`) is kept unless
    /// `options` says otherwise.
    pub fn options(mut self, options: WriteOptions) -> Self {
        let honoured = self.options.if_none_exist_honoured;
        self.options = options;
        self.options.if_none_exist_honoured = self.options.if_none_exist_honoured.or(honoured);
        self
    }

    /// Sends the write.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an invalid argument (nothing is sent); transport, server and
    /// decode errors.
    pub async fn send(self) -> Result<WriteResponse, Error> {
        let mut req = self.req?;
        self.options.apply(&mut req)?;
        WriteResponse::from_resp(&self.client.execute(req).await?)
    }
}

impl<'a> IntoFuture for WriteRequest<'a> {
    type Output = Result<WriteResponse, Error>;
    type IntoFuture = BoxFuture<'a, WriteResponse>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A `$operation` call; nothing is sent until [`send`](Self::send) (or `.await`).
///
/// Sent by `POST` with a `Parameters` resource when [`parameters`](Self::parameters) is set,
/// else by `GET` with the [`query`](Self::query) parameters (if any). POST operations are never
/// retried once they may have been sent.
#[derive(Debug)]
#[must_use = "an operation does nothing until `.send()` or `.await`"]
pub struct OperationRequest<'a> {
    client: &'a Client,
    scope: Scope<'a>,
    name: &'a str,
    parameters: Option<&'a Value>,
    query: Option<SearchParams>,
    /// A builder misuse (`instance` on a system-level call), reported by `send`.
    deferred: Option<&'static str>,
}

impl<'a> OperationRequest<'a> {
    pub(crate) fn new(client: &'a Client, scope: Scope<'a>, name: &'a str) -> Self {
        Self {
            client,
            scope,
            name,
            parameters: None,
            query: None,
            deferred: None,
        }
    }

    /// Invokes the operation on one instance (`[base]/[type]/[id]/$name`) instead of the type.
    /// Only valid on a type-level call; otherwise `send` fails with [`Error::InvalidInput`].
    pub fn instance(mut self, id: &'a str) -> Self {
        match self.scope {
            Scope::Type(t) | Scope::Instance(t, _) => self.scope = Scope::Instance(t, id),
            Scope::System => self.deferred = Some("a system-level operation has no instance"),
        }
        self
    }

    /// The `Parameters` resource to `POST`.
    pub fn parameters(mut self, parameters: &'a Value) -> Self {
        self.parameters = Some(parameters);
        self
    }

    /// Simple parameters sent in the query of a `GET` (ignored when
    /// [`parameters`](Self::parameters) is set).
    pub fn query(mut self, params: SearchParams) -> Self {
        self.query = Some(params);
        self
    }

    /// Sends the call; the response resource, or `Value::Null` when the body is empty.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad name, scope or `Parameters`, [`Error::Search`] for an
    /// invalid query value (nothing is sent in both cases); transport, server and decode errors.
    pub async fn send(self) -> Result<Value, Error> {
        if let Some(reason) = self.deferred {
            return Err(Error::invalid("operation scope", reason));
        }
        let mut url = self.client.operation_url(self.scope, self.name)?;
        let req = match (self.parameters, &self.query) {
            (Some(p), _) => {
                crate::interactions::check_body("Parameters", p)?;
                Req::new(Method::POST, url).json_body(p, crate::client::FHIR_JSON)?
            }
            (None, query) => {
                if let Some(query) = query {
                    let query = query.to_query_string()?;
                    if !query.is_empty() {
                        url.set_query(Some(&query));
                    }
                }
                Req::new(Method::GET, url)
            }
        };
        Ok(self
            .client
            .execute(req)
            .await?
            .json("operation result")?
            .unwrap_or(Value::Null))
    }

    /// Sends the call and decodes the response as `T` (any `DeserializeOwned`: the caller's own
    /// struct or a FHIR model crate's type).
    ///
    /// # Errors
    /// As [`send`](Self::send), and [`Error::Decode`] when the response is not a `T`.
    pub async fn send_as<T: DeserializeOwned>(self) -> Result<T, Error> {
        from_value(self.send().await?, "operation result")
    }
}

impl<'a> IntoFuture for OperationRequest<'a> {
    type Output = Result<Value, Error>;
    type IntoFuture = BoxFuture<'a, Value>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Decodes a JSON value as `T`, naming what it was when it is not one.
pub(crate) fn from_value<T: DeserializeOwned>(
    value: Value,
    what: &'static str,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::decode(what, &path, e.into_inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client() -> Client {
        // Port 1: nothing listens, so a request that were sent would fail with a transport error,
        // not with the invalid-input errors asserted here.
        Client::builder("http://127.0.0.1:1/fhir")
            .build()
            .expect("valid")
    }

    #[tokio::test]
    async fn invalid_writes_fail_before_sending() {
        let c = client();
        let patient = json!({"resourceType": "Patient", "id": "a"});
        let cases = [
            c.create("Patient", &json!({"resourceType": "Observation"})),
            c.update("Patient", "b", &patient),
            c.patch("Patient", "a", &json!({"op": "add"})),
            c.delete("Patient", "a/b"),
            c.delete_conditional("Patient", &SearchParams::new()),
        ];
        for (i, request) in cases.into_iter().enumerate() {
            let err = request.prefer(Return::Minimal).send().await.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "case {i}: {err}");
        }
        // `.await` goes through the same checks as `.send()`.
        let err = c.delete("Patient", "").await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }

    #[tokio::test]
    async fn operation_scope_misuse_is_an_error_not_a_different_request() {
        let c = client();
        let err = c
            .operation(Scope::System, "meta")
            .instance("1")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidInput {
                    what: "operation scope",
                    ..
                }
            ),
            "{err}"
        );
        let err = c
            .operation(Scope::Type("Patient"), "match")
            .parameters(&json!({"resourceType": "Patient"}))
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }

    #[test]
    fn typed_values_decode_or_name_the_path() {
        #[derive(serde::Deserialize)]
        struct Patient {
            #[serde(rename = "birthDate")]
            birth_date: String,
        }
        let ok: Patient =
            from_value(json!({"birthDate": "1970-01-01"}), "resource").expect("decodes");
        assert_eq!(ok.birth_date, "1970-01-01");
        let err = from_value::<Patient>(json!({"birthDate": 7}), "resource")
            .err()
            .expect("wrong type");
        assert!(err.to_string().contains("birthDate"), "{err}");
    }
}
