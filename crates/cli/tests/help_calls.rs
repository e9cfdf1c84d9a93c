//! Goldens for the `--help` of every call, profile and diff subcommand. The help text
//! is the documentation of flags and exit codes, so a change to it shows up in review.
//!
//! Bless with `EXPECTORATE=overwrite cargo test -p fhirforge-cli --test help_calls`.

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test"
)]

use assert_cmd::Command;

fn help(args: &[&str]) -> String {
    let out = Command::cargo_bin("fhirforge")
        .unwrap()
        .args(args)
        .arg("--help")
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

macro_rules! golden {
    ($test:ident, $file:literal, [$($arg:literal),+]) => {
        #[test]
        fn $test() {
            let text = help(&[$($arg),+]);
            assert!(
                text.contains("Exit codes:") && text.contains("3  drift found"),
                "every subcommand's help documents the exit codes"
            );
            expectorate::assert_contents(concat!("tests/data/help/", $file, ".stdout"), &text);
        }
    };
}

golden!(capabilities, "capabilities", ["capabilities"]);
golden!(read, "read", ["read"]);
golden!(vread, "vread", ["vread"]);
golden!(search, "search", ["search"]);
golden!(create, "create", ["create"]);
golden!(update, "update", ["update"]);
golden!(patch, "patch", ["patch"]);
golden!(delete, "delete", ["delete"]);
golden!(history, "history", ["history"]);
golden!(operation, "operation", ["operation"]);
golden!(export, "export", ["export"]);
golden!(diff, "diff", ["diff"]);
golden!(profile, "profile", ["profile"]);
golden!(profile_add, "profile-add", ["profile", "add"]);
golden!(profile_list, "profile-list", ["profile", "list"]);
golden!(profile_show, "profile-show", ["profile", "show"]);
golden!(profile_remove, "profile-remove", ["profile", "remove"]);
golden!(mcp, "mcp", ["mcp"]);
golden!(studio, "studio", ["studio"]);
golden!(login, "login", ["login"]);
golden!(logout, "logout", ["logout"]);
