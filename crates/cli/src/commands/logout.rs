//! `fhirforge logout`: end a signed-in session.

use crate::connect::runtime;
use crate::profile;
use crate::signin::{token_store, AppProfile};
use fhirforge_runtime::auth::app_launch::TokenStore as _;
use fhirforge_runtime::auth::HttpContext;

/// Sign out of an app-launch profile: revoke the tokens at the server and delete them.
///
/// The refresh token is revoked (RFC 7009) when the server's SMART configuration lists a
/// revocation endpoint, which ends the grant; the stored tokens are deleted in any case. A
/// failed revocation is reported (exit 1) after the local tokens are gone.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The app-launch profile
    profile: String,
}

/// Runs `fhirforge logout`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let saved = profile::load(&args.profile)?;
    let settings = AppProfile::of(&args.profile, &saved.auth)?;
    let store = token_store()?;
    let Some(tokens) = store.load(&args.profile)? else {
        println!("Not signed in with profile {}.", args.profile);
        return Ok(());
    };
    let revoked = runtime()?.block_on(async {
        let insecure = saved.insecure_http;
        let http = HttpContext::new()?.allow_insecure_http(insecure);
        let app = settings.app(&http, &saved.base_url, insecure).await?;
        Ok::<_, anyhow::Error>(app.revoke(&http, &tokens).await?)
    });
    store.delete(&args.profile)?;
    match revoked? {
        true => println!(
            "Signed out of profile {}: the server revoked the session and the stored tokens are deleted.",
            args.profile
        ),
        false => println!(
            "Signed out of profile {}: the stored tokens are deleted (the server lists no \
             revocation endpoint, so its tokens stay valid until they expire).",
            args.profile
        ),
    }
    Ok(())
}
