//! Profiles with credentials, through the testkit's auth gate in front of hfs.

use super::{fhirforge, finish, hfs, keys, run, seed, set, PASSWORD_VAR};
use fhirforge_runtime::auth::keys::{self, Algorithm};
use fhirforge_runtime::auth::{AuthProvider as _, ClientCredentials, ClientSecret, HttpContext};
use fhirforge_testkit::gate::{Gate, GateAuth, GateConfig};
use fhirforge_testkit::oauth::OAuthServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_with_basic_auth_through_the_gate() {
    let hfs = hfs().await;
    let listener = Gate::bind().await.unwrap();
    let gate = listener
        .serve(GateConfig::new(
            hfs.base_url(),
            GateAuth::Basic {
                user: "clinician".into(),
                password: "pa55-word".into(),
            },
        ))
        .unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let ids = seed(hfs.base_url()).await;

    run(
        cfg,
        &[
            "profile",
            "add",
            "gated",
            "--base",
            gate.base_url(),
            "--auth",
            "basic",
            "--user",
            "clinician",
            "--password-env",
            PASSWORD_VAR,
            "--default-param",
            "gender=female",
        ],
    )
    .ok();
    let stored = std::fs::read_to_string(cfg.join("profiles/gated.toml")).unwrap();
    assert!(!stored.contains("pa55-word"));
    assert!(stored.contains(PASSWORD_VAR));

    // the profile's default parameter applies to every search
    let found = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "pa55-word")
            .args(["search", "Patient", "--profile", "gated"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(keys(&ids, &found), set(&["p2", "p4"]));
    let read = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "pa55-word")
            .args(["read", "Patient", &ids["p1"], "-p", "gated"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(read["name"][0]["family"], "Smith");

    // a wrong password is the server's 401: exit 1, the password never printed
    let denied = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "wrong-secret")
            .args(["read", "Patient", &ids["p1"], "-p", "gated", "--no-check"])
            .output()
            .unwrap(),
    );
    assert_eq!(denied.code, Some(1), "stderr: {}", denied.stderr);
    assert!(denied.stderr.contains("401"), "{}", denied.stderr);
    assert!(!denied.stderr.contains("wrong-secret"));

    // the variable unset: invalid input, named
    let unset = run(cfg, &["read", "Patient", &ids["p1"], "-p", "gated"]);
    assert_eq!(unset.code, Some(2), "stderr: {}", unset.stderr);
    assert!(unset.stderr.contains(PASSWORD_VAR), "{}", unset.stderr);

    // list, show (redacted: where the secret comes from, never its value), remove
    let list = run(cfg, &["profile", "list"]).ok();
    assert!(
        list.stdout
            .starts_with("gated  basic             http://127.0.0.1:"),
        "{}",
        list.stdout
    );
    let show = finish(
        fhirforge(cfg)
            .env(PASSWORD_VAR, "pa55-word")
            .args(["profile", "show", "gated"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(!show.stdout.contains("pa55-word"));
    assert!(
        show.stdout
            .contains(&format!("environment variable {PASSWORD_VAR} (set)")),
        "{}",
        show.stdout
    );
    let typo = run(cfg, &["profile", "show", "gatd"]);
    assert_eq!(typo.code, Some(2));
    assert!(
        typo.stderr.contains("did you mean `gated`?"),
        "{}",
        typo.stderr
    );
    run(cfg, &["profile", "remove", "gated"]).ok();
    assert!(run(cfg, &["profile", "list"]).ok().stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_with_backend_services_bearer_through_the_gate() {
    let hfs = hfs().await;
    let listener = Gate::bind().await.unwrap();
    let gate_base = listener.base_url();
    let pair = keys::generate(Algorithm::Es384).unwrap();
    let oauth = OAuthServer::builder(&gate_base)
        .scopes(["system/*.cruds"])
        .private_key_jwt_client(
            "cli-app",
            "ES384",
            pair.public_jwks.clone(),
            "system/*.read system/*.write",
        )
        .client_secret(
            "cli-secret-app",
            "s3cret-value",
            "client_secret_post",
            "system/*.read",
        )
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let gate = listener
        .serve(GateConfig::bearer_for(
            hfs.base_url(),
            &oauth,
            gate_base.clone(),
            true,
        ))
        .unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let cfg = cfg.path();
    let key_file = cfg.join("cli-app.pem");
    keys::write_private_key(&key_file, &pair.private_key_pem).unwrap();

    // without credentials the gate refuses: the request failed, exit 1
    let anonymous = run(
        cfg,
        &["search", "Patient", "--base", gate.base_url(), "--no-check"],
    );
    assert_eq!(anonymous.code, Some(1), "stderr: {}", anonymous.stderr);
    assert!(anonymous.stderr.contains("401"), "{}", anonymous.stderr);

    // the token URL is discovered from the gate's .well-known/smart-configuration
    run(
        cfg,
        &[
            "profile",
            "add",
            "smart",
            "--base",
            gate.base_url(),
            "--auth",
            "backend-services",
            "--client-id",
            "cli-app",
            "--private-key-file",
            key_file.to_str().unwrap(),
            "--scope",
            "system/*.read system/*.write",
        ],
    )
    .ok();
    let stored = std::fs::read_to_string(cfg.join("profiles/smart.toml")).unwrap();
    assert!(!stored.contains("PRIVATE KEY"), "{stored}");

    let work = tempfile::tempdir().unwrap();
    let body = work.path().join("p.json");
    std::fs::write(
        &body,
        r#"{"resourceType": "Patient", "name": [{"family": "Bearer"}]}"#,
    )
    .unwrap();
    let created = run(
        cfg,
        &["create", "Patient", body.to_str().unwrap(), "-p", "smart"],
    )
    .ok()
    .json();
    let id = created["id"].as_str().unwrap();
    let found = run(cfg, &["search", "Patient", "family=Bearer", "-p", "smart"])
        .ok()
        .json();
    assert_eq!(found[0]["id"], id);
    assert!(
        oauth.token_requests().await.unwrap() >= 2,
        "one token per process"
    );
    assert!(gate.stats().accepted() >= 2);

    // client credentials with a client secret (client_secret_post) from a file
    let secret_file = cfg.join("client-secret.txt");
    std::fs::write(&secret_file, "s3cret-value\n").unwrap();
    run(
        cfg,
        &[
            "profile",
            "add",
            "secret",
            "--base",
            gate.base_url(),
            "--auth",
            "client-secret",
            "--client-id",
            "cli-secret-app",
            "--client-secret-file",
            secret_file.to_str().unwrap(),
            "--secret-method",
            "post",
            "--scope",
            "system/*.read",
        ],
    )
    .ok();
    let found = run(cfg, &["search", "Patient", "family=Bearer", "-p", "secret"])
        .ok()
        .json();
    assert_eq!(found[0]["id"], id);
    // a bearer token obtained elsewhere, from an environment variable, with --base
    let provider = ClientCredentials::builder("cli-secret-app")
        .client_secret_post(ClientSecret::new("s3cret-value"))
        .token_url(oauth.token_url())
        .scope("system/*.read")
        .build()
        .unwrap();
    let header = provider
        .authorization(&HttpContext::new().unwrap())
        .await
        .unwrap()
        .expect("a bearer header");
    let token = header.to_str().unwrap().strip_prefix("Bearer ").unwrap();
    let found = finish(
        fhirforge(cfg)
            .env("FHIRFORGE_TEST_TOKEN", token)
            .args([
                "search",
                "Patient",
                "family=Bearer",
                "--base",
                gate.base_url(),
            ])
            .args(["--bearer-env", "FHIRFORGE_TEST_TOKEN"])
            .output()
            .unwrap(),
    )
    .ok()
    .json();
    assert_eq!(found[0]["id"], id);

    let show = run(cfg, &["profile", "show", "secret"]).ok();
    assert!(!show.stdout.contains("s3cret-value"), "{}", show.stdout);

    let show = run(cfg, &["profile", "show", "smart"]).ok();
    assert!(
        show.stdout.contains("kind = \"backend-services\""),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("(exists)"), "{}", show.stdout);
}
