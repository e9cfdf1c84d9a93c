//! Where a signed-in user's tokens are kept between runs: a [`TokenStore`], with a file store
//! (one file per key, owner-only, written atomically) and, behind the `keyring` feature, the
//! operating system's keyring.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::auth::oauth::TokenResponse;
use crate::auth::{AccessToken, AuthError, RefreshToken};

/// Largest token file read (tokens are a few kilobytes; a larger file is not ours).
const MAX_FILE: u64 = 256 * 1024;

/// A signed-in session's tokens and launch context, as stored. `Debug` shows no token.
#[derive(Clone)]
pub struct StoredTokens {
    /// The access token.
    pub access_token: AccessToken,
    /// When the access token expires, when the server said.
    pub expires_at: Option<SystemTime>,
    /// The refresh token, with `offline_access` or `online_access`.
    pub refresh_token: Option<RefreshToken>,
    /// The scopes granted.
    pub scope: Option<String>,
    /// The patient in context.
    pub patient: Option<String>,
    /// The encounter in context.
    pub encounter: Option<String>,
    /// The signed-in user (a FHIR resource URL), from the verified id_token or the response.
    pub fhir_user: Option<String>,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_token", &self.access_token)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("patient", &self.patient)
            .field("encounter", &self.encounter)
            .field("fhir_user", &self.fhir_user)
            .finish()
    }
}

/// The file format (version 1).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OnDisk {
    version: u32,
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patient: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encounter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fhir_user: Option<String>,
}

impl StoredTokens {
    /// The tokens as JSON text (what a store keeps).
    ///
    /// # Security Warning
    /// The text holds the tokens: keep it where only the user can read it.
    pub fn to_json(&self) -> String {
        let disk = OnDisk {
            version: 1,
            access_token: self.access_token.expose_secret().to_owned(),
            expires_at: self
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs()),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            scope: self.scope.clone(),
            patient: self.patient.clone(),
            encounter: self.encounter.clone(),
            fhir_user: self.fhir_user.clone(),
        };
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string_pretty(&disk).unwrap_or_default()
    }

    /// Reads [`to_json`](Self::to_json)'s text. The error never quotes the text.
    ///
    /// # Errors
    /// [`AuthError::TokenStore`] when it is not a version-1 token document.
    pub fn from_json(text: &str) -> Result<Self, AuthError> {
        let disk: OnDisk = serde_json::from_str(text).map_err(|e| {
            AuthError::TokenStore(format!(
                "the stored tokens are unreadable (line {}, column {}); sign in again",
                e.line(),
                e.column()
            ))
        })?;
        if disk.version != 1 {
            return Err(AuthError::TokenStore(format!(
                "the stored tokens are format version {}, this build reads version 1; sign in again",
                disk.version
            )));
        }
        Ok(Self {
            access_token: AccessToken::new(disk.access_token),
            expires_at: disk.expires_at.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
            refresh_token: disk.refresh_token.map(RefreshToken::new),
            scope: disk.scope,
            patient: disk.patient,
            encounter: disk.encounter,
            fhir_user: disk.fhir_user,
        })
    }

    /// The tokens as the provider's state, for `now`.
    pub(super) fn as_response(&self, now: SystemTime) -> TokenResponse {
        TokenResponse {
            access_token: self.access_token.clone(),
            // An expired token gets zero: renewed on first use.
            expires_in: Some(self.expires_at.map_or(Duration::ZERO, |at| {
                at.duration_since(now).unwrap_or_default()
            })),
            refresh_token: self.refresh_token.clone(),
            scope: self.scope.clone(),
        }
    }

    /// These tokens after a refresh: the new access token, the rotated refresh token (or the
    /// old one when the server did not send a new one), the launch context kept.
    pub(super) fn renewed(&self, response: &TokenResponse, sent_at: SystemTime) -> Self {
        Self {
            access_token: response.access_token.clone(),
            expires_at: response.expires_in.and_then(|d| sent_at.checked_add(d)),
            refresh_token: response
                .refresh_token
                .clone()
                .or_else(|| self.refresh_token.clone()),
            scope: response.scope.clone().or_else(|| self.scope.clone()),
            ..self.clone()
        }
    }
}

/// The answer to [`TokenStore::try_lock`].
#[derive(Debug)]
pub enum TryLock {
    /// The lock is held until this value is dropped.
    Held(Box<dyn std::any::Any + Send>),
    /// Another holder (another process) has it now.
    Busy,
    /// This store has no locks: sessions sharing it may both refresh.
    Unsupported,
}

/// Keeps a user's tokens between runs, under a key (a profile name).
pub trait TokenStore: fmt::Debug + Send + Sync + 'static {
    /// Tries to take the exclusive lock on `key`'s tokens, which a session holds while it
    /// renews them: two processes refreshing with the same rotating refresh token would look
    /// like a replay to the server, which then revokes the grant. Default: no locks.
    ///
    /// # Errors
    /// [`AuthError::TokenStore`] when the lock cannot be asked for.
    fn try_lock(&self, key: &str) -> Result<TryLock, AuthError> {
        let _ = key;
        Ok(TryLock::Unsupported)
    }

    /// The tokens stored under `key`, if any.
    ///
    /// # Errors
    /// [`AuthError::TokenStore`] when they cannot be read or are not safe to use.
    fn load(&self, key: &str) -> Result<Option<StoredTokens>, AuthError>;

    /// Stores `tokens` under `key`, replacing what was there.
    ///
    /// # Errors
    /// [`AuthError::TokenStore`] when they cannot be written.
    fn save(&self, key: &str, tokens: &StoredTokens) -> Result<(), AuthError>;

    /// Deletes the tokens under `key`; whether there were any.
    ///
    /// # Errors
    /// [`AuthError::TokenStore`] when they cannot be deleted.
    fn delete(&self, key: &str) -> Result<bool, AuthError>;
}

/// One JSON file per key in a directory: `<dir>/<key>.json`, mode 0600, written to a temporary
/// file and renamed (a crash never leaves half a file), and refused when group or others can
/// read it or when it is a symbolic link.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    dir: PathBuf,
}

fn check_key(key: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::TokenStore(
            "a token store key is 1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit"
                .into(),
        ))
    }
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> AuthError {
    AuthError::TokenStore(format!("{what} {}: {e}", path.display()))
}

impl FileTokenStore {
    /// A store in `dir` (created, owner-only, on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file that holds `key`'s tokens.
    ///
    /// # Errors
    /// [`AuthError::TokenStore`] for a key that is not a safe file name.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, AuthError> {
        check_key(key)?;
        Ok(self.dir.join(format!("{key}.json")))
    }
}

impl TokenStore for FileTokenStore {
    /// An advisory lock on `<dir>/.<key>.lock` (the file stays; removing lock files races).
    fn try_lock(&self, key: &str) -> Result<TryLock, AuthError> {
        check_key(key)?;
        create_private_dir(&self.dir)?;
        let path = self.dir.join(format!(".{key}.lock"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| io_error("cannot open", &path, &e))?;
        match file.try_lock() {
            Ok(()) => Ok(TryLock::Held(Box::new(file))),
            Err(std::fs::TryLockError::WouldBlock) => Ok(TryLock::Busy),
            Err(std::fs::TryLockError::Error(e)) => Err(io_error("cannot lock", &path, &e)),
        }
    }

    fn load(&self, key: &str) -> Result<Option<StoredTokens>, AuthError> {
        let path = self.path_of(key)?;
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot read", &path, &e)),
        };
        if !meta.file_type().is_file() {
            return Err(AuthError::TokenStore(format!(
                "{} is not a regular file (a symbolic link?); remove it and sign in again",
                path.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(AuthError::TokenStore(format!(
                    "{} can be read by other users (mode {mode:o}); it holds tokens: remove it and sign in again, or `chmod 600` it",
                    path.display()
                )));
            }
        }
        if meta.len() > MAX_FILE {
            return Err(AuthError::TokenStore(format!(
                "{} is larger than {MAX_FILE} bytes: not a token file",
                path.display()
            )));
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| io_error("cannot read", &path, &e))?;
        StoredTokens::from_json(&text).map(Some)
    }

    fn save(&self, key: &str, tokens: &StoredTokens) -> Result<(), AuthError> {
        let path = self.path_of(key)?;
        create_private_dir(&self.dir)?;
        let tmp = self
            .dir
            .join(format!(".{key}.json.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        // A stale temporary file from a crashed run is ours to replace.
        let _ = std::fs::remove_file(&tmp);
        let written = options.open(&tmp).and_then(|mut file| {
            file.write_all(tokens.to_json().as_bytes())?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("cannot write", &tmp, &e));
        }
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_error("cannot replace", &path, &e)
        })
    }

    fn delete(&self, key: &str) -> Result<bool, AuthError> {
        let path = self.path_of(key)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("cannot remove", &path, &e)),
        }
    }
}

/// The operating system's keyring as a [`TokenStore`] (feature `keyring`): one credential per
/// key under `service`, in the default store the application set with
/// `keyring_core::set_default_store` (a platform store such as the macOS Keychain, the Windows
/// Credential Manager or the Secret Service).
#[cfg(feature = "keyring")]
#[derive(Debug, Clone)]
pub struct KeyringTokenStore {
    service: String,
}

#[cfg(feature = "keyring")]
impl KeyringTokenStore {
    /// A store whose credentials are named `service` (`fhirforge`) and the key.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring_core::Entry, AuthError> {
        check_key(key)?;
        keyring_core::Entry::new(&self.service, key).map_err(keyring_error)
    }
}

/// A keyring error without the data some variants carry (a stored value that did not decode).
#[cfg(feature = "keyring")]
fn keyring_error(e: keyring_core::Error) -> AuthError {
    use keyring_core::Error;
    let why = match &e {
        Error::BadEncoding(_) | Error::BadDataFormat(..) => {
            "the stored value is not a token document".to_owned()
        }
        Error::NoStorageAccess(_) => "the keyring is locked or not accessible".to_owned(),
        Error::NoDefaultStore => {
            "no keyring store is set (keyring_core::set_default_store)".to_owned()
        }
        _ => e.to_string(),
    };
    AuthError::TokenStore(format!("keyring: {why}"))
}

#[cfg(feature = "keyring")]
impl TokenStore for KeyringTokenStore {
    fn load(&self, key: &str) -> Result<Option<StoredTokens>, AuthError> {
        match self.entry(key)?.get_password() {
            Ok(text) => StoredTokens::from_json(&text).map(Some),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn save(&self, key: &str, tokens: &StoredTokens) -> Result<(), AuthError> {
        self.entry(key)?
            .set_password(&tokens.to_json())
            .map_err(keyring_error)
    }

    fn delete(&self, key: &str) -> Result<bool, AuthError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), AuthError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error("cannot create", dir, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> StoredTokens {
        StoredTokens {
            access_token: AccessToken::new("at-secret-value"),
            expires_at: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
            refresh_token: Some(RefreshToken::new("rt-secret-value")),
            scope: Some("openid patient/*.rs".into()),
            patient: Some("123".into()),
            encounter: None,
            fhir_user: Some("Practitioner/7".into()),
        }
    }

    #[test]
    fn the_file_store_round_trips_owner_only_and_deletes() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FileTokenStore::new(dir.path().join("tokens"));
        assert!(store.load("epic").expect("empty").is_none());
        store.save("epic", &tokens()).expect("save");
        let back = store.load("epic").expect("load").expect("present");
        assert_eq!(back.access_token.expose_secret(), "at-secret-value");
        assert_eq!(back.patient.as_deref(), Some("123"));
        assert_eq!(back.expires_at, tokens().expires_at);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let path = store.path_of("epic").expect("path");
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.path().join("tokens"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        // Replacing leaves no temporary file behind.
        store.save("epic", &tokens()).expect("save again");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("tokens"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("epic.json")]);
        assert!(store.delete("epic").expect("delete"));
        assert!(!store.delete("epic").expect("delete again"));
        assert!(store.load("epic").expect("gone").is_none());
        assert!(!format!("{:?}", tokens()).contains("secret-value"));
    }

    /// The keyring store against keyring-core's in-memory mock store (the platform stores need
    /// a desktop session).
    #[cfg(feature = "keyring")]
    #[test]
    fn the_keyring_store_round_trips_and_deletes() {
        keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"));
        let store = KeyringTokenStore::new("fhirforge-test");
        assert!(store.load("epic").expect("empty").is_none());
        store.save("epic", &tokens()).expect("save");
        let back = store.load("epic").expect("load").expect("present");
        assert_eq!(back.access_token.expose_secret(), "at-secret-value");
        assert_eq!(back.patient.as_deref(), Some("123"));
        assert!(store.delete("epic").expect("delete"));
        assert!(!store.delete("epic").expect("delete again"));
        assert!(store.load("epic").expect("gone").is_none());
        assert!(store.save("../x", &tokens()).is_err());
        keyring_core::unset_default_store();
    }

    #[test]
    fn the_file_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FileTokenStore::new(dir.path());
        let held = store.try_lock("epic").expect("lock");
        assert!(matches!(held, TryLock::Held(_)));
        // Another open file description (as another process would have) finds it busy.
        assert!(matches!(
            store.try_lock("epic").expect("try"),
            TryLock::Busy
        ));
        assert!(matches!(
            store.try_lock("other").expect("try"),
            TryLock::Held(_)
        ));
        drop(held);
        assert!(matches!(
            store.try_lock("epic").expect("again"),
            TryLock::Held(_)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_readable_file_a_symlink_or_a_bad_key_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tmp");
        let store = FileTokenStore::new(dir.path());
        store.save("p", &tokens()).expect("save");
        let path = store.path_of("p").expect("path");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let e = store.load("p").expect_err("world-readable");
        assert!(e.to_string().contains("read by other users"), "{e}");
        assert!(!e.to_string().contains("secret-value"), "{e}");

        let target = dir.path().join("elsewhere.json");
        std::fs::write(&target, tokens().to_json()).expect("write");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::symlink(&target, dir.path().join("link.json")).expect("symlink");
        let e = store.load("link").expect_err("symlink");
        assert!(e.to_string().contains("not a regular file"), "{e}");

        for key in ["../escape", "", ".hidden", "a/b"] {
            assert!(store.save(key, &tokens()).is_err(), "{key:?}");
        }
        std::fs::write(
            dir.path().join("junk.json"),
            "{\"access_token\": \"at-secret-value\"",
        )
        .expect("write");
        std::fs::set_permissions(
            dir.path().join("junk.json"),
            std::fs::Permissions::from_mode(0o600),
        )
        .expect("chmod");
        let e = store.load("junk").expect_err("truncated");
        assert!(!e.to_string().contains("secret-value"), "{e}");
    }
}
