//! `fhirforge login` / `logout` end to end: a person signs in at the real authorization server
//! (oidc-provider's login and consent pages, filled in by `fhirforge_testkit::oauth::sign_in`
//! as the browser), the CLI catches the one loopback callback, every call command then uses the
//! session through the JWT-verifying gate in front of hfs, renews it silently when the access
//! token expires, and `logout` revokes it.

use super::{hfs, run, seed};
use fhirforge_testkit::gate::{Gate, GateConfig};
use fhirforge_testkit::oauth::{sign_in, OAuthServer};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt as _, BufReader};

const SCOPES: &str = "openid fhirUser launch/patient patient/*.rs offline_access";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `fhirforge login PROFILE --no-browser`, signs `user` in when it prints the URL, opens
/// the callback the server redirects to (as the browser would), and checks that a second
/// callback finds nobody listening. Returns the exit code and stdout.
async fn login(cfg: &Path, profile: &str, user: &str) -> (Option<i32>, String, String) {
    let bin = assert_cmd::cargo::cargo_bin("fhirforge");
    let mut child = tokio::process::Command::new(bin)
        .args(["login", profile, "--no-browser", "--timeout", "60"])
        .env("FHIRFORGE_CONFIG_DIR", cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stderr = String::new();
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("login prints the URL")
            .unwrap()
            .unwrap_or_else(|| panic!("login ended before printing a URL: {stderr}"));
        stderr.push_str(&line);
        stderr.push('\n');
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    let callback = sign_in(&url, user).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
    let page = reqwest::get(&callback).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("Sign-in received"));
    assert!(
        reqwest::get(&callback).await.is_err(),
        "a second callback must find the listener closed"
    );
    while let Ok(Some(line)) = lines.next_line().await {
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        stderr,
    )
}

fn stored_refresh_token(cfg: &Path, profile: &str) -> String {
    let path = cfg.join(format!("tokens/{profile}.json"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the token file is owner-only");
    }
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    stored["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_search_silent_refresh_and_logout_through_the_gate() {
    let hfs = hfs().await;
    let ids = seed(hfs.base_url()).await;
    let listener = Gate::bind().await.unwrap();
    let base = listener.base_url();
    let oauth = OAuthServer::builder(&base)
        .access_token_ttl(4)
        .interactive()
        .launch_patient(ids["p1"].clone())
        .app_client("cli-app", "http://127.0.0.1/callback", SCOPES, None)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let gate = listener
        .serve(
            GateConfig::bearer_for(hfs.base_url(), &oauth, base.clone(), false)
                .app_launch_for(&oauth),
        )
        .unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let port = free_port().to_string();
    run(
        cfg,
        &[
            "profile",
            "add",
            "ehr",
            "--base",
            gate.base_url(),
            "--auth",
            "app-launch",
            "--client-id",
            "cli-app",
            "--redirect-port",
            &port,
        ],
    )
    .ok();
    // Not signed in yet: a clear error, exit 1.
    let before = run(cfg, &["search", "Patient", "-p", "ehr", "--no-check"]);
    assert_eq!(before.code, Some(1), "{}", before.stderr);
    assert!(
        before.stderr.contains("fhirforge login ehr"),
        "{}",
        before.stderr
    );

    let (code, stdout, stderr) = login(cfg, "ehr", "carol").await;
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains(&format!("patient:     {}", ids["p1"])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "user:        {}/Practitioner/carol",
            gate.base_url()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("granted:"), "{stdout}");
    assert!(!stdout.contains("not granted"), "{stdout}");
    let first_refresh = stored_refresh_token(cfg, "ehr");

    // Every call command uses the session.
    let found = run(cfg, &["search", "Patient", "-p", "ehr"]).ok().json();
    assert_eq!(found.as_array().unwrap().len(), 5);
    let requests = oauth.token_requests().await.unwrap();

    // The access token expires; the next command renews it once, silently, and keeps the
    // rotated refresh token.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let read = run(cfg, &["read", "Patient", &ids["p2"], "-p", "ehr"])
        .ok()
        .json();
    assert_eq!(read["name"][0]["family"], "Smith");
    assert_eq!(
        oauth.token_requests().await.unwrap(),
        requests + 1,
        "one refresh"
    );
    let rotated = stored_refresh_token(cfg, "ehr");
    assert_ne!(rotated, first_refresh, "the rotated refresh token is kept");
    assert_eq!(gate.stats().distinct_tokens().len(), 2);

    // The EHR ends the session (revokes the refresh token); once the access token expires,
    // the next call says how to sign in again.
    let revoked = reqwest::Client::new()
        .post(oauth.revocation_url().unwrap())
        .form(&[
            ("token", rotated.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", "cli-app"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let ended = run(cfg, &["search", "Patient", "-p", "ehr", "--no-check"]);
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("run `fhirforge login ehr`"),
        "{}",
        ended.stderr
    );
    assert!(ended.stderr.contains("sign in again"), "{}", ended.stderr);

    // Logout revokes and deletes; the next call is refused, and the server refuses the old
    // refresh token too.
    let out = run(cfg, &["logout", "ehr"]).ok();
    assert!(out.stdout.contains("revoked"), "{}", out.stdout);
    assert!(!cfg.join("tokens/ehr.json").exists());
    let after = run(cfg, &["search", "Patient", "-p", "ehr", "--no-check"]);
    assert_eq!(after.code, Some(1), "{}", after.stderr);
    assert!(after.stderr.contains("not signed in"), "{}", after.stderr);
    let refused = reqwest::Client::new()
        .post(oauth.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rotated.as_str()),
            ("client_id", "cli-app"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    // Nothing secret reached the terminal.
    for shown in [&stdout, &stderr, &out.stdout, &out.stderr] {
        assert!(!shown.contains(&rotated) && !shown.contains(&first_refresh));
    }

    // A scope the server does not grant is shown, not silently dropped.
    run(
        cfg,
        &[
            "profile",
            "add",
            "narrow",
            "--base",
            gate.base_url(),
            "--auth",
            "app-launch",
            "--client-id",
            "cli-app",
            "--redirect-port",
            &port,
            "--scope",
            &format!("{SCOPES} user/Observation.rs"),
        ],
    )
    .ok();
    let (code, stdout, stderr) = login(cfg, "narrow", "dave").await;
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("not granted: user/Observation.rs"),
        "{stdout}"
    );

    // A profile of another kind cannot sign in.
    run(cfg, &["profile", "add", "plain", "--base", gate.base_url()]).ok();
    let wrong = run(cfg, &["login", "plain"]);
    assert_eq!(wrong.code, Some(2), "{}", wrong.stderr);
    assert!(wrong.stderr.contains("app-launch"), "{}", wrong.stderr);
}
