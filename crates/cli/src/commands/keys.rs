//! `fhirforge keys`: generate a key pair for SMART Backend Services client assertions.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fhirforge_runtime::auth::keys::{self, Algorithm};

/// Generate an RS384 or ES384 key pair for SMART Backend Services (private_key_jwt).
///
/// Writes the private key (PKCS#8 PEM) with mode 0600 and never overwrites an existing file.
/// Prints the public JWK Set, whose `kid` is the key's RFC 7638 thumbprint (the same key always
/// gets the same kid): register it with the EHR, or host it at the JWK Set URL (jku) you
/// configure.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Signing algorithm: RS384 (2048-bit RSA) or ES384 (P-384)
    #[arg(long, value_enum, default_value_t = AlgArg::Es384)]
    alg: AlgArg,

    /// Where to write the private key (refused if the file exists)
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,

    /// Also write the public JWK Set to this file (refused if the file exists)
    #[arg(long, value_name = "FILE")]
    jwks_out: Option<PathBuf>,
}

/// The algorithm as typed on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum AlgArg {
    /// RSASSA-PKCS1-v1_5 with SHA-384 (2048-bit RSA key)
    #[value(name = "RS384", alias = "rs384")]
    Rs384,
    /// ECDSA on P-384 with SHA-384
    #[value(name = "ES384", alias = "es384")]
    Es384,
}

impl From<AlgArg> for Algorithm {
    fn from(arg: AlgArg) -> Self {
        match arg {
            AlgArg::Rs384 => Algorithm::Rs384,
            AlgArg::Es384 => Algorithm::Es384,
        }
    }
}

fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "creating {} (an existing file is never overwritten)",
                path.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// Runs `fhirforge keys`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    // Refuse before generating anything, so a typo costs nothing.
    for path in std::iter::once(&args.out).chain(args.jwks_out.as_ref()) {
        if path.exists() {
            return Err(crate::exit::InvalidInput(format!(
                "{} exists already: refusing to overwrite it",
                path.display()
            ))
            .into());
        }
    }
    let pair = keys::generate(args.alg.into()).context("generating the key pair")?;
    let jwks = serde_json::to_string_pretty(&pair.public_jwks).context("encoding the JWK Set")?;
    keys::write_private_key(&args.out, &pair.private_key_pem).context("writing the private key")?;
    if let Some(path) = &args.jwks_out {
        write_new(path, &format!("{jwks}\n"))?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{jwks}").context("writing to stdout")?;
    eprintln!(
        "{} private key written to {} (mode 0600), kid {}. Register the JWK Set above with the EHR or host it at your jku URL.",
        pair.algorithm,
        args.out.display(),
        pair.kid
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhirforge_runtime::auth::keys::SigningKey;

    #[test]
    fn writes_a_0600_key_and_jwks_then_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("key.pem");
        let jwks_out = dir.path().join("jwks.json");
        run(Args {
            alg: AlgArg::Es384,
            out: out.clone(),
            jwks_out: Some(jwks_out.clone()),
        })
        .unwrap();
        let key = SigningKey::from_pem_file(&out).unwrap();
        let jwks: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&jwks_out).unwrap()).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], key.kid());
        assert_eq!(jwks["keys"][0]["alg"], "ES384");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let before = std::fs::read(&out).unwrap();
        let err = run(Args {
            alg: AlgArg::Rs384,
            out: out.clone(),
            jwks_out: None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(crate::exit::code(&err), crate::exit::INVALID_INPUT);
        assert_eq!(std::fs::read(&out).unwrap(), before);
    }
}
