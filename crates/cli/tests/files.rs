//! Files fhirforge writes (profiles, generated crates) are written atomically and never through
//! a symbolic link planted at their path: the link's target must stay untouched.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]
#![cfg(unix)]

use assert_cmd::Command;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt as _};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Run {
    code: Option<i32>,
    stderr: String,
}

fn fhirforge(config: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("fhirforge")
        .unwrap()
        .current_dir(root())
        .env("FHIRFORGE_CONFIG_DIR", config)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The names in `dir`, sorted (a leftover temporary file would show up here).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_profile_is_owner_only_and_never_written_through_a_planted_link() {
    let cfg = tempfile::tempdir().unwrap();
    let add = |name: &str, force: bool| {
        let mut args = vec!["profile", "add", name, "--base", "https://ehr.example/fhir"];
        if force {
            args.push("--force");
        }
        fhirforge(cfg.path(), &args)
    };
    let ok = add("plain", false);
    assert_eq!(ok.code, Some(0), "{}", ok.stderr);
    let profiles = cfg.path().join("profiles");
    let mode = fs::metadata(profiles.join("plain.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "profiles are owner-only");

    // A link planted where the next profile goes, pointing at a file of the user's.
    let victim = cfg.path().join("victim.txt");
    fs::write(&victim, "keep me").unwrap();
    symlink(&victim, profiles.join("planted.toml")).unwrap();
    for force in [false, true] {
        let refused = add("planted", force);
        assert_ne!(refused.code, Some(0), "{}", refused.stderr);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");
    }
    let forced = add("planted", true);
    assert!(forced.stderr.contains("symbolic link"), "{}", forced.stderr);
    assert!(fs::symlink_metadata(profiles.join("planted.toml"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        names(&profiles),
        ["plain.toml", "planted.toml"],
        "no temporary file is left"
    );
}

#[test]
fn a_generated_file_is_never_written_through_a_planted_link() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("conn");
    let out_s = out.to_str().unwrap();
    let generate = || {
        fhirforge(
            tmp.path(),
            &[
                "generate",
                "specs/synthetic/gen-every-type.json",
                "--out",
                out_s,
                "--name",
                "fhirforge-every",
            ],
        )
    };
    let first = generate();
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let before = names(&out.join("src"));

    let victim = tmp.path().join("victim.rs");
    fs::write(&victim, "// keep me\n").unwrap();
    fs::remove_file(out.join("src/lib.rs")).unwrap();
    symlink(&victim, out.join("src/lib.rs")).unwrap();
    let again = generate();
    assert_eq!(again.code, Some(1), "{}", again.stderr);
    assert!(again.stderr.contains("symbolic link"), "{}", again.stderr);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "// keep me\n");
    assert_eq!(names(&out.join("src")), before, "no temporary file is left");
}
