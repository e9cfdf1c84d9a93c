//! `fhirforge login`: sign a person in with SMART App Launch and keep the session.

use crate::connect::runtime;
use crate::profile;
use crate::signin::{token_store, AppProfile};
use crate::term::clean;
use anyhow::Context;
use fhirforge_runtime::auth::app_launch::{Launch, LoopbackRedirect, TokenStore as _};
use fhirforge_runtime::auth::HttpContext;
use std::io::Write as _;
use std::time::Duration;

/// Sign in to an app-launch profile's EHR in the browser (SMART App Launch, authorization code
/// with PKCE).
///
/// Opens the server's sign-in page in the system browser (`--no-browser` prints the URL only),
/// listens on 127.0.0.1 at the profile's redirect port for exactly one callback, exchanges the
/// code, verifies the id_token, and keeps the tokens in the token store
/// (`<config dir>/tokens/<profile>.json`, owner-only). Every other command with `--profile NAME`
/// then uses the session and renews it silently with the refresh token. Shows the user, the
/// patient in context, and the scopes granted, naming any that were requested but not granted.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The app-launch profile (see `fhirforge profile add --auth app-launch`)
    profile: String,

    /// Print the sign-in URL instead of opening a browser
    #[arg(long)]
    no_browser: bool,

    /// How long to wait for the browser to come back, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
}

/// Runs `fhirforge login`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let saved = profile::load(&args.profile)?;
    let settings = AppProfile::of(&args.profile, &saved.auth)?;
    runtime()?.block_on(async {
        let insecure = saved.insecure_http;
        let http = HttpContext::new()?.allow_insecure_http(insecure);
        let app = settings.app(&http, &saved.base_url, insecure).await?;
        let listener = LoopbackRedirect::bind(settings.redirect_port, "/callback").await?;
        let pending = app.begin(listener.redirect_uri().clone(), Launch::Standalone)?;
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "Sign in to {} in your browser:\n\n  {}\n\nWaiting for the browser at {} ...",
            clean(&saved.base_url),
            pending.url(),
            listener.redirect_uri()
        )?;
        err.flush()?;
        drop(err);
        if !args.no_browser {
            crate::browser::open(pending.url().as_str());
        }
        let back = listener.wait(Duration::from_secs(args.timeout)).await?;
        let signed = app
            .complete(&http, &pending, &back)
            .await
            .context("completing the sign-in")?;
        token_store()?.save(&args.profile, &signed.tokens)?;
        let tokens = &signed.tokens;
        let mut out = std::io::stdout().lock();
        writeln!(out, "Signed in with profile {}.", args.profile)?;
        if let Some(user) = &tokens.fhir_user {
            writeln!(out, "user:        {}", clean(user))?;
        }
        if let Some(patient) = &tokens.patient {
            writeln!(out, "patient:     {}", clean(patient))?;
        }
        if let Some(encounter) = &tokens.encounter {
            writeln!(out, "encounter:   {}", clean(encounter))?;
        }
        writeln!(
            out,
            "granted:     {}",
            clean(tokens.scope.as_deref().unwrap_or("(the server did not say)"))
        )?;
        let missing = signed.not_granted();
        if !missing.is_empty() {
            writeln!(out, "not granted: {}", clean(&missing.join(" ")))?;
        }
        writeln!(
            out,
            "refresh:     {}",
            if tokens.refresh_token.is_some() {
                "yes, the session renews silently"
            } else {
                "no refresh token: sign in again when the access token expires"
            }
        )?;
        Ok(())
    })
}
