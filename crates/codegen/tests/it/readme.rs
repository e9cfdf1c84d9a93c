//! The top-level README's "What a connector looks like" snippet and the committed connectors'
//! examples compile with the connector as their only dependency (no `fhirforge-runtime`,
//! `serde_json` or `futures` of their own): the prelude and the `runtime` re-export suffice.

use crate::support::root;
use std::path::PathBuf;

/// The first ```rust block after the "What a connector looks like" heading.
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme
        .find("## What a connector looks like")
        .expect("README section")..];
    let start = section.find("```rust").expect("a rust block") + "```rust".len();
    let body = &section[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").expect("closed block")].to_owned()
}

/// `cargo check`s a binary crate with `main_rs`, whose only dependency is the Epic connector.
fn check_with_only_the_connector(main_rs: &str, example: Option<&str>) -> (bool, String) {
    let epic = root().join("connectors/epic").canonicalize().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(app.join("src/main.rs"), main_rs).unwrap();
    let mut manifest = format!(
        "[workspace]\n\n[package]\nname = \"readme-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nfhirforge-epic = {{ path = {:?} }}\n",
        epic.to_string_lossy()
    );
    if let Some(example) = example {
        // The connector's own example, as a user would copy it: tokio only runs `main`.
        std::fs::create_dir_all(app.join("examples")).unwrap();
        std::fs::write(app.join("examples/basic.rs"), example).unwrap();
        manifest.push_str(
            "tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n",
        );
    }
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(root().join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .args(["check", "--offline", "-q", "--all-targets"])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn readme_snippet_and_example_compile_with_only_the_connector() {
    let snippet = readme_snippet();
    assert!(snippet.contains("fhirforge_epic::prelude::*"), "{snippet}");
    // The snippet's `use` lines go to the top; the rest becomes the body of an async function.
    let (uses, body): (Vec<&str>, Vec<&str>) = snippet.lines().partition(|l| l.starts_with("use "));
    let main_rs = format!(
        "#![allow(unused_variables, unused_mut, clippy::all)]\n{}\n\n\
         async fn demo() -> Result<(), Box<dyn std::error::Error>> {{\n{}\nOk(())\n}}\n\n\
         fn main() {{\n    let _ = demo;\n}}\n",
        uses.join("\n"),
        body.join("\n")
    );
    let example =
        std::fs::read_to_string(root().join("connectors/epic/examples/basic.rs")).unwrap();
    let (ok, stderr) = check_with_only_the_connector(&main_rs, Some(&example));
    assert!(ok, "{main_rs}\n{stderr}");
}
