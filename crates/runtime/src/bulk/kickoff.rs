//! Building and sending the kick-off request; the job it starts.

use std::path::Path;

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use super::dir::JobDir;
use super::download::{DownloadOptions, DownloadSummary};
use super::error::BulkError;
use super::observer::Progress;
use crate::client::{Req, FHIR_JSON};
use crate::{Client, Error};

/// Which data an export covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "level", content = "group", rename_all = "snake_case")]
pub enum Level {
    /// Everything the client may see: `[base]/$export`.
    System,
    /// Every patient's compartment: `[base]/Patient/$export`.
    Patient,
    /// The members of one group: `[base]/Group/[id]/$export`.
    Group(String),
}

impl Level {
    /// The path below the FHIR base, for messages (`Group/f1/$export`).
    pub fn path(&self) -> String {
        match self {
            Level::System => "$export".to_owned(),
            Level::Patient => "Patient/$export".to_owned(),
            Level::Group(id) => format!("Group/{id}/$export"),
        }
    }
}

/// The kick-off parameters of the Bulk Data IG. Empty lists and `None` are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExportParams {
    /// `_outputFormat` (the server's default, `application/fhir+ndjson`, when `None`).
    pub output_format: Option<String>,
    /// `_since`: only resources changed after this FHIR instant.
    pub since: Option<String>,
    /// `_until`: only resources changed before this FHIR instant.
    pub until: Option<String>,
    /// `_type`: only these resource types.
    pub types: Vec<String>,
    /// `_elements`: only these elements (`Patient.name`, `id`).
    pub elements: Vec<String>,
    /// `_typeFilter`: FHIR search queries (`Observation?category=laboratory`), one per entry.
    pub type_filters: Vec<String>,
    /// `includeAssociatedData` codes (`LatestProvenanceResources`, ...).
    pub include_associated_data: Vec<String>,
    /// `patient`: only these patients (`Patient/123` or `123`); sent by `POST` only.
    pub patients: Vec<String>,
    /// `organizeOutputBy`: a resource type to group output by (Bulk Data IG v2.0+ servers).
    pub organize_output_by: Option<String>,
    /// Send a `POST` with a `Parameters` resource even without `patient`.
    pub post: bool,
}

/// An export to kick off; nothing is sent until [`kick_off`](Self::kick_off) or
/// [`run`](Self::run). Values are checked when sending, before anything goes out.
#[derive(Debug, Clone)]
#[must_use = "an export does nothing until `.kick_off()` or `.run()`"]
pub struct ExportRequest {
    client: Client,
    level: Level,
    params: ExportParams,
}

impl Client {
    /// A Bulk Data export at `level` (see the [`bulk`](crate::bulk) module).
    pub fn bulk_export(&self, level: Level) -> ExportRequest {
        ExportRequest {
            client: self.clone(),
            level,
            params: ExportParams::default(),
        }
    }
}

impl ExportRequest {
    /// Replaces all parameters at once (a saved job's, for instance).
    pub fn params(mut self, params: ExportParams) -> Self {
        self.params = params;
        self
    }

    /// `_type`: only these resource types.
    pub fn types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.params.types.extend(types.into_iter().map(Into::into));
        self
    }

    /// `_since`: only resources changed after this FHIR instant (`2026-01-01T00:00:00Z`).
    pub fn since(mut self, instant: impl Into<String>) -> Self {
        self.params.since = Some(instant.into());
        self
    }

    /// `_until`: only resources changed before this FHIR instant.
    pub fn until(mut self, instant: impl Into<String>) -> Self {
        self.params.until = Some(instant.into());
        self
    }

    /// `_elements`: only these elements.
    pub fn elements<I, S>(mut self, elements: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.params
            .elements
            .extend(elements.into_iter().map(Into::into));
        self
    }

    /// `_typeFilter`: a FHIR search query such as `Observation?category=laboratory`.
    pub fn type_filter(mut self, query: impl Into<String>) -> Self {
        self.params.type_filters.push(query.into());
        self
    }

    /// `_outputFormat` (`application/fhir+ndjson` is the only format this module downloads).
    pub fn output_format(mut self, format: impl Into<String>) -> Self {
        self.params.output_format = Some(format.into());
        self
    }

    /// `includeAssociatedData`: a code such as `LatestProvenanceResources`.
    pub fn include_associated_data(mut self, code: impl Into<String>) -> Self {
        self.params.include_associated_data.push(code.into());
        self
    }

    /// `patient`: only this patient (`Patient/123` or `123`); the kick-off becomes a `POST`.
    pub fn patient(mut self, reference: impl Into<String>) -> Self {
        self.params.patients.push(reference.into());
        self
    }

    /// `organizeOutputBy`: group the output by this resource type.
    pub fn organize_output_by(mut self, resource_type: impl Into<String>) -> Self {
        self.params.organize_output_by = Some(resource_type.into());
        self
    }

    /// Kick off with `POST` and a `Parameters` resource (the default is `GET`, unless a
    /// `patient` is given).
    pub fn post(mut self) -> Self {
        self.params.post = true;
        self
    }

    /// The level.
    pub fn level(&self) -> &Level {
        &self.level
    }

    /// The parameters so far.
    pub fn export_params(&self) -> &ExportParams {
        &self.params
    }

    /// Sends the kick-off request and returns the job it started.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a bad group id, type, instant or patient (nothing sent);
    /// [`Error::Bulk`] with [`BulkError::NotAsync`] when the server does not answer
    /// `202 Accepted` with a status URL; the server's `OperationOutcome`, transport and auth
    /// errors as for any request.
    pub async fn kick_off(&self) -> Result<ExportJob, Error> {
        let req = self.request()?;
        let resp = self.client.execute(req).await?;
        if resp.status != StatusCode::ACCEPTED {
            return Err(BulkError::NotAsync {
                status: resp.status.as_u16(),
                reason: "the kick-off was not answered 202 Accepted".into(),
            }
            .into());
        }
        let location = resp.header(header::CONTENT_LOCATION).ok_or_else(|| {
            Error::from(BulkError::NotAsync {
                status: 202,
                reason: "the 202 Accepted has no Content-Location status URL".into(),
            })
        })?;
        let status_url = self
            .client
            .inner
            .base
            .join(&location)
            .map_err(|e| Error::from(BulkError::Manifest(format!("status URL: {e}"))))?;
        ExportJob::new(self.client.clone(), status_url)
    }

    /// Kicks off, waits for the job, downloads every file into `dir` and sends the final
    /// `DELETE`, resuming whatever `dir` already holds from an earlier run of the same export.
    /// On an error after the kick-off the job is cancelled on the server and `dir` is left
    /// resumable.
    ///
    /// # Errors
    /// As [`kick_off`](Self::kick_off), [`ExportJob::wait`] and [`download`](super::download).
    pub async fn run(
        self,
        dir: impl AsRef<Path>,
        options: &DownloadOptions,
        progress: &dyn Progress,
    ) -> Result<DownloadSummary, Error> {
        let dir = JobDir::open_or_create(dir.as_ref(), &self.level, &self.params)?;
        dir.run(&self.client, options, progress).await
    }

    /// The kick-off request, values checked.
    fn request(&self) -> Result<Req, Error> {
        let p = &self.params;
        if let Some(since) = &p.since {
            check_instant("_since", since)?;
        }
        if let Some(until) = &p.until {
            check_instant("_until", until)?;
        }
        for t in p.types.iter().chain(&p.organize_output_by) {
            crate::interactions::check_type(t)?;
        }
        let mut url = match &self.level {
            Level::System => self.client.url(&["$export"])?,
            Level::Patient => self.client.url(&["Patient", "$export"])?,
            Level::Group(id) => {
                crate::id::check("group id", id)?;
                self.client.url(&["Group", id, "$export"])?
            }
        };
        let patients: Vec<String> = p
            .patients
            .iter()
            .map(|r| patient_reference(r))
            .collect::<Result<_, _>>()?;
        if !patients.is_empty() && self.level == Level::System {
            return Err(Error::invalid(
                "export parameter",
                "`patient` applies to Patient and Group exports, not a system export",
            ));
        }
        let mut req = if p.post || !patients.is_empty() {
            let body = self.parameters(&patients);
            Req::new(Method::POST, url).json_body(&body, FHIR_JSON)?
        } else {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in self.query_pairs() {
                    query.append_pair(name, &value);
                }
            }
            if url.query() == Some("") {
                url.set_query(None);
            }
            Req::new(Method::GET, url)
        };
        req.headers
            .insert("prefer", HeaderValue::from_static("respond-async"));
        req.headers
            .insert(header::ACCEPT, HeaderValue::from_static(FHIR_JSON));
        Ok(req)
    }

    /// The parameters as `(name, value)` pairs for a `GET` kick-off.
    fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let p = &self.params;
        let mut pairs = Vec::new();
        if let Some(f) = &p.output_format {
            pairs.push(("_outputFormat", f.clone()));
        }
        if let Some(s) = &p.since {
            pairs.push(("_since", s.clone()));
        }
        if let Some(u) = &p.until {
            pairs.push(("_until", u.clone()));
        }
        if !p.types.is_empty() {
            pairs.push(("_type", p.types.join(",")));
        }
        if !p.elements.is_empty() {
            pairs.push(("_elements", p.elements.join(",")));
        }
        for filter in &p.type_filters {
            pairs.push(("_typeFilter", filter.clone()));
        }
        if !p.include_associated_data.is_empty() {
            pairs.push(("includeAssociatedData", p.include_associated_data.join(",")));
        }
        if let Some(by) = &p.organize_output_by {
            pairs.push(("organizeOutputBy", by.clone()));
        }
        pairs
    }

    /// The parameters as a `Parameters` resource for a `POST` kick-off.
    fn parameters(&self, patients: &[String]) -> Value {
        let p = &self.params;
        let mut list = Vec::new();
        let string = |name: &str, value: &str| json!({"name": name, "valueString": value});
        if let Some(f) = &p.output_format {
            list.push(string("_outputFormat", f));
        }
        if let Some(s) = &p.since {
            list.push(json!({"name": "_since", "valueInstant": s}));
        }
        if let Some(u) = &p.until {
            list.push(json!({"name": "_until", "valueInstant": u}));
        }
        for t in &p.types {
            list.push(string("_type", t));
        }
        for e in &p.elements {
            list.push(string("_elements", e));
        }
        for f in &p.type_filters {
            list.push(string("_typeFilter", f));
        }
        for code in &p.include_associated_data {
            list.push(json!({"name": "includeAssociatedData", "valueCode": code}));
        }
        for reference in patients {
            list.push(json!({"name": "patient", "valueReference": {"reference": reference}}));
        }
        if let Some(by) = &p.organize_output_by {
            list.push(string("organizeOutputBy", by));
        }
        json!({"resourceType": "Parameters", "parameter": list})
    }
}

/// `123` or `Patient/123` as `Patient/123`, the id checked.
fn patient_reference(reference: &str) -> Result<String, Error> {
    let id = reference.strip_prefix("Patient/").unwrap_or(reference);
    crate::id::check("patient id", id)?;
    Ok(format!("Patient/{id}"))
}

/// A FHIR `instant`: `YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)`.
fn check_instant(name: &'static str, value: &str) -> Result<(), Error> {
    let b = value.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let mut ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if ok {
        let mut rest = &b[19..];
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            ok &= n > 0;
            rest = &frac[n..];
        }
        ok &= rest == b"Z"
            || (rest.len() == 6
                && matches!(rest[0], b'+' | b'-')
                && rest[1..3].iter().all(u8::is_ascii_digit)
                && rest[3] == b':'
                && rest[4..6].iter().all(u8::is_ascii_digit));
    }
    if ok {
        Ok(())
    } else {
        let shown: String = value.chars().take(40).collect();
        Err(Error::invalid(
            name,
            format!("{shown:?} is not a FHIR instant (2026-01-01T00:00:00Z)"),
        ))
    }
}

/// A started export: its status URL is all that is needed to poll, cancel or find it again.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub(super) client: Client,
    status_url: Url,
}

impl ExportJob {
    /// The job behind `status_url` (from an earlier kick-off). The URL must be on the client's
    /// origin, since polling sends the credentials.
    ///
    /// # Errors
    /// [`Error::CrossOrigin`] for a status URL on another origin (unless the client allows
    /// cross-origin links).
    pub fn new(client: Client, status_url: Url) -> Result<Self, Error> {
        let inner = &client.inner;
        if status_url.origin() != inner.base.origin() && !inner.allow_cross_origin {
            return Err(Error::CrossOrigin {
                origin: status_url.origin().ascii_serialization(),
            });
        }
        Ok(Self { client, status_url })
    }

    /// The status URL (`Content-Location` of the kick-off).
    pub fn status_url(&self) -> &Url {
        &self.status_url
    }

    /// Cancels the job, or tells the server its files may be deleted (`DELETE` on the status
    /// URL). A `404` or `410` counts as done: the job is already gone.
    ///
    /// # Errors
    /// Transport, auth and server errors.
    pub async fn cancel(&self) -> Result<(), Error> {
        let req = Req::new(Method::DELETE, self.status_url.clone());
        match self.client.execute(req).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.status(), Some(StatusCode::NOT_FOUND | StatusCode::GONE)) => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_checked() {
        for ok in [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.123Z",
            "2026-01-01T00:00:00+01:00",
            "2026-01-01T00:00:00.5-05:30",
        ] {
            assert!(check_instant("_since", ok).is_ok(), "{ok}");
        }
        for bad in [
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00+0100",
            "2026-01-01T00:00:00Z&_type=x",
            "",
        ] {
            assert!(check_instant("_since", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn patients_become_checked_references() {
        assert_eq!(patient_reference("123").ok(), Some("Patient/123".into()));
        assert_eq!(
            patient_reference("Patient/a-1").ok(),
            Some("Patient/a-1".into())
        );
        assert!(patient_reference("Group/1").is_err());
        assert!(patient_reference("Patient/..").is_err());
    }

    fn client() -> Client {
        Client::builder("https://ehr.example/fhir")
            .build()
            .expect("client")
    }

    #[test]
    fn get_kick_off_carries_the_parameters_in_the_query() {
        let req = client()
            .bulk_export(Level::Group("g-1".into()))
            .types(["Patient", "Observation"])
            .since("2026-01-01T00:00:00Z")
            .type_filter("Observation?category=laboratory")
            .request()
            .expect("request");
        assert_eq!(req.method, Method::GET);
        assert_eq!(
            req.url.as_str(),
            "https://ehr.example/fhir/Group/g-1/$export?_since=2026-01-01T00%3A00%3A00Z\
             &_type=Patient%2CObservation&_typeFilter=Observation%3Fcategory%3Dlaboratory"
        );
        assert_eq!(req.headers["prefer"], "respond-async");
        assert_eq!(req.headers[header::ACCEPT], FHIR_JSON);
    }

    #[test]
    fn a_patient_makes_it_a_post_of_parameters() {
        let req = client()
            .bulk_export(Level::Patient)
            .patient("123")
            .types(["Observation"])
            .request()
            .expect("request");
        assert_eq!(req.method, Method::POST);
        assert_eq!(req.url.as_str(), "https://ehr.example/fhir/Patient/$export");
        let (body, _) = req.body.expect("body");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            body["parameter"],
            json!([
                {"name": "_type", "valueString": "Observation"},
                {"name": "patient", "valueReference": {"reference": "Patient/123"}}
            ])
        );
        assert!(client()
            .bulk_export(Level::System)
            .patient("1")
            .request()
            .is_err());
    }

    #[test]
    fn bad_values_are_refused_before_sending() {
        let c = client();
        assert!(c.bulk_export(Level::Group("..".into())).request().is_err());
        assert!(c
            .bulk_export(Level::System)
            .types(["patient"])
            .request()
            .is_err());
        assert!(c
            .bulk_export(Level::System)
            .since("yesterday")
            .request()
            .is_err());
    }

    #[test]
    fn a_status_url_on_another_origin_is_refused() {
        let url = Url::parse("https://evil.example/status/1").expect("url");
        assert!(matches!(
            ExportJob::new(client(), url),
            Err(Error::CrossOrigin { .. })
        ));
    }
}
