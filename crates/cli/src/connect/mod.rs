//! What every call command shares: building a runtime [`Client`] from `--base` or `--profile`
//! and the auth options, finding the server's capability statement for the checks, reading
//! bodies, printing results and server errors.

pub(crate) mod check;
pub(crate) mod output;
pub(crate) mod pages;
pub(crate) mod run;

use crate::exit::InvalidInput;
use crate::profile::{self, Auth, Profile, SecretMethod, SecretSource};
use crate::term::clean;
use anyhow::Context;
use check::Checker;
use fhirforge_parse::{Limits, LoadOptions, Parsed, SpecKind};
use fhirforge_runtime::auth::{
    AccessToken, BasicAuth, BearerToken, ClientCredentials, ClientSecret, Password,
};
use fhirforge_runtime::Client;
use output::Out;
use serde_json::Value;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Where to send the call and how to authenticate; shared by every call command.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConnectArgs {
    /// The FHIR base URL (http:// or https://)
    #[arg(long, value_name = "URL", conflicts_with = "profile")]
    pub(crate) base: Option<String>,

    /// A saved connection profile (see `fhirforge profile`)
    #[arg(long, short = 'p', value_name = "NAME")]
    pub(crate) profile: Option<String>,

    /// Check the call against this capability statement or OpenAPI document (a file) instead of
    /// the profile's pinned spec or the server's /metadata
    #[arg(long, value_name = "FILE")]
    pub(crate) spec: Option<PathBuf>,

    /// Send the call without checking resource type, interaction, search parameters or
    /// operation against the capability statement
    #[arg(long)]
    pub(crate) no_check: bool,

    /// With --base: send `Authorization: Bearer <token>` with the token read from this
    /// environment variable
    #[arg(long, value_name = "VAR", conflicts_with_all = ["profile", "basic_user"])]
    pub(crate) bearer_env: Option<String>,

    /// With --base: HTTP basic auth as this user; the password comes from --password-env
    #[arg(
        long,
        value_name = "USER",
        requires = "password_env",
        conflicts_with = "profile"
    )]
    pub(crate) basic_user: Option<String>,

    /// The environment variable holding the --basic-user password
    #[arg(long, value_name = "VAR", requires = "basic_user")]
    pub(crate) password_env: Option<String>,

    /// DANGEROUS: send credentials over plain http:// to a host other than this machine, and
    /// accept SMART discovery over http. Anyone on the network path can then read the password,
    /// token or client secret, or name their own token endpoint. Only for a trusted test network
    #[arg(long)]
    pub(crate) insecure_http: bool,
}

/// A ready connection: the client, the checks to run, the profile's default parameters.
#[derive(Debug)]
pub(crate) struct Connection {
    /// The runtime client.
    pub(crate) client: Client,
    /// The capability statement checks, unless `--no-check` (or no statement could be read).
    pub(crate) checker: Option<Checker>,
    /// Parameters the profile adds to every search.
    pub(crate) default_params: Vec<(String, String)>,
}

/// A current-thread async runtime for one command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Reads a spec with the parse crate's one loader ([`fhirforge_parse::load`]): a file or a
/// server's `<URL>/metadata`; `kind` `None` detects a file's kind from its content.
pub(crate) async fn load_statement(spec: &str, kind: Option<SpecKind>) -> anyhow::Result<Parsed> {
    let options = LoadOptions {
        kind,
        ..LoadOptions::default()
    };
    let loaded = fhirforge_parse::load(spec, &options).await;
    if fhirforge_parse::is_url(spec) {
        // The URL is not put in the context: it may carry credentials. The reader's errors name
        // it without user info or query.
        Ok(loaded.context("fetching the capability statement")?.parsed)
    } else {
        Ok(loaded.with_context(|| format!("reading {}", spec))?.parsed)
    }
}

fn secret(source: &SecretSource, what: &str) -> anyhow::Result<String> {
    source.load(what)
}

/// The runtime refuses credentials over plain http to another host and names its builder
/// option; a person at the CLI needs the flag instead. Recognised by type
/// ([`fhirforge_runtime::auth::PlainHttp`]), whichever of the client or the token provider
/// refused.
pub(crate) fn name_the_insecure_http_flag(err: anyhow::Error) -> anyhow::Error {
    let plain = err.chain().find_map(|cause| {
        cause
            .downcast_ref::<fhirforge_runtime::Error>()
            .and_then(fhirforge_runtime::Error::insecure_http)
            .or_else(|| {
                cause
                    .downcast_ref::<fhirforge_runtime::auth::AuthError>()
                    .and_then(fhirforge_runtime::auth::AuthError::insecure_http)
            })
    });
    match plain {
        Some(plain) => InvalidInput(format!(
            "{}; use https, or pass --insecure-http (or set insecure_http = true in the profile) for a trusted network",
            plain.reason()
        ))
        .into(),
        None => err,
    }
}

/// Builds the client for `profile` (or the bare `--base` options); `name` is the saved
/// profile's name, which keys a signed-in session's tokens.
async fn client_for(
    name: Option<&str>,
    base: &str,
    auth: &Auth,
    insecure_http: bool,
) -> anyhow::Result<Client> {
    let builder = Client::builder(base)
        .user_agent(concat!("fhirforge/", env!("CARGO_PKG_VERSION")))
        .allow_insecure_http(insecure_http);
    let builder = match auth {
        Auth::None => builder,
        Auth::Basic { user, password } => builder.auth(BasicAuth::new(
            user.clone(),
            Password::new(secret(password, "password")?),
        )?),
        Auth::Bearer { token } => builder.auth(BearerToken::new(AccessToken::new(secret(
            token,
            "bearer token",
        )?))?),
        Auth::BackendServices {
            client_id,
            token_url,
            scope,
            private_key,
            kid,
        } => {
            let key = private_key.signing_key(kid.as_deref())?;
            let mut cc = ClientCredentials::builder(client_id.clone())
                .private_key_jwt(key)
                .allow_insecure_http(insecure_http);
            cc = match token_url {
                Some(url) => cc.token_url(url),
                None => cc.discover(base),
            };
            if let Some(scope) = scope {
                cc = cc.scope(scope);
            }
            builder.auth(cc.build()?)
        }
        Auth::ClientSecret {
            client_id,
            token_url,
            scope,
            secret: source,
            method,
        } => {
            let value = ClientSecret::new(secret(source, "client secret")?);
            let mut cc =
                ClientCredentials::builder(client_id.clone()).allow_insecure_http(insecure_http);
            cc = match method {
                SecretMethod::Basic => cc.client_secret_basic(value),
                SecretMethod::Post => cc.client_secret_post(value),
            };
            cc = match token_url {
                Some(url) => cc.token_url(url),
                None => cc.discover(base),
            };
            if let Some(scope) = scope {
                cc = cc.scope(scope);
            }
            builder.auth(cc.build()?)
        }
        Auth::AppLaunch { .. } => {
            builder.auth(crate::signin::session(name, base, auth, insecure_http).await?)
        }
    };
    Ok(builder.build()?)
}

/// The profile to use: the saved one, or one made from `--base` and the auth options.
fn resolve(args: &ConnectArgs) -> anyhow::Result<Profile> {
    if let Some(name) = &args.profile {
        return profile::load(name);
    }
    let Some(base) = &args.base else {
        return Err(
            InvalidInput("no server given: use --base URL or --profile NAME".into()).into(),
        );
    };
    let auth = if let Some(var) = &args.bearer_env {
        Auth::Bearer {
            token: SecretSource {
                env: Some(var.clone()),
                file: None,
            },
        }
    } else if let (Some(user), Some(var)) = (&args.basic_user, &args.password_env) {
        Auth::Basic {
            user: user.clone(),
            password: SecretSource {
                env: Some(var.clone()),
                file: None,
            },
        }
    } else {
        Auth::None
    };
    Ok(Profile {
        base_url: base.clone(),
        spec: None,
        default_params: Default::default(),
        insecure_http: false,
        auth,
    })
}

/// The spec file the checks would read: `--spec`, else the profile's pinned spec; `None` means
/// the server's `/metadata`.
pub(crate) fn pinned_spec(args: &ConnectArgs) -> anyhow::Result<Option<PathBuf>> {
    if let Some(spec) = &args.spec {
        return Ok(Some(spec.clone()));
    }
    Ok(resolve(args)?.spec)
}

/// Connects: builds the client and, unless `--no-check` or `check` is false, reads the
/// capability statement (`--spec`, the profile's pinned spec, else `GET /metadata`). When the
/// server's statement cannot be read, a warning says the checks are skipped.
pub(crate) async fn connect(
    args: &ConnectArgs,
    out: &Out,
    check: bool,
) -> anyhow::Result<Connection> {
    let profile = resolve(args)?;
    // Either the flag or the profile's `insecure_http = true` opts in.
    let insecure_http = args.insecure_http || profile.insecure_http;
    let client = client_for(
        args.profile.as_deref(),
        &profile.base_url,
        &profile.auth,
        insecure_http,
    )
    .await?;
    let default_params = profile.default_params.into_iter().collect();
    let checker = if args.no_check || !check {
        None
    } else if let Some(spec) = args.spec.as_ref().or(profile.spec.as_ref()) {
        // A pinned spec may be a capability statement or an OpenAPI document, like `generate`'s.
        let parsed = load_statement(&spec.to_string_lossy(), None).await?;
        Some(Checker::new(
            parsed.connector,
            format!("{}", spec.display()),
        ))
    } else {
        match client.capabilities().await {
            Ok(value) => {
                let bytes = serde_json::to_vec(&value).context("re-encoding /metadata")?;
                match fhirforge_parse::read_capability_statement(&bytes, None, &Limits::default()) {
                    Ok(parsed) => Some(Checker::new(parsed.connector, "GET /metadata".into())),
                    Err(e) => {
                        out.info(&format!(
                            "warning: the server's /metadata is not a usable capability \
                             statement ({e}); checks skipped"
                        ));
                        None
                    }
                }
            }
            Err(e) => {
                out.info(&format!(
                    "warning: could not read the server's /metadata ({e}); checks skipped"
                ));
                None
            }
        }
    };
    Ok(Connection {
        client,
        checker,
        default_params,
    })
}

/// Reads a JSON body from a file, or stdin for `-`.
pub(crate) fn read_body(path: &Path) -> anyhow::Result<Value> {
    let (text, name) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the body from stdin")?;
        (text, "stdin".to_owned())
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the body from {}", path.display()))?;
        (text, path.display().to_string())
    };
    serde_json::from_str(&text).map_err(|e| {
        InvalidInput(format!(
            "the body in {name} is not JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
        .into()
    })
}

/// Clap's parser for a resource id argument: the FHIR id grammar, by the runtime's one check.
/// It is a usage error (exit code 2), found before anything is sent, because `.` and `..` would
/// vanish from the URL: `delete Patient ..` would send `DELETE [base]/Patient`, and `read
/// Patient .` would run a search.
pub(crate) fn id_arg(text: &str) -> Result<String, String> {
    fhir_id("id", text)
}

/// Clap's parser for a version id argument (`vread`, `--version`): the same grammar as ids.
pub(crate) fn version_id_arg(text: &str) -> Result<String, String> {
    fhir_id("version id", text)
}

fn fhir_id(what: &'static str, text: &str) -> Result<String, String> {
    match fhirforge_runtime::id::check(what, text) {
        Ok(()) => Ok(text.to_owned()),
        // The runtime's reason names the rule; clap already says which argument it was.
        Err(fhirforge_runtime::Error::InvalidInput { reason, .. }) => Err(reason),
        Err(other) => Err(other.to_string()),
    }
}

/// Splits `NAME=VALUE`.
pub(crate) fn split_pair<'a>(
    text: &'a str,
    what: &str,
) -> Result<(&'a str, &'a str), InvalidInput> {
    match text.split_once('=') {
        Some((n, v)) if !n.is_empty() => Ok((n, v)),
        _ => Err(InvalidInput(format!(
            "{what} {:?} is not NAME=VALUE",
            clean(text)
        ))),
    }
}

/// Prints a write's result: the returned resource (or OperationOutcome) on stdout, the status,
/// `Location` and `ETag` on stderr.
pub(crate) fn write_result(
    response: &fhirforge_runtime::WriteResponse,
    out: &mut Out,
) -> anyhow::Result<()> {
    let mut line = format!("{}", response.status());
    if let Some(location) = response.location() {
        line.push_str(&format!(", Location: {location}"));
    }
    if let Some(etag) = response.etag() {
        line.push_str(&format!(", ETag: {etag}"));
    }
    out.info(&line);
    if let Some(resource) = response.resource() {
        out.value(resource)?;
    }
    Ok(())
}

/// Options for `If-Match` on update and patch.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IfMatchArgs {
    /// Send `If-Match: W/"VERSION"`: the write fails (412) unless this is the current version
    #[arg(
        long,
        value_name = "VERSION",
        conflicts_with = "if_match_current",
        value_parser = version_id_arg
    )]
    pub(crate) version: Option<String>,

    /// Read the resource first and send `If-Match` with its current version, so a change made
    /// in between fails the write (412) instead of being overwritten
    #[arg(long)]
    pub(crate) if_match_current: bool,
}

impl IfMatchArgs {
    /// The write options: `If-Match` from `--version`, or from a read of the current version.
    pub(crate) async fn options(
        &self,
        client: &Client,
        ty: &str,
        id: &str,
    ) -> anyhow::Result<fhirforge_runtime::WriteOptions> {
        let options = fhirforge_runtime::WriteOptions::new();
        if let Some(v) = &self.version {
            return Ok(options.if_match_version(v));
        }
        if !self.if_match_current {
            return Ok(options);
        }
        let current = client.read(ty, id).await?;
        match current.pointer("/meta/versionId").and_then(Value::as_str) {
            Some(v) => Ok(options.if_match_version(v)),
            None => Err(anyhow::anyhow!(
                "--if-match-current: the server's {ty}/{id} has no meta.versionId to match"
            )),
        }
    }
}
