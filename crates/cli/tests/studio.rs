//! `fhirforge studio` as a user starts it: the crate it downloads equals `fhirforge generate`'s
//! output with the same options, file for file and byte for byte. With the options of
//! `connectors/epic.toml` that output is the committed `connectors/epic` crate, which the
//! workspace compiles (and `fhirforge-codegen`'s `fresh` test keeps equal to a generation).
//! With `--profile`, Send goes through the profile's client to a real FHIR server (hfs) and the
//! profile's secret never reaches the browser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The studio process, killed when dropped.
struct Studio {
    child: Child,
    base: String,
    token: String,
    /// Kept open: the studio's stdout stays a live pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for Studio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn studio(args: &[&str]) -> Studio {
    studio_with_env(args, &[])
}

fn studio_with_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Studio {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fhirforge"))
        .arg("studio")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("fhirforge studio: open ")
        .unwrap_or_else(|| panic!("{line}"));
    let (base, token) = url.split_once("/?token=").unwrap();
    Studio {
        base: base.to_owned(),
        token: token.to_owned(),
        child,
        _stdout: stdout,
    }
}

/// Reads a ustar archive into path -> bytes, dropping the archive's root folder.
fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut at = 0;
    while at + 512 <= bytes.len() && bytes[at] != 0 {
        let h = &bytes[at..at + 512];
        let field = |r: std::ops::Range<usize>| {
            let f = &h[r];
            String::from_utf8(f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())].to_vec())
                .unwrap()
        };
        let (name, prefix) = (field(0..100), field(345..500));
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let size = usize::from_str_radix(field(124..135).trim(), 8).unwrap();
        let data = bytes[at + 512..at + 512 + size].to_vec();
        let (_, rel) = path.split_once('/').unwrap();
        files.insert(rel.to_owned(), data);
        at += 512 + size.div_ceil(512) * 512;
    }
    files
}

fn files_under(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            if name != "target" {
                files_under(&entry.path(), &format!("{name}/"), out);
            }
        } else if name != "Cargo.lock" {
            out.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
}

fn download(s: &Studio, options: &serde_json::Value) -> BTreeMap<String, Vec<u8>> {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("options", &options.to_string())
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bytes = rt.block_on(async {
        let res = reqwest::Client::new()
            .get(format!("{}/api/crate.tar?{query}", s.base))
            .header("X-Studio-Token", &s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.bytes().await.unwrap()
    });
    untar(&bytes)
}

fn generate(config: &Path, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let status = Command::new(env!("CARGO_BIN_EXE_fhirforge"))
        .args([
            "generate",
            "specs/vendors/epic-r4-capability.json",
            "--config",
        ])
        .arg(config)
        .arg("--out")
        .arg(out)
        .current_dir(root())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mut files = BTreeMap::new();
    files_under(out, "", &mut files);
    files
}

fn assert_same(left: &BTreeMap<String, Vec<u8>>, right: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        right.keys().collect::<Vec<_>>(),
        "{what}: file lists"
    );
    for (path, bytes) in left {
        assert!(bytes == &right[path], "{what}: {path} differs");
    }
}

#[test]
fn the_studio_download_is_fhirforge_generate_byte_for_byte() {
    let s = studio(&[
        "specs/vendors/epic-r4-capability.json",
        "--config",
        "connectors/epic.toml",
    ]);
    let tmp = tempfile::tempdir().unwrap();

    // The page starts from the config's options; sent back unchanged, they give the config's crate.
    let plain = download(&s, &serde_json::json!({ "name": "fhirforge-epic" }));
    let generated = generate(&root().join("connectors/epic.toml"), &tmp.path().join("a"));
    assert_same(&plain, &generated, "download vs generate");
    let mut committed = BTreeMap::new();
    files_under(&root().join("connectors/epic"), "", &mut committed);
    assert_same(
        &plain,
        &committed,
        "download vs the committed connectors/epic",
    );

    // Options edited in the page: the same as the equivalent TOML.
    let edited = download(
        &s,
        &serde_json::json!({
            "name": "epic-lite",
            "value_only_params": ["Patient.birthdate"],
            "include_resources": ["Patient", "Observation"],
            "auth": ["smart-backend"]
        }),
    );
    let base = std::fs::read_to_string(root().join("connectors/epic.toml")).unwrap();
    let toml = base.replace("name = \"fhirforge-epic\"", "name = \"epic-lite\"\nauth = [\"smart-backend\"]\ninclude-resources = [\"Patient\", \"Observation\"]")
        + "\n[params.\"Patient.birthdate\"]\nrange = \"value-only\"\n";
    let config = tmp.path().join("lite.toml");
    std::fs::write(&config, toml).unwrap();
    let generated = generate(&config, &tmp.path().join("b"));
    assert_same(&edited, &generated, "edited download vs generate");
    let patient = String::from_utf8(edited["src/patient.rs"].clone()).unwrap();
    assert!(patient.contains("pub fn birthdate(self, value: impl Into<rt::search::DateValue>)"));
    assert!(!edited.contains_key("src/encounter.rs"));
}

const SECRET: &str = "pw-that-never-reaches-the-browser-4711";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_goes_through_the_profile_and_its_secret_stays_on_the_server() {
    let hfs = fhirforge_testkit::hfs::Hfs::start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = fhirforge_runtime::Client::builder(hfs.base_url())
        .build()
        .unwrap();
    for given in ["Ada", "Bea"] {
        let patient = serde_json::json!({
            "resourceType": "Patient",
            "name": [{"family": "Studioson", "given": [given]}],
        });
        client.create("Patient", &patient).await.unwrap();
    }
    let config = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_fhirforge"))
        .args([
            "profile",
            "add",
            "hfs",
            "--base",
            hfs.base_url(),
            "--auth",
            "basic",
        ])
        .args(["--user", "alice", "--password-env", "STUDIO_TEST_PW"])
        .env("FHIRFORGE_CONFIG_DIR", config.path())
        .status()
        .unwrap();
    assert!(status.success(), "profile add");
    let env = [
        ("FHIRFORGE_CONFIG_DIR", config.path().as_os_str()),
        ("STUDIO_TEST_PW", std::ffi::OsStr::new(SECRET)),
    ];
    let s = studio_with_env(
        &["specs/vendors/epic-r4-capability.json", "--profile", "hfs"],
        &env,
    );
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", s.base))
            .header("X-Studio-Token", &s.token)
            .send()
    };
    let spec = get("/api/spec").await.unwrap().text().await.unwrap();
    let page = get("/").await.unwrap().text().await.unwrap();
    for (what, text) in [("the spec JSON", &spec), ("the page", &page)] {
        assert!(
            !text.contains(SECRET),
            "{what} holds the profile's password"
        );
    }
    let spec: serde_json::Value = serde_json::from_str(&spec).unwrap();
    assert_eq!(spec["send"]["available"], true);
    assert_eq!(spec["send"]["profile"], "hfs");

    let form = serde_json::json!({
        "resource": "Patient",
        "params": [{ "name": "family", "value": "Studioson" }],
        "count": "1"
    });
    let post = |path: &str| {
        http.post(format!("{}{path}", s.base))
            .header("X-Studio-Token", &s.token)
            .json(&form)
            .send()
    };
    let preview: serde_json::Value = post("/api/preview").await.unwrap().json().await.unwrap();
    assert_eq!(
        preview["cli"],
        "fhirforge search Patient family=Studioson _count=1 --profile hfs \
         --spec specs/vendors/epic-r4-capability.json"
    );
    let first: serde_json::Value = post("/api/send").await.unwrap().json().await.unwrap();
    assert_eq!(first["status"], 200, "{first}");
    assert_eq!(first["rows"].as_array().unwrap().len(), 1);
    let next: serde_json::Value = http
        .post(format!("{}/api/next", s.base))
        .header("X-Studio-Token", &s.token)
        .json(&serde_json::json!({ "link": first["next"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Two pages of one, in the server's order: both patients, neither twice.
    let mut names: Vec<&str> = [&first, &next]
        .iter()
        .map(|r| r["rows"][0]["summary"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Ada Studioson", "Bea Studioson"]);
}
