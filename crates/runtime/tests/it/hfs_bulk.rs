//! Bulk Data export (`$export`) end to end against a real FHIR server: one fresh hfs seeded
//! with a few thousand resources, exported at system, Patient and Group level with the
//! parameters hfs 0.2.7 supports. Every expected set below follows from the Bulk Data IG,
//! the R4 Patient compartment and the seed, never from the server's output; every
//! export is compared by resource id, per type, in both directions (nothing missing, nothing
//! extra, nothing twice).
//!
//! Seed (`i`, `j`, `k`, `m` are the seed indices; every subject is a `Patient` reference):
//!
//! | type        | count | seed                                                                  |
//! |-------------|-------|-----------------------------------------------------------------------|
//! | Patient     | 1,000 | `p{i}`: identifier `urn:fhirforge:bulk\|p{i}`, gender, birthDate      |
//! | Observation | 2,000 | `o{j}`: subject `p{j % 1000}`; `laboratory` (even `j`), `vital-signs` |
//! | Encounter   |   500 | `e{k}`: subject `p{2k}` (even patients only)                          |
//! | Condition   |   200 | `c{m}`: subject `p{5m}`                                               |
//! | Group       |     2 | `g1`: members `p0..=p49`; `g2`: `p40..=p59` and `p990..=p999`         |
//!
//! Then, after the first export (its `transactionTime` is `t0`), a second batch: 100 Patients
//! `p1000..=p1099`, 200 Observations `o2000..=o2199` (subjects `p1000..=p1099`, then
//! `p0..=p99`), and updates of `p0..=p9`.
//!
//! A patient's compartment (R4 CompartmentDefinition `patient`) holds the Patient, the
//! Observations, Encounters and Conditions whose `subject` is the patient, and every Group
//! with the patient as a `member`, so `g1` and `g2` appear in each other's exports (they
//! share `p40..=p49`). A system export also returns the server's own SearchParameter
//! resources (hfs loads 1,372); they are not ours and are left out of the comparisons.
//!
//! hfs answers every in-progress poll with `Retry-After: 120` while these jobs finish in about
//! a second, so the poll policy here keeps between 100 and 250 ms between polls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fhirforge_runtime::bulk::{
    self, BulkError, DownloadOptions, DownloadSummary, ExportJob, ExportRequest, FileKind,
    FileReport, JobDir, JobState, JobStatus, Level, Manifest, NoProgress, PollPolicy, Progress,
    JOB_FILE, MANIFEST_FILE,
};
use fhirforge_runtime::{Bundle, Client, Error};
use serde_json::{json, Value};

use crate::common::hfs_client;

/// Resource ids per resource type.
type Ids = BTreeMap<String, BTreeSet<String>>;

/// Entries per seeding transaction.
const CHUNK: usize = 500;
const PATIENTS: usize = 1_000;
const OBSERVATIONS: usize = 2_000;
const ENCOUNTERS: usize = 500;
const CONDITIONS: usize = 200;
/// Types the seed writes (a system export adds hfs's SearchParameters).
const SEEDED_TYPES: [&str; 5] = ["Condition", "Encounter", "Group", "Observation", "Patient"];
const SUBSETTED: &str = "SUBSETTED";

/// The seed: server ids by seed index, and who each resource is about.
#[derive(Debug, Default)]
struct Seed {
    /// `p{i}` is `patients[i]`.
    patients: Vec<String>,
    /// `(id, subject patient index)`, `o{j}` at `j`.
    observations: Vec<(String, usize)>,
    encounters: Vec<(String, usize)>,
    conditions: Vec<(String, usize)>,
    /// `(id, member patient indices)`: `g1`, `g2`.
    groups: Vec<(String, BTreeSet<usize>)>,
}

impl Seed {
    /// Every seeded resource (system export, `_type` omitted).
    fn all(&self) -> Ids {
        let mut ids = Ids::new();
        ids.insert("Patient".into(), self.patients.iter().cloned().collect());
        for (ty, list) in self.subject_lists() {
            ids.insert(ty.into(), list.iter().map(|(id, _)| id.clone()).collect());
        }
        ids.insert(
            "Group".into(),
            self.groups.iter().map(|(id, _)| id.clone()).collect(),
        );
        ids
    }

    /// The Patient compartments of `members`: what a Group export of exactly these members,
    /// or a Patient export with these `patient`s, returns.
    fn compartment(&self, members: &BTreeSet<usize>) -> Ids {
        let mut ids = Ids::new();
        ids.insert(
            "Patient".into(),
            members.iter().map(|&i| self.patients[i].clone()).collect(),
        );
        for (ty, list) in self.subject_lists() {
            let about: BTreeSet<String> = list
                .iter()
                .filter(|(_, subject)| members.contains(subject))
                .map(|(id, _)| id.clone())
                .collect();
            ids.insert(ty.into(), about);
        }
        let groups = self
            .groups
            .iter()
            .filter(|(_, m)| !m.is_disjoint(members))
            .map(|(id, _)| id.clone())
            .collect();
        ids.insert("Group".into(), groups);
        ids
    }

    fn subject_lists(&self) -> [(&'static str, &Vec<(String, usize)>); 3] {
        [
            ("Observation", &self.observations),
            ("Encounter", &self.encounters),
            ("Condition", &self.conditions),
        ]
    }

    fn group(&self, n: usize) -> (&str, &BTreeSet<usize>) {
        let (id, members) = &self.groups[n];
        (id, members)
    }
}

/// `ids` restricted to `types`.
fn only(ids: &Ids, types: &[&str]) -> Ids {
    ids.iter()
        .filter(|(ty, _)| types.contains(&ty.as_str()))
        .map(|(ty, set)| (ty.clone(), set.clone()))
        .collect()
}

/// The resources in both.
fn both(a: &Ids, b: &Ids) -> Ids {
    a.iter()
        .map(|(ty, set)| {
            let other = b.get(ty).cloned().unwrap_or_default();
            (ty.clone(), set.intersection(&other).cloned().collect())
        })
        .collect()
}

/// The resources of `a` that are not in `b`.
fn without(a: &Ids, b: &Ids) -> Ids {
    a.iter()
        .map(|(ty, set)| {
            let other = b.get(ty).cloned().unwrap_or_default();
            (ty.clone(), set.difference(&other).cloned().collect())
        })
        .collect()
}

fn set_of<I: IntoIterator<Item = usize>>(indices: I) -> BTreeSet<usize> {
    indices.into_iter().collect()
}

/// Compares per type, empty types ignored; the message names what is missing or extra.
#[track_caller]
fn assert_ids(what: &str, got: &Ids, want: &Ids) {
    let types: BTreeSet<&String> = got
        .iter()
        .chain(want)
        .filter(|(_, s)| !s.is_empty())
        .map(|(t, _)| t)
        .collect();
    let mut problems = Vec::new();
    for ty in types {
        let empty = BTreeSet::new();
        let g = got.get(ty).unwrap_or(&empty);
        let w = want.get(ty).unwrap_or(&empty);
        let missing: Vec<&String> = w.difference(g).collect();
        let extra: Vec<&String> = g.difference(w).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{ty}: expected {}, exported {}; {} missing (e.g. {:?}), {} unexpected (e.g. {:?})",
                w.len(),
                g.len(),
                missing.len(),
                missing.iter().take(3).collect::<Vec<_>>(),
                extra.len(),
                extra.iter().take(3).collect::<Vec<_>>(),
            ));
        }
    }
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Seeding

fn patient(i: usize) -> Value {
    json!({
        "resourceType": "Patient",
        "identifier": [{"system": "urn:fhirforge:bulk", "value": format!("p{i}")}],
        "gender": if i.is_multiple_of(2) { "female" } else { "male" },
        "birthDate": format!("{}-01-01", 1940 + i % 60),
    })
}

fn observation(j: usize, subject: &str) -> Value {
    let (category, code) = if j.is_multiple_of(2) {
        ("laboratory", "2345-7")
    } else {
        ("vital-signs", "8867-4")
    };
    json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": category
        }]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": format!("Patient/{subject}")},
        "valueQuantity": {
            "value": j % 150, "unit": "1", "system": "http://unitsofmeasure.org", "code": "1"
        }
    })
}

fn encounter(subject: &str) -> Value {
    json!({
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": format!("Patient/{subject}")}
    })
}

fn condition(m: usize, subject: &str) -> Value {
    json!({
        "resourceType": "Condition",
        "code": {"text": format!("c{m}")},
        "subject": {"reference": format!("Patient/{subject}")}
    })
}

fn group(members: impl IntoIterator<Item = String>) -> Value {
    let member: Vec<Value> = members
        .into_iter()
        .map(|id| json!({"entity": {"reference": format!("Patient/{id}")}}))
        .collect();
    json!({"resourceType": "Group", "type": "person", "actual": true, "member": member})
}

/// `(type, id)` from a transaction response's `Patient/<id>/_history/1` (relative or absolute).
fn type_and_id(location: &str) -> (String, String) {
    let parts: Vec<&str> = location.trim_end_matches('/').split('/').collect();
    let end = parts
        .iter()
        .rposition(|p| *p == "_history")
        .unwrap_or(parts.len());
    assert!(end >= 2, "unusable location {location:?}");
    (parts[end - 2].to_owned(), parts[end - 1].to_owned())
}

/// Sends `entries` as transactions of [`CHUNK`] entries; returns each entry's `(type, id)` in
/// order (a transaction response keeps the request's order) and checks its status
/// (`201` for a create, `200` for an update).
async fn transact(client: &Client, entries: Vec<Value>, status: &str) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(entries.len());
    for chunk in entries.chunks(CHUNK) {
        let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": chunk});
        let response: Bundle = client
            .transaction(&bundle)
            .await
            .unwrap_or_else(|e| panic!("seeding transaction: {e}"));
        assert_eq!(
            response.entries().len(),
            chunk.len(),
            "transaction response"
        );
        for (got, sent) in response.entries().iter().zip(chunk) {
            let answer = got["response"]["status"].as_str().unwrap_or_default();
            assert!(answer.starts_with(status), "entry answered {answer:?}");
            // A create answers with `location`; an update may not (its URL names it).
            let location = got["response"]["location"]
                .as_str()
                .or_else(|| sent["request"]["url"].as_str())
                .expect("response.location");
            let (ty, id) = type_and_id(location);
            assert_eq!(
                ty,
                sent["resource"]["resourceType"]
                    .as_str()
                    .unwrap_or_default()
            );
            out.push((ty, id));
        }
    }
    out
}

fn post(resource: Value) -> Value {
    let ty = resource["resourceType"].clone();
    json!({"resource": resource, "request": {"method": "POST", "url": ty}})
}

async fn create_all(client: &Client, resources: Vec<Value>) -> Vec<String> {
    let entries = resources.into_iter().map(post).collect();
    transact(client, entries, "201")
        .await
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

async fn seed(client: &Client) -> Seed {
    let mut seed = Seed {
        patients: create_all(client, (0..PATIENTS).map(patient).collect()).await,
        ..Seed::default()
    };
    let subjects: Vec<usize> = (0..OBSERVATIONS).map(|j| j % PATIENTS).collect();
    let resources = subjects
        .iter()
        .enumerate()
        .map(|(j, &s)| observation(j, &seed.patients[s]))
        .collect();
    let ids = create_all(client, resources).await;
    seed.observations = ids.into_iter().zip(subjects).collect();

    let subjects: Vec<usize> = (0..ENCOUNTERS).map(|k| 2 * k).collect();
    let resources = subjects
        .iter()
        .map(|&s| encounter(&seed.patients[s]))
        .collect();
    let ids = create_all(client, resources).await;
    seed.encounters = ids.into_iter().zip(subjects).collect();

    let subjects: Vec<usize> = (0..CONDITIONS).map(|m| 5 * m).collect();
    let resources = subjects
        .iter()
        .enumerate()
        .map(|(m, &s)| condition(m, &seed.patients[s]))
        .collect();
    let ids = create_all(client, resources).await;
    seed.conditions = ids.into_iter().zip(subjects).collect();

    let g1 = set_of(0..50);
    let g2 = set_of((40..60).chain(990..1000));
    let resources = [&g1, &g2]
        .iter()
        .map(|members| group(members.iter().map(|&i| seed.patients[i].clone())))
        .collect();
    let ids = create_all(client, resources).await;
    seed.groups = ids.into_iter().zip([g1, g2]).collect();
    seed
}

/// The second batch (after `t0`): new Patients and Observations, updated Patients. Returns
/// what changed after `t0`.
async fn seed_after_t0(client: &Client, seed: &mut Seed) -> Ids {
    let new_patients = create_all(client, (1000..1100).map(patient).collect()).await;
    seed.patients.extend(new_patients.iter().cloned());
    let subjects: Vec<usize> = (1000..1100).chain(0..100).collect();
    let resources = subjects
        .iter()
        .enumerate()
        .map(|(n, &s)| observation(2000 + n, &seed.patients[s]))
        .collect();
    let new_observations = create_all(client, resources).await;
    seed.observations.extend(
        new_observations
            .iter()
            .cloned()
            .zip(subjects.iter().copied()),
    );
    let updates = (0..10)
        .map(|i| {
            let id = &seed.patients[i];
            let mut body = patient(i);
            body["id"] = json!(id);
            body["gender"] = json!("other");
            json!({"resource": body, "request": {"method": "PUT", "url": format!("Patient/{id}")}})
        })
        .collect();
    let updated = transact(client, updates, "200").await;

    let mut changed = Ids::new();
    let patients = changed.entry("Patient".into()).or_default();
    patients.extend(new_patients);
    patients.extend(updated.into_iter().map(|(_, id)| id));
    changed.insert("Observation".into(), new_observations.into_iter().collect());
    changed
}

// ---------------------------------------------------------------------------------------------
// Running an export and reading what it wrote

/// Polls every 100–250 ms (hfs asks for 120 s), for at most a minute.
fn poll_policy() -> PollPolicy {
    PollPolicy::default()
        .min_interval(Duration::from_millis(100))
        .max_interval(Duration::from_millis(250))
        .max_wait(Duration::from_secs(60))
}

fn options() -> DownloadOptions {
    DownloadOptions::default().poll(poll_policy())
}

/// The resources of the `output` files, per type, as parsed from the files, with the
/// file-level bookkeeping checked: every line is a resource of its file's declared type, each
/// report counts its file's lines, the per-type counts add up, no line was invalid, no count
/// differs from the manifest's, no resource appears twice (within or across files), and the
/// directory holds no file the summary does not name.
fn read_files(what: &str, dir: &Path, summary: &DownloadSummary) -> BTreeMap<String, Vec<Value>> {
    assert_eq!(summary.invalid_lines(), 0, "{what}: invalid lines");
    let mismatched: Vec<&FileReport> = summary.count_mismatches().collect();
    assert!(
        mismatched.is_empty(),
        "{what}: counts differ from the manifest's: {mismatched:?}"
    );
    let mut resources: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut twice = Vec::new();
    let mut named = BTreeSet::new();
    for report in &summary.files {
        named.insert(report.file.clone());
        if report.kind != FileKind::Output {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(&report.file))
            .unwrap_or_else(|e| panic!("{what}: {}: {e}", report.file));
        let mut lines = 0u64;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            lines += 1;
            let resource: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}: {} line {}: {e}", report.file, n + 1));
            assert_eq!(
                resource["resourceType"],
                report.resource_type,
                "{what}: {} line {}",
                report.file,
                n + 1
            );
            let id = resource["id"].as_str().unwrap_or_default().to_owned();
            assert!(
                !id.is_empty(),
                "{what}: {} line {}: no id",
                report.file,
                n + 1
            );
            if !seen.insert((report.resource_type.clone(), id.clone())) {
                twice.push(format!("{}/{id}", report.resource_type));
            }
            resources
                .entry(report.resource_type.clone())
                .or_default()
                .push(resource);
        }
        assert_eq!(report.resources, lines, "{what}: {} lines", report.file);
        assert_eq!(
            report.bytes,
            text.len() as u64,
            "{what}: {} bytes",
            report.file
        );
    }
    assert!(
        twice.is_empty(),
        "{what}: exported more than once: {twice:?}"
    );
    let counted: BTreeMap<&str, u64> = resources
        .iter()
        .map(|(ty, list)| (ty.as_str(), list.len() as u64))
        .collect();
    let reported: BTreeMap<&str, u64> = summary
        .per_type()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(reported, counted, "{what}: DownloadSummary::per_type");
    assert_eq!(
        summary.resources(),
        counted.values().sum::<u64>(),
        "{what}: resources()"
    );
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("read the export directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".ndjson"))
        .collect();
    let top_level: BTreeSet<String> = named.into_iter().filter(|f| !f.contains('/')).collect();
    assert_eq!(on_disk, top_level, "{what}: files in the directory");
    resources
}

fn ids_of(resources: &BTreeMap<String, Vec<Value>>) -> Ids {
    resources
        .iter()
        .map(|(ty, list)| {
            let ids = list
                .iter()
                .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            (ty.clone(), ids)
        })
        .collect()
}

/// `job.json` and `manifest.json` are there, the manifest on disk is the summary's, and the
/// job is recorded as done.
fn check_job_dir(what: &str, dir: &Path, summary: &DownloadSummary) {
    assert!(dir.join(JOB_FILE).is_file(), "{what}: no {JOB_FILE}");
    let raw = std::fs::read(dir.join(MANIFEST_FILE))
        .unwrap_or_else(|e| panic!("{what}: {MANIFEST_FILE}: {e}"));
    let saved: Manifest = serde_json::from_slice(&raw).expect("manifest.json parses");
    assert_eq!(saved, summary.manifest, "{what}: manifest.json");
    let job = JobDir::open(dir).unwrap_or_else(|e| panic!("{what}: JobDir::open: {e}"));
    assert_eq!(job.state(), Some(JobState::Done), "{what}: job state");
}

/// Runs `request` into `root/name` and returns what the files hold (everything checked as in
/// [`read_files`] and [`check_job_dir`]) with the summary.
async fn export(
    root: &Path,
    name: &str,
    request: ExportRequest,
) -> (BTreeMap<String, Vec<Value>>, DownloadSummary) {
    let dir = root.join(name);
    let started = Instant::now();
    let summary = request
        .run(&dir, &options(), &NoProgress)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    eprintln!(
        "{name}: {} resources in {} files, {:?}",
        summary.resources(),
        summary.files.len(),
        started.elapsed()
    );
    let resources = read_files(name, &dir, &summary);
    check_job_dir(name, &dir, &summary);
    (resources, summary)
}

/// `export` returning the ids only.
async fn export_ids(root: &Path, name: &str, request: ExportRequest) -> Ids {
    ids_of(&export(root, name, request).await.0)
}

fn is_gone(result: &Result<JobStatus, Error>) -> bool {
    let Err(Error::Bulk(e)) = result else {
        return false;
    };
    matches!(
        **e,
        BulkError::Gone {
            status: 404 | 410,
            ..
        }
    )
}

/// Counts what the runtime reported while exporting.
#[derive(Debug, Default)]
struct Recorder {
    kicked_off: AtomicU64,
    manifests: AtomicU64,
    bytes: AtomicU64,
    resources: AtomicU64,
    files_done: AtomicU64,
}

impl Progress for Recorder {
    fn kicked_off(&self, _: &str) {
        self.kicked_off.fetch_add(1, Ordering::Relaxed);
    }
    fn manifest(&self, _: &Manifest) {
        self.manifests.fetch_add(1, Ordering::Relaxed);
    }
    fn downloaded(&self, bytes: u64, resources: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.resources.fetch_add(resources, Ordering::Relaxed);
    }
    fn file_done(&self, _: &FileReport) {
        self.files_done.fetch_add(1, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// The test: one server, one seed, one phase per helper (the `_since` phase last, as it writes).

#[tokio::test]
async fn hfs_bulk_export_end_to_end() {
    let started = Instant::now();
    let (_hfs, client) = hfs_client().await;
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path();
    let seeding = Instant::now();
    let mut seed = seed(&client).await;
    eprintln!(
        "hfs started in {:?}; seeded {} resources in {:?}",
        seeding - started,
        PATIENTS + OBSERVATIONS + ENCOUNTERS + CONDITIONS + 2,
        seeding.elapsed()
    );

    let t0 = system_export_has_every_resource_once(&client, root, &seed).await;
    a_finished_directory_is_not_downloaded_again(&client, root).await;
    type_narrows_the_output(&client, root, &seed).await;
    type_filter_narrows_one_type(&client, root, &seed).await;
    elements_subset_the_resources(&client, root, &seed).await;
    group_exports_hold_only_their_members(&client, root, &seed).await;
    patient_export_holds_the_patient_compartments(&client, root, &seed).await;
    patient_parameter_narrows_to_those_patients(&client, root, &seed).await;
    step_by_step_with_an_ignored_range(&client, root, &seed).await;
    cancel_removes_a_running_job(&client).await;
    since_and_until_select_by_last_update(&client, root, &mut seed, &t0).await;
    eprintln!("hfs_bulk: {:?} in all", started.elapsed());
}

/// System level without `_type`: every seeded resource exactly once, plus hfs's
/// SearchParameters and nothing else; the progress callbacks add up; after the run the job is
/// gone from the server (the runtime's final `DELETE`). Returns the manifest's
/// `transactionTime`, the `_since` of the last phase.
async fn system_export_has_every_resource_once(
    client: &Client,
    root: &Path,
    seed: &Seed,
) -> String {
    let dir = root.join("system");
    let recorder = Recorder::default();
    let started = Instant::now();
    let summary = client
        .bulk_export(Level::System)
        .run(&dir, &options(), &recorder)
        .await
        .unwrap_or_else(|e| panic!("system export: {e}"));
    eprintln!(
        "system: {} resources in {} files, {:?}",
        summary.resources(),
        summary.files.len(),
        started.elapsed()
    );
    let resources = read_files("system", &dir, &summary);
    check_job_dir("system", &dir, &summary);
    let mut got = ids_of(&resources);
    let types: BTreeSet<&str> = got.keys().map(String::as_str).collect();
    let allowed: BTreeSet<&str> = SEEDED_TYPES
        .into_iter()
        .chain(["SearchParameter"])
        .collect();
    assert!(types.is_subset(&allowed), "system export types: {types:?}");
    got.remove("SearchParameter");
    assert_ids("system export", &got, &seed.all());
    // hfs writes at most 1,000 resources a file, so the duplicate check above also ran
    // across the files of one type.
    let observation_files = summary
        .files
        .iter()
        .filter(|f| f.resource_type == "Observation")
        .count();
    eprintln!("system: Observations came in {observation_files} files");

    assert_eq!(recorder.kicked_off.load(Ordering::Relaxed), 1, "kicked_off");
    assert_eq!(recorder.manifests.load(Ordering::Relaxed), 1, "manifest");
    assert_eq!(
        recorder.files_done.load(Ordering::Relaxed),
        summary.files.len() as u64,
        "file_done"
    );
    assert_eq!(
        recorder.resources.load(Ordering::Relaxed),
        summary.resources(),
        "downloaded resources"
    );
    assert_eq!(
        recorder.bytes.load(Ordering::Relaxed),
        summary.bytes(),
        "downloaded bytes"
    );

    let job_dir = JobDir::open(&dir).expect("job dir");
    let status_url = job_dir
        .status_url()
        .expect("status URL")
        .parse()
        .expect("URL");
    let job = ExportJob::new(client.clone(), status_url).expect("job");
    let after = job.poll().await;
    assert!(
        is_gone(&after),
        "after a completed run the job is deleted on the server: {after:?}"
    );
    summary.manifest.transaction_time
}

/// Running the same export into its finished directory reads the files back: no new job,
/// nothing downloaded, the same counts.
async fn a_finished_directory_is_not_downloaded_again(client: &Client, root: &Path) {
    let dir = root.join("system");
    let before = JobDir::open(&dir).expect("job dir");
    let first_url = before.status_url().map(str::to_owned);
    let summary = client
        .bulk_export(Level::System)
        .run(&dir, &options(), &NoProgress)
        .await
        .unwrap_or_else(|e| panic!("system export again: {e}"));
    read_files("system again", &dir, &summary);
    let after = JobDir::open(&dir).expect("job dir");
    assert_eq!(after.status_url().map(str::to_owned), first_url, "same job");
    assert_eq!(after.state(), Some(JobState::Done));
    for f in &summary.files {
        assert_eq!(f.resumed_at, f.bytes, "{} was downloaded again", f.file);
    }
}

/// `_type`: only the requested types, each complete (with `_outputFormat` spelled out as the
/// IG's default, `application/fhir+ndjson`).
async fn type_narrows_the_output(client: &Client, root: &Path, seed: &Seed) {
    let types = ["Patient", "Condition"];
    let request = client
        .bulk_export(Level::System)
        .types(types)
        .output_format("application/fhir+ndjson");
    let got = export_ids(root, "type", request).await;
    assert_ids("_type=Patient,Condition", &got, &only(&seed.all(), &types));
}

/// `_typeFilter=Observation?category=laboratory` with `_type=Observation,Encounter`: the even
/// Observations, and every Encounter (a filter narrows its own type only).
async fn type_filter_narrows_one_type(client: &Client, root: &Path, seed: &Seed) {
    let request = client
        .bulk_export(Level::System)
        .types(["Observation", "Encounter"])
        .type_filter("Observation?category=laboratory");
    let got = export_ids(root, "type-filter", request).await;
    let mut want = only(&seed.all(), &["Encounter"]);
    want.insert(
        "Observation".into(),
        seed.observations
            .iter()
            .step_by(2)
            .map(|(id, _)| id.clone())
            .collect(),
    );
    assert_ids("_typeFilter=Observation?category=laboratory", &got, &want);
}

/// `_elements=identifier` on Patients (which have no mandatory elements): each Patient keeps
/// `id`, `meta` and its seeded identifier, loses `gender` and `birthDate`, and is tagged
/// `SUBSETTED`.
async fn elements_subset_the_resources(client: &Client, root: &Path, seed: &Seed) {
    let request = client
        .bulk_export(Level::System)
        .types(["Patient"])
        .elements(["identifier"]);
    let (resources, _) = export(root, "elements", request).await;
    assert_ids(
        "_elements=identifier",
        &ids_of(&resources),
        &only(&seed.all(), &["Patient"]),
    );
    let index: BTreeMap<&str, usize> = seed
        .patients
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    for p in &resources["Patient"] {
        let keys: BTreeSet<&str> = p
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["resourceType", "id", "meta", "identifier"]),
            "{p}"
        );
        let i = index[p["id"].as_str().unwrap_or_default()];
        assert_eq!(p["identifier"], patient(i)["identifier"], "{p}");
        let tagged = p["meta"]["tag"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t["code"] == SUBSETTED));
        assert!(tagged, "no SUBSETTED tag: {p}");
    }
}

/// `Group/[id]/$export`: the members' compartments and nothing of anyone else; the Group,
/// and the other Group through the shared members, included.
async fn group_exports_hold_only_their_members(client: &Client, root: &Path, seed: &Seed) {
    for n in 0..2 {
        let (id, members) = seed.group(n);
        let name = format!("group-{}", n + 1);
        let got = export_ids(root, &name, client.bulk_export(Level::Group(id.into()))).await;
        let want = seed.compartment(members);
        assert_ids(&name, &got, &want);
        // Spelled out for g1: 50 Patients, 100 Observations (o0..o49, o1000..o1049), 25
        // Encounters (p0, p2, ..., p48), 10 Conditions (p0, p5, ..., p45), both Groups.
        if n == 0 {
            let counts: Vec<usize> = ["Patient", "Observation", "Encounter", "Condition", "Group"]
                .iter()
                .map(|t| got.get(*t).map_or(0, BTreeSet::len))
                .collect();
            assert_eq!(counts, [50, 100, 25, 10, 2], "g1 per type");
        }
    }
    // With `_type`, still only members: g2's Patients and Observations.
    let (id, members) = seed.group(1);
    let types = ["Patient", "Observation"];
    let request = client.bulk_export(Level::Group(id.into())).types(types);
    let got = export_ids(root, "group-2-type", request).await;
    assert_ids(
        "g2 with _type",
        &got,
        &only(&seed.compartment(members), &types),
    );
}

/// `Patient/$export`: every patient's compartment, so every seeded resource (each has a
/// patient subject or member) and no SearchParameter.
async fn patient_export_holds_the_patient_compartments(client: &Client, root: &Path, seed: &Seed) {
    let got = export_ids(root, "patient", client.bulk_export(Level::Patient)).await;
    let everyone = set_of(0..seed.patients.len());
    assert_ids("Patient/$export", &got, &seed.compartment(&everyone));
}

/// The `patient` parameter (a `POST` with `Parameters`) at Patient level: only those
/// patients' compartments.
///
/// Not tested at Group level: hfs 0.2.7 refuses a `patient` that is not a member (400) but
/// ignores a member `patient` and exports the whole group, where the IG says it "SHALL NOT
/// return resources in the patient compartment definition belonging to patients outside of
/// this list".
async fn patient_parameter_narrows_to_those_patients(client: &Client, root: &Path, seed: &Seed) {
    let request = client
        .bulk_export(Level::Patient)
        .patient(seed.patients[3].clone())
        .patient(format!("Patient/{}", seed.patients[996]));
    let got = export_ids(root, "patient-param", request).await;
    // p3: itself, o3, o1003, g1; p996: itself, o996, o1996, e498, g2.
    assert_ids(
        "patient=p3,p996",
        &got,
        &seed.compartment(&set_of([3, 996])),
    );
}

/// The parts one by one: `POST` kick-off, `wait`, `download` into a directory holding a
/// partly downloaded file, `cancel`. hfs sends the files gzip-encoded when asked and (0.2.7)
/// answers a range request with the whole file, so the runtime must start that file again:
/// the result is the same either way, `restarted` says which happened.
async fn step_by_step_with_an_ignored_range(client: &Client, root: &Path, seed: &Seed) {
    let types = ["Patient", "Encounter"];
    let job = client
        .bulk_export(Level::System)
        .types(types)
        .post()
        .kick_off()
        .await
        .unwrap_or_else(|e| panic!("POST kick-off: {e}"));
    let (manifest, raw) = job
        .wait(&poll_policy(), &NoProgress)
        .await
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let reparsed: Manifest = serde_json::from_slice(&raw).expect("raw manifest");
    assert_eq!(reparsed, manifest);
    assert!(!manifest.requires_access_token, "hfs needs no token here");
    let mut declared: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &manifest.output {
        assert!(types.contains(&f.resource_type.as_str()), "{f:?}");
        *declared.entry(&f.resource_type).or_default() += f.count.expect("hfs sends count");
    }
    assert_eq!(
        declared,
        BTreeMap::from([
            ("Encounter", ENCOUNTERS as u64),
            ("Patient", PATIENTS as u64)
        ]),
        "manifest counts"
    );

    // The first Patient file, fetched by hand: gzip when asked; then its plain bytes, and
    // whether a range request is honoured.
    let url = &manifest
        .output
        .iter()
        .find(|f| f.resource_type == "Patient")
        .expect("a Patient file")
        .url;
    let raw_http = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("reqwest");
    let gz = raw_http
        .get(url)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("gzip GET");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let gz = gz.bytes().await.expect("gzip body");
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
    let plain = raw_http
        .get(url)
        .header("accept-encoding", "identity")
        .send()
        .await
        .expect("GET")
        .bytes()
        .await
        .expect("body");
    let cut = plain.len() / 2 + 7;
    let ranged = raw_http
        .get(url)
        .header("accept-encoding", "identity")
        .header("range", format!("bytes={cut}-"))
        .send()
        .await
        .expect("range GET");
    let range_honoured = ranged.status() == reqwest::StatusCode::PARTIAL_CONTENT;
    eprintln!("hfs answered a range request with {}", ranged.status());

    // An interrupted earlier download left half of the file, cut mid-line.
    let dir = root.join("step-by-step");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("Patient.001.ndjson.part"), &plain[..cut]).expect("part file");
    let summary = bulk::download(client, &manifest, &dir, &options(), &NoProgress)
        .await
        .unwrap_or_else(|e| panic!("download: {e}"));
    let resources = read_files("step-by-step", &dir, &summary);
    assert_ids(
        "step by step",
        &ids_of(&resources),
        &only(&seed.all(), &types),
    );
    let first = summary
        .files
        .iter()
        .find(|f| f.file == "Patient.001.ndjson")
        .expect("Patient.001.ndjson");
    assert_eq!(
        first.resumed_at, cut as u64,
        "resumed at the part file's length"
    );
    assert_eq!(first.restarted, !range_honoured, "restarted");
    let written = std::fs::read(dir.join("Patient.001.ndjson")).expect("file");
    assert!(
        written == plain,
        "Patient.001.ndjson differs from the server's file"
    );

    job.cancel().await.unwrap_or_else(|e| panic!("cancel: {e}"));
    let after = job.poll().await;
    assert!(is_gone(&after), "after DELETE the job is gone: {after:?}");
    let file_after = raw_http.get(url).send().await.expect("GET after DELETE");
    assert_eq!(
        file_after.status(),
        reqwest::StatusCode::NOT_FOUND,
        "after DELETE the files are gone"
    );
    job.cancel()
        .await
        .unwrap_or_else(|e| panic!("a second cancel: {e}"));
}

/// `DELETE` while the job runs: the job is gone (a cancelled job is not found afterwards).
async fn cancel_removes_a_running_job(client: &Client) {
    let job = client
        .bulk_export(Level::System)
        .kick_off()
        .await
        .unwrap_or_else(|e| panic!("kick-off: {e}"));
    let first = job.poll().await.unwrap_or_else(|e| panic!("poll: {e}"));
    if !matches!(first, JobStatus::InProgress { .. }) {
        // hfs takes about a second for any job; on a very slow machine the job may be done.
        eprintln!("cancel: the job was already complete before the DELETE");
    }
    job.cancel().await.unwrap_or_else(|e| panic!("cancel: {e}"));
    let after = job.poll().await;
    assert!(is_gone(&after), "after DELETE the job is gone: {after:?}");
}

/// `_since=t0` (the first export's `transactionTime`) returns exactly what was created or
/// updated after it, at system level (`GET` and `POST`) and Group level; `_until=t0` exactly
/// what was written before it.
async fn since_and_until_select_by_last_update(
    client: &Client,
    root: &Path,
    seed: &mut Seed,
    t0: &str,
) {
    let changed = seed_after_t0(client, seed).await;
    let types = ["Patient", "Observation", "Encounter", "Condition"];

    let request = client.bulk_export(Level::System).types(types).since(t0);
    let got = export_ids(root, "since", request).await;
    // 100 new and 10 updated Patients, 200 new Observations; no Encounter or Condition.
    assert_ids("_since=t0", &got, &changed);

    let request = client
        .bulk_export(Level::System)
        .types(["Patient"])
        .since(t0)
        .post();
    let got = export_ids(root, "since-post", request).await;
    assert_ids("POST _since=t0", &got, &only(&changed, &["Patient"]));

    let (g1, members) = seed.group(0);
    let request = client.bulk_export(Level::Group(g1.into())).since(t0);
    let got = export_ids(root, "since-group", request).await;
    // The updated p0..p9 and the new Observations of p0..p49 (o2100..o2149).
    let want = both(&seed.compartment(members), &changed);
    assert_eq!(
        want.values().map(BTreeSet::len).sum::<usize>(),
        60,
        "g1 since"
    );
    assert_ids("g1 _since=t0", &got, &want);

    let before = ["Observation", "Encounter"];
    let request = client.bulk_export(Level::System).types(before).until(t0);
    let got = export_ids(root, "until", request).await;
    assert_ids(
        "_until=t0",
        &got,
        &only(&without(&seed.all(), &changed), &before),
    );
}
