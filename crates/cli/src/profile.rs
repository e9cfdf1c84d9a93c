//! Saved connection profiles: `<config dir>/profiles/<name>.toml`.
//!
//! The config directory is `FHIRFORGE_CONFIG_DIR` when set (tests use a temporary directory),
//! else the platform's user config directory for fhirforge (`directories` crate:
//! `~/.config/fhirforge` on Linux).
//!
//! A profile holds the base URL, the auth kind and its settings, default search parameters and an
//! optional pinned capability statement. **Secrets are never written**: a profile names where a
//! secret comes from (an environment variable or a file), and reading a profile that holds any
//! field not defined here (such as a literal `password`) fails, so a secret pasted into a
//! profile is refused rather than used.

use crate::exit::InvalidInput;
use anyhow::Context;
use fhirforge_codegen::{write_atomic, FileMode};
use fhirforge_runtime::auth::keys::SigningKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variable overriding the config directory.
pub(crate) const CONFIG_DIR_ENV: &str = "FHIRFORGE_CONFIG_DIR";

/// One saved connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    /// The FHIR base URL.
    pub(crate) base_url: String,
    /// A pinned capability statement file; calls are checked against it instead of `/metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) spec: Option<PathBuf>,
    /// Parameters added to every search (athenahealth's `ah-practice`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) default_params: BTreeMap<String, String>,
    /// Send credentials over plain http to a host other than this machine (the call commands'
    /// `--insecure-http`, saved): only for a trusted test network.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) insecure_http: bool,
    /// How requests are authenticated.
    #[serde(default)]
    pub(crate) auth: Auth,
}

/// The auth kind and its settings (never the secret itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum Auth {
    /// No `Authorization` header.
    #[default]
    None,
    /// HTTP basic.
    Basic {
        /// The user name.
        user: String,
        /// Where the password comes from.
        password: SecretSource,
    },
    /// A bearer token obtained elsewhere.
    Bearer {
        /// Where the token comes from.
        token: SecretSource,
    },
    /// SMART Backend Services: client credentials with a `private_key_jwt` assertion.
    BackendServices {
        /// The registered client id.
        client_id: String,
        /// The token endpoint; discovered from `.well-known/smart-configuration` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_url: Option<String>,
        /// Requested scopes (space-separated).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// Where the private key (PEM or private JWK) comes from.
        private_key: SecretSource,
        /// The key id (`kid`) to put in the assertion header; default: the RFC 7638 thumbprint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kid: Option<String>,
    },
    /// Client credentials with a client secret.
    ClientSecret {
        /// The registered client id.
        client_id: String,
        /// The token endpoint; discovered from `.well-known/smart-configuration` when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_url: Option<String>,
        /// Requested scopes (space-separated).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// Where the client secret comes from.
        secret: SecretSource,
        /// `basic` (client_secret_basic, default) or `post` (client_secret_post).
        #[serde(default)]
        method: SecretMethod,
    },
    /// SMART App Launch: a person signs in with `fhirforge login`; the tokens are kept in the
    /// token store (`<config dir>/tokens/<profile>.json`, owner-only), never in the profile.
    AppLaunch {
        /// The registered client id.
        client_id: String,
        /// Requested scopes (space-separated); default [`DEFAULT_APP_SCOPE`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// The 127.0.0.1 port the sign-in comes back to (`http://127.0.0.1:<port>/callback`,
        /// as registered with the EHR); default [`DEFAULT_REDIRECT_PORT`].
        #[serde(default = "default_redirect_port")]
        redirect_port: u16,
        /// A confidential app's client secret (`client_secret_basic`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<SecretSource>,
        /// A confidential app's private key (`private_key_jwt`, PEM or private JWK).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        private_key: Option<SecretSource>,
        /// The key id for the assertion header; default: the RFC 7638 thumbprint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kid: Option<String>,
    },
}

/// The scopes an app-launch profile asks for unless it says otherwise: the user, the patient
/// in context, read access to that patient's data, and a refresh token.
pub(crate) const DEFAULT_APP_SCOPE: &str =
    "openid fhirUser launch/patient patient/*.rs offline_access";

/// The loopback port of the sign-in redirect unless the profile says otherwise.
pub(crate) const DEFAULT_REDIRECT_PORT: u16 = 8976;

fn default_redirect_port() -> u16 {
    DEFAULT_REDIRECT_PORT
}

impl Auth {
    /// The kind as written in the profile.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Basic { .. } => "basic",
            Auth::Bearer { .. } => "bearer",
            Auth::BackendServices { .. } => "backend-services",
            Auth::ClientSecret { .. } => "client-secret",
            Auth::AppLaunch { .. } => "app-launch",
        }
    }
}

/// How a client secret is sent to the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SecretMethod {
    /// `client_secret_basic`.
    #[default]
    Basic,
    /// `client_secret_post`.
    Post,
}

/// Where a secret comes from: exactly one of an environment variable or a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretSource {
    /// The environment variable holding the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) env: Option<String>,
    /// The file holding the secret (trailing line breaks are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<PathBuf>,
}

impl SecretSource {
    /// A source from the two command-line options; exactly one must be given.
    pub(crate) fn from_options(
        what: &str,
        env: Option<String>,
        file: Option<PathBuf>,
    ) -> anyhow::Result<Self> {
        match (env, file) {
            (Some(env), None) => Ok(Self {
                env: Some(env),
                file: None,
            }),
            (None, Some(file)) => Ok(Self {
                env: None,
                file: Some(absolute(&file)?),
            }),
            _ => Err(InvalidInput(format!(
                "the {what} needs exactly one of --{what}-env VAR or --{what}-file FILE \
                 (secrets are never stored in a profile)"
            ))
            .into()),
        }
    }

    /// Where the secret comes from, for `profile show` (never the value): `env FOO (set)`.
    pub(crate) fn describe(&self) -> String {
        match (&self.env, &self.file) {
            (Some(var), _) => {
                let state = if std::env::var_os(var).is_some() {
                    "set"
                } else {
                    "not set"
                };
                format!("environment variable {var} ({state})")
            }
            (None, Some(file)) => {
                let state = if file.is_file() { "exists" } else { "missing" };
                format!("file {} ({state})", file.display())
            }
            (None, None) => "nowhere (the profile names no source)".to_owned(),
        }
    }

    /// Reads the secret. `what` names it in errors, which never contain the value.
    pub(crate) fn load(&self, what: &str) -> anyhow::Result<String> {
        match (&self.env, &self.file) {
            (Some(var), None) => std::env::var(var).map_err(|_| {
                InvalidInput(format!(
                    "the environment variable {var} (the {what}) is not set or not UTF-8"
                ))
                .into()
            }),
            (None, Some(file)) => {
                let text = std::fs::read_to_string(file)
                    .with_context(|| format!("reading the {what} from {}", file.display()))?;
                Ok(text.trim_end_matches(['\r', '\n']).to_owned())
            }
            _ => Err(InvalidInput(format!(
                "the profile must name exactly one of `env` or `file` for the {what}"
            ))
            .into()),
        }
    }

    /// Reads the private key this source names (PEM or private JWK), with `kid` in its
    /// assertions when given (else the RFC 7638 thumbprint).
    pub(crate) fn signing_key(&self, kid: Option<&str>) -> anyhow::Result<SigningKey> {
        let key = match (&self.env, &self.file) {
            (Some(var), None) => SigningKey::from_env(var)?,
            (None, Some(file)) => SigningKey::from_pem_file(file)?,
            _ => {
                return Err(InvalidInput(
                    "the profile must name exactly one of `env` or `file` for the private key"
                        .into(),
                )
                .into())
            }
        };
        Ok(match kid {
            Some(kid) => key.with_kid(kid),
            None => key,
        })
    }
}

/// `path` made absolute against the current directory (profiles are used from anywhere).
pub(crate) fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// The config directory: `FHIRFORGE_CONFIG_DIR`, else the user's config dir for fhirforge.
pub(crate) fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "fhirforge", "fhirforge")
        .map(|d| d.config_dir().to_path_buf())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no home directory to keep profiles in; set {CONFIG_DIR_ENV} to a directory"
            )
        })
}

fn profiles_dir() -> anyhow::Result<PathBuf> {
    Ok(config_dir()?.join("profiles"))
}

/// Checks a profile name: 1 to 64 of `[A-Za-z0-9_.-]`, starting with a letter or digit (it
/// becomes a file name).
pub(crate) fn check_name(name: &str) -> Result<(), InvalidInput> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(InvalidInput(format!(
            "invalid profile name {:?}: use 1 to 64 letters, digits, `_`, `.` or `-`, starting \
             with a letter or digit",
            crate::term::clean(name)
        )))
    }
}

fn path_of(name: &str) -> anyhow::Result<PathBuf> {
    check_name(name)?;
    Ok(profiles_dir()?.join(format!("{name}.toml")))
}

/// Loads profile `name`.
pub(crate) fn load(name: &str) -> anyhow::Result<Profile> {
    let path = path_of(name)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let known = list()?;
            let hint = crate::connect::check::did_you_mean(name, known.iter().map(|(n, _)| n))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(InvalidInput(format!(
                "no profile named {name:?} (see `fhirforge profile list`){hint}"
            ))
            .into());
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
    };
    parse(&text).with_context(|| format!("reading profile {name:?} ({})", path.display()))
}

/// Parses profile text. The error names the line and the problem but never quotes the text: a
/// secret pasted into the file must not be echoed.
pub(crate) fn parse(text: &str) -> Result<Profile, InvalidInput> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let mut msg = format!("invalid profile{at}: {}", describe(e.message()));
        if e.message().contains("unknown field") || e.message().contains("SecretSource") {
            msg.push_str(
                "; secrets are never stored in a profile: name an environment variable \
                 (`env`) or a file (`file`) instead",
            );
        }
        InvalidInput(crate::term::clean(&msg))
    })
}

/// A TOML/serde error message without any value from the file: serde quotes the offending
/// value (`invalid type: string "hunter2", expected ...`), which may be a pasted secret.
fn describe(message: &str) -> String {
    let message = message.trim();
    for kind in ["invalid type", "invalid value", "invalid length"] {
        if message.starts_with(kind) {
            return match message.rsplit_once(", expected ") {
                Some((_, expected)) => format!("{kind}, expected {expected}"),
                None => kind.to_owned(),
            };
        }
    }
    // Anything else (syntax errors, unknown or missing fields) names keys, not values; quoted
    // text is dropped anyway.
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// Writes profile `name`; refuses to replace an existing one unless `replace`.
pub(crate) fn save(name: &str, profile: &Profile, replace: bool) -> anyhow::Result<PathBuf> {
    let path = path_of(name)?;
    if !replace && path.exists() {
        return Err(InvalidInput(format!(
            "profile {name:?} exists; use --force to replace it"
        ))
        .into());
    }
    let dir = profiles_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = toml::to_string_pretty(profile).context("serializing the profile")?;
    // Atomic, owner-only, and never through a symbolic link planted at the profile's path: a
    // profile says where the secrets are (environment variables, key files).
    write_atomic(&path, text.as_bytes(), FileMode::Private)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Removes profile `name`.
pub(crate) fn remove(name: &str) -> anyhow::Result<()> {
    let path = path_of(name)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(InvalidInput(format!("no profile named {name:?}")).into())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("removing {}", path.display()))),
    }
}

/// Every profile name with its profile (or the reason it cannot be read), sorted by name.
pub(crate) fn list() -> anyhow::Result<Vec<(String, Result<Profile, String>)>> {
    let dir = profiles_dir()?;
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("listing {}", dir.display()))),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".toml"))
        else {
            continue;
        };
        if check_name(name).is_err() {
            continue;
        }
        let profile = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| parse(&text).map_err(|e| e.to_string()));
        out.push((name.to_owned(), profile));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_never_accepts_a_literal_secret() {
        let profile = Profile {
            base_url: "https://ehr.example/fhir".into(),
            spec: None,
            default_params: [("ah-practice".to_owned(), "Organization/a-1".to_owned())].into(),
            insecure_http: true,
            auth: Auth::Basic {
                user: "u".into(),
                password: SecretSource {
                    env: Some("PW".into()),
                    file: None,
                },
            },
        };
        let text = toml::to_string_pretty(&profile).expect("serialize");
        assert_eq!(parse(&text).expect("parse"), profile);

        let pasted = "base_url = \"https://x\"\n[auth]\nkind = \"basic\"\nuser = \"u\"\n\
                      password = \"hunter2\"\n";
        let err = parse(pasted)
            .expect_err("a literal password is refused")
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("(line "), "{err}");
        assert!(err.contains("secrets are never stored"), "{err}");
        let unknown = "base_url = \"https://x\"\nclient_secret = \"s3cret\"\n";
        let err = parse(unknown).expect_err("unknown field").to_string();
        assert!(
            !err.contains("s3cret") && err.contains("client_secret"),
            "{err}"
        );
        let broken = "base_url = \"https://x\nsecret";
        let err = parse(broken).expect_err("syntax").to_string();
        assert!(!err.contains("secret\""), "{err}");
    }

    #[test]
    fn names_and_urls() {
        assert!(check_name("epic-sandbox_1.r4").is_ok());
        for bad in ["", "../x", ".hidden", "a/b", "a b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
