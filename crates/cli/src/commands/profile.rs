//! `fhirforge profile`: saved connection profiles.

use crate::exit::InvalidInput;
use crate::profile::{self, absolute, Auth, Profile, SecretMethod, SecretSource};
use fhirforge_model::redact;
use crate::term::clean;
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

/// Manage saved connection profiles (base URL, auth, default parameters, pinned spec).
///
/// Profiles are TOML files in the user's config directory (`~/.config/fhirforge/profiles` on
/// Linux; override the directory with FHIRFORGE_CONFIG_DIR). Secrets are never written to a
/// profile: it names the environment variable or file each secret is read from when a call is
/// made. Use a profile with `--profile NAME` on any call.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Save a profile
    #[command(after_help = crate::EXIT_CODES)]
    Add(Box<AddArgs>),
    /// List the saved profiles: name, auth kind, base URL
    #[command(after_help = crate::EXIT_CODES)]
    List,
    /// Show a profile, with where each secret comes from (never its value)
    #[command(after_help = crate::EXIT_CODES)]
    Show {
        /// The profile name
        name: String,
    },
    /// Delete a profile
    #[command(after_help = crate::EXIT_CODES)]
    Remove {
        /// The profile name
        name: String,
    },
}

/// The auth kinds of `profile add --auth`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AuthKind {
    /// No authentication
    None,
    /// HTTP basic: --user and --password-env or --password-file
    Basic,
    /// A bearer token from --token-env or --token-file
    Bearer,
    /// SMART Backend Services: --client-id, --private-key-file or --private-key-env, optional
    /// --token-url (else discovered), --scope, --kid
    BackendServices,
    /// Client credentials with a client secret: --client-id, --client-secret-env or
    /// --client-secret-file, optional --token-url, --scope, --secret-method
    ClientSecret,
    /// SMART App Launch, a person signs in with `fhirforge login`: --client-id, optional
    /// --scope, --redirect-port; a confidential app adds --client-secret-env/-file or
    /// --private-key-env/-file
    AppLaunch,
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The profile name (letters, digits, `_`, `.`, `-`)
    name: String,

    /// The FHIR base URL
    #[arg(long, value_name = "URL")]
    base: String,

    /// How to authenticate
    #[arg(long, value_enum, default_value_t = AuthKind::None)]
    auth: AuthKind,

    /// Basic auth user name
    #[arg(long)]
    user: Option<String>,

    /// Environment variable holding the basic auth password
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,

    /// File holding the basic auth password
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,

    /// Environment variable holding the bearer token
    #[arg(long, value_name = "VAR")]
    token_env: Option<String>,

    /// File holding the bearer token
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,

    /// OAuth2 client id
    #[arg(long)]
    client_id: Option<String>,

    /// Token endpoint (default: discovered from <base>/.well-known/smart-configuration)
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,

    /// Requested scopes, space-separated (`system/*.rs`)
    #[arg(long)]
    scope: Option<String>,

    /// File holding the private key (PEM or private JWK) for backend services
    #[arg(long, value_name = "FILE")]
    private_key_file: Option<PathBuf>,

    /// Environment variable holding the private key (PEM or private JWK)
    #[arg(long, value_name = "VAR")]
    private_key_env: Option<String>,

    /// Key id (`kid`) for the assertion header (default: the key's RFC 7638 thumbprint)
    #[arg(long)]
    kid: Option<String>,

    /// Environment variable holding the client secret
    #[arg(long, value_name = "VAR")]
    client_secret_env: Option<String>,

    /// File holding the client secret
    #[arg(long, value_name = "FILE")]
    client_secret_file: Option<PathBuf>,

    /// How the client secret is sent: basic (client_secret_basic) or post (client_secret_post)
    #[arg(long, value_enum, default_value_t = MethodArg::Basic)]
    secret_method: MethodArg,

    /// The 127.0.0.1 port the sign-in redirect comes back to, as registered with the EHR
    /// (app-launch; default 8976)
    #[arg(long, value_name = "PORT")]
    redirect_port: Option<u16>,

    /// A parameter added to every search, NAME=VALUE (repeatable; `ah-practice=...`)
    #[arg(long = "default-param", value_name = "NAME=VALUE")]
    default_params: Vec<String>,

    /// Pin a capability statement or OpenAPI document (a file): calls are checked against it
    /// instead of /metadata
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,

    /// DANGEROUS: save `insecure_http = true`, as if every call passed --insecure-http
    /// (credentials over plain http to another host). Only for a trusted test network
    #[arg(long)]
    insecure_http: bool,

    /// Replace an existing profile of the same name
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum MethodArg {
    /// client_secret_basic
    Basic,
    /// client_secret_post
    Post,
}

fn required(value: Option<String>, flag: &str, kind: &str) -> anyhow::Result<String> {
    value.ok_or_else(|| InvalidInput(format!("--auth {kind} needs {flag}")).into())
}

fn auth_from(args: &AddArgs) -> anyhow::Result<Auth> {
    let unused = |given: bool, flag: &str| -> anyhow::Result<()> {
        if given {
            Err(InvalidInput(format!("{flag} does not apply to --auth {:?}", args.auth)).into())
        } else {
            Ok(())
        }
    };
    Ok(match args.auth {
        AuthKind::None => Auth::None,
        AuthKind::Basic => Auth::Basic {
            user: required(args.user.clone(), "--user", "basic")?,
            password: SecretSource::from_options(
                "password",
                args.password_env.clone(),
                args.password_file.clone(),
            )?,
        },
        AuthKind::Bearer => Auth::Bearer {
            token: SecretSource::from_options(
                "token",
                args.token_env.clone(),
                args.token_file.clone(),
            )?,
        },
        AuthKind::BackendServices => {
            unused(args.client_secret_env.is_some(), "--client-secret-env")?;
            Auth::BackendServices {
                client_id: required(args.client_id.clone(), "--client-id", "backend-services")?,
                token_url: args.token_url.clone(),
                scope: args.scope.clone(),
                private_key: SecretSource::from_options(
                    "private-key",
                    args.private_key_env.clone(),
                    args.private_key_file.clone(),
                )?,
                kid: args.kid.clone(),
            }
        }
        AuthKind::ClientSecret => Auth::ClientSecret {
            client_id: required(args.client_id.clone(), "--client-id", "client-secret")?,
            token_url: args.token_url.clone(),
            scope: args.scope.clone(),
            secret: SecretSource::from_options(
                "client-secret",
                args.client_secret_env.clone(),
                args.client_secret_file.clone(),
            )?,
            method: match args.secret_method {
                MethodArg::Basic => SecretMethod::Basic,
                MethodArg::Post => SecretMethod::Post,
            },
        },
        AuthKind::AppLaunch => {
            unused(args.token_url.is_some(), "--token-url")?;
            let optional = |what: &str, env: &Option<String>, file: &Option<PathBuf>| {
                if env.is_none() && file.is_none() {
                    Ok(None)
                } else {
                    SecretSource::from_options(what, env.clone(), file.clone()).map(Some)
                }
            };
            let secret = optional(
                "client-secret",
                &args.client_secret_env,
                &args.client_secret_file,
            )?;
            let private_key = optional(
                "private-key",
                &args.private_key_env,
                &args.private_key_file,
            )?;
            if secret.is_some() && private_key.is_some() {
                return Err(InvalidInput(
                    "--auth app-launch takes a client secret or a private key, not both".into(),
                )
                .into());
            }
            Auth::AppLaunch {
                client_id: required(args.client_id.clone(), "--client-id", "app-launch")?,
                scope: args.scope.clone(),
                redirect_port: args
                    .redirect_port
                    .unwrap_or(profile::DEFAULT_REDIRECT_PORT),
                secret,
                private_key,
                kid: args.kid.clone(),
            }
        }
    })
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    profile::check_name(&args.name)?;
    if !fhirforge_parse::is_url(&args.base) {
        return Err(InvalidInput("--base must be an http:// or https:// URL".into()).into());
    }
    if redact::has_user_info(&args.base) {
        return Err(InvalidInput(
            "--base must not carry credentials (user:password@); use --auth basic with \
             --password-env or --password-file"
                .into(),
        )
        .into());
    }
    let mut default_params = BTreeMap::new();
    for pair in &args.default_params {
        let (n, v) = crate::connect::split_pair(pair, "--default-param")?;
        default_params.insert(n.to_owned(), v.to_owned());
    }
    let spec = match &args.spec {
        Some(path) => {
            if !path.is_file() {
                return Err(InvalidInput(format!(
                    "--spec {}: no such file",
                    path.display()
                ))
                .into());
            }
            Some(absolute(path)?)
        }
        None => None,
    };
    let profile = Profile {
        base_url: args.base.clone(),
        spec,
        default_params,
        insecure_http: args.insecure_http,
        auth: auth_from(&args)?,
    };
    let path = profile::save(&args.name, &profile, args.force)?;
    eprintln!("saved profile {:?} to {}", args.name, path.display());
    Ok(())
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to stdout"))
        }
        _ => Ok(()),
    }
}

/// The profile as TOML with the base URL's user info redacted, followed by where each secret
/// comes from.
fn show(name: &str) -> anyhow::Result<()> {
    let mut profile = profile::load(name)?;
    profile.base_url = redact::strip_user_info(&profile.base_url);
    let mut text = format!("# profile {name}\n");
    text.push_str(&toml::to_string_pretty(&profile).context("serializing the profile")?);
    let sources: Vec<(&str, &SecretSource)> = match &profile.auth {
        Auth::None => vec![],
        Auth::Basic { password, .. } => vec![("password", password)],
        Auth::Bearer { token } => vec![("bearer token", token)],
        Auth::BackendServices { private_key, .. } => vec![("private key", private_key)],
        Auth::ClientSecret { secret, .. } => vec![("client secret", secret)],
        Auth::AppLaunch {
            secret,
            private_key,
            ..
        } => secret
            .iter()
            .map(|s| ("client secret", s))
            .chain(private_key.iter().map(|k| ("private key", k)))
            .collect(),
    };
    for (what, source) in sources {
        text.push_str(&format!("# {what}: read from {}\n", source.describe()));
    }
    print(&clean_lines(&text))
}

/// Each line cleaned of control characters (a hand-edited profile could hold escape codes).
fn clean_lines(text: &str) -> String {
    text.lines().map(|l| clean(l) + "\n").collect()
}

fn list() -> anyhow::Result<()> {
    let rows: Vec<(String, String)> = profile::list()?
        .into_iter()
        .map(|(name, profile)| {
            let rest = match profile {
                Ok(p) => format!("{:<16}  {}", p.auth.kind(), redact::strip_user_info(&p.base_url)),
                Err(e) => format!("(unreadable: {e})"),
            };
            (clean(&name), clean(&rest))
        })
        .collect();
    let width = rows.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0);
    let text: String = rows
        .iter()
        .map(|(name, rest)| format!("{name:<width$}  {rest}\n"))
        .collect();
    print(&text)
}

/// Runs `fhirforge profile`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    match args.action {
        Action::Add(add_args) => add(*add_args),
        Action::List => list(),
        Action::Show { name } => show(&name),
        Action::Remove { name } => {
            // Loading first gives the "did you mean" hint for a mistyped name.
            profile::load(&name).map(|_| ()).or_else(|e| {
                if e.downcast_ref::<InvalidInput>()
                    .is_some_and(|i| i.0.starts_with("no profile"))
                {
                    Err(e)
                } else {
                    Ok(())
                }
            })?;
            profile::remove(&name)?;
            eprintln!("removed profile {name:?}");
            Ok(())
        }
    }
}
