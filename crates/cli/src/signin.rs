//! SMART App Launch for the CLI: the app of an `app-launch` profile, the token store its
//! sessions are kept in, and the session every call command uses once `fhirforge login` has
//! run.

use crate::exit::InvalidInput;
use crate::profile::{self, Auth, SecretSource, DEFAULT_APP_SCOPE};
use anyhow::Context;
use fhirforge_runtime::auth::app_launch::{
    AppLaunch, AppLaunchSession, ClientAuth, FileTokenStore, TokenStore,
};
use fhirforge_runtime::auth::{oauth_uris, ClientSecret, HttpContext, SmartConfiguration};
use std::sync::Arc;
use url::Url;

/// The store of signed-in sessions: `<config dir>/tokens/<profile>.json`, owner-only.
pub(crate) fn token_store() -> anyhow::Result<FileTokenStore> {
    Ok(FileTokenStore::new(profile::config_dir()?.join("tokens")))
}

/// The settings of an `app-launch` profile.
pub(crate) struct AppProfile<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) redirect_port: u16,
    secret: Option<&'a SecretSource>,
    private_key: Option<&'a SecretSource>,
    kid: Option<&'a str>,
}

impl<'a> AppProfile<'a> {
    /// The app-launch settings of `auth`, or an error naming the profile's kind.
    pub(crate) fn of(name: &str, auth: &'a Auth) -> anyhow::Result<Self> {
        match auth {
            Auth::AppLaunch {
                client_id,
                scope,
                redirect_port,
                secret,
                private_key,
                kid,
            } => Ok(Self {
                client_id,
                scope: scope.as_deref().unwrap_or(DEFAULT_APP_SCOPE),
                redirect_port: *redirect_port,
                secret: secret.as_ref(),
                private_key: private_key.as_ref(),
                kid: kid.as_deref(),
            }),
            other => Err(InvalidInput(format!(
                "profile {name:?} uses --auth {}; signing in needs an app-launch profile \
                 (`fhirforge profile add {name} --auth app-launch --client-id ID --base URL --force`)",
                other.kind()
            ))
            .into()),
        }
    }

    fn client_auth(&self) -> anyhow::Result<ClientAuth> {
        if let Some(source) = self.secret {
            return Ok(ClientAuth::SecretBasic(ClientSecret::new(
                source.load("client secret")?,
            )));
        }
        if let Some(source) = self.private_key {
            let key = source.signing_key(self.kid)?;
            return Ok(ClientAuth::PrivateKeyJwt(key));
        }
        Ok(ClientAuth::Public)
    }

    /// The app, with the server's SMART configuration read from
    /// `<base>/.well-known/smart-configuration`.
    pub(crate) async fn app(
        &self,
        http: &HttpContext,
        base: &str,
        insecure_http: bool,
    ) -> anyhow::Result<AppLaunch> {
        let url = Url::parse(base).with_context(|| format!("the base URL {base:?}"))?;
        let config = match SmartConfiguration::discover(http, &url).await {
            Ok(config) => config,
            // SMART App Launch 1.0 servers may declare the endpoints only in the capability
            // statement's `oauth-uris`.
            Err(discovery) => match declared_endpoints(base, insecure_http).await {
                Some(config) => config,
                None => {
                    return Err(anyhow::Error::new(discovery)
                        .context("reading the server's SMART configuration"))
                }
            },
        };
        let base = url;
        Ok(AppLaunch::new(self.client_id, base, config)
            .client_auth(self.client_auth()?)
            .scopes([self.scope])
            .allow_insecure_http(insecure_http))
    }
}

/// The endpoints in the server's capability statement (`oauth-uris`), when it declares an
/// authorize and a token endpoint.
async fn declared_endpoints(base: &str, insecure_http: bool) -> Option<SmartConfiguration> {
    let client = fhirforge_runtime::Client::builder(base)
        .allow_insecure_http(insecure_http)
        .build()
        .ok()?;
    let statement = client.capabilities().await.ok()?;
    let uris = oauth_uris(&statement)?;
    (uris.authorize.is_some() && uris.token.is_some()).then(|| SmartConfiguration::from(&uris))
}

/// The signed-in session of profile `name`, renewed silently and kept in the token store.
pub(crate) async fn session(
    name: Option<&str>,
    base: &str,
    auth: &Auth,
    insecure_http: bool,
) -> anyhow::Result<AppLaunchSession> {
    let Some(name) = name else {
        return Err(InvalidInput(
            "app-launch authentication needs a saved profile (--profile NAME)".into(),
        )
        .into());
    };
    let settings = AppProfile::of(name, auth)?;
    let store = token_store()?;
    let tokens = store.load(name)?.ok_or_else(|| {
        anyhow::anyhow!("not signed in with profile {name:?}: run `fhirforge login {name}`")
    })?;
    let http = HttpContext::new()?.allow_insecure_http(insecure_http);
    let app = settings.app(&http, base, insecure_http).await?;
    Ok(app.session_with_store(tokens, Arc::new(store), name)?)
}

/// A session that can no longer be renewed (its refresh token refused or expired) says how to
/// start a new one.
pub(crate) fn name_the_login_command(err: anyhow::Error, profile: Option<&str>) -> anyhow::Error {
    use fhirforge_runtime::auth::AuthError;
    let ended = err.chain().any(|cause| {
        let auth = cause
            .downcast_ref::<fhirforge_runtime::Error>()
            .and_then(|e| match e {
                fhirforge_runtime::Error::Auth(auth) => Some(&**auth),
                _ => None,
            })
            .or_else(|| cause.downcast_ref::<AuthError>());
        matches!(auth, Some(AuthError::SignInAgain { .. }))
    });
    match (ended, profile) {
        (true, Some(name)) => err.context(format!(
            "the session of profile {name:?} cannot be renewed: run `fhirforge login {name}`"
        )),
        _ => err,
    }
}
