//! Signing keys for SMART Backend Services client assertions: generation, loading and JWS signing.
//!
//! Two algorithms are supported, the two the SMART Backend Services specification names:
//! RS384 (RSASSA-PKCS1-v1_5 with SHA-384, 2048-bit keys or larger) and ES384 (ECDSA on P-384 with
//! SHA-384). The key id (`kid`) of a generated or loaded key is its RFC 7638 JWK thumbprint, so the
//! same key always gets the same `kid`.
//!
//! ```no_run
//! use fhirforge_runtime::auth::keys::{self, Algorithm};
//!
//! # fn main() -> Result<(), fhirforge_runtime::auth::AuthError> {
//! let pair = keys::generate(Algorithm::Es384)?;
//! keys::write_private_key("backend-key.pem", &pair.private_key_pem)?;
//! // Register this JWK Set with the EHR, or host it at the JKU you configure.
//! println!("{}", serde_json::to_string_pretty(&pair.public_jwks).unwrap_or_default());
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::OsRng;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256, Sha384};

use super::secret::PrivateKeyPem;
use super::AuthError;

/// RSA modulus size used by [`generate`], and the smallest one [`SigningKey`] accepts.
pub const RSA_BITS: usize = 2048;

/// A JWS signing algorithm for client assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 using SHA-384.
    Rs384,
    /// ECDSA using P-384 and SHA-384.
    Es384,
}

impl Algorithm {
    /// The JOSE name (`RS384`, `ES384`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs384 => "RS384",
            Algorithm::Es384 => "ES384",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "RS384" => Ok(Algorithm::Rs384),
            "ES384" => Ok(Algorithm::Es384),
            _ => Err(AuthError::Key(format!(
                "unsupported signing algorithm {s:?}: use RS384 or ES384"
            ))),
        }
    }
}

#[derive(Clone)]
enum KeyInner {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p384::ecdsa::SigningKey),
}

/// A private key that signs client assertions. `Debug` shows only the algorithm and `kid`.
#[derive(Clone)]
pub struct SigningKey {
    inner: KeyInner,
    kid: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn from_inner(inner: KeyInner) -> Self {
        let mut key = SigningKey {
            inner,
            kid: String::new(),
        };
        key.kid = thumbprint(&key.public_jwk_members());
        key
    }

    fn from_rsa(key: rsa::RsaPrivateKey) -> Result<Self, AuthError> {
        if key.size() * 8 < RSA_BITS {
            return Err(AuthError::Key(format!(
                "the RSA key has {} bits; RS384 client assertions need at least {RSA_BITS}",
                key.size() * 8
            )));
        }
        key.validate()
            .map_err(|_| AuthError::Key("the RSA private key is inconsistent".into()))?;
        Ok(Self::from_inner(KeyInner::Rsa(Box::new(key))))
    }

    /// Loads a private key from PEM text: PKCS#8 (`BEGIN PRIVATE KEY`, RSA or P-384), PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`) or SEC1 (`BEGIN EC PRIVATE KEY`, P-384). The algorithm follows
    /// from the key type: RSA signs RS384, P-384 signs ES384.
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] when the text is not such a key (the message never quotes the key).
    pub fn from_pem(pem: &str) -> Result<Self, AuthError> {
        let pem = pem.trim();
        if pem.contains("BEGIN RSA PRIVATE KEY") {
            let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|_| AuthError::Key("unreadable PKCS#1 RSA private key".into()))?;
            return Self::from_rsa(key);
        }
        if pem.contains("BEGIN EC PRIVATE KEY") {
            let key = p384::SecretKey::from_sec1_pem(pem).map_err(|_| {
                AuthError::Key("unreadable SEC1 EC private key (only P-384 keys sign ES384)".into())
            })?;
            return Ok(Self::from_inner(KeyInner::Ec(key.into())));
        }
        if pem.contains("BEGIN PRIVATE KEY") {
            if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
                return Self::from_rsa(key);
            }
            if let Ok(key) = p384::SecretKey::from_pkcs8_pem(pem) {
                return Ok(Self::from_inner(KeyInner::Ec(key.into())));
            }
            return Err(AuthError::Key(
                "the PKCS#8 private key is neither RSA nor EC P-384 (or is encrypted)".into(),
            ));
        }
        if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            return Err(AuthError::Key(
                "encrypted private keys are not supported: decrypt it to PKCS#8 first".into(),
            ));
        }
        Err(AuthError::Key(
            "no PEM private key found (expected BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)"
                .into(),
        ))
    }

    /// Loads a PEM private key (see [`from_pem`](Self::from_pem)) or a private JWK from a file.
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] when the file cannot be read or holds no usable key.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, AuthError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            AuthError::Key(format!(
                "cannot read private key file {}: {e}",
                path.display()
            ))
        })?;
        Self::from_text(&text)
    }

    /// Loads a key from the environment variable `var`, holding PEM text or a private JWK (JSON).
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] when the variable is unset or holds no usable key.
    pub fn from_env(var: &str) -> Result<Self, AuthError> {
        let text = std::env::var(var).map_err(|_| {
            AuthError::Key(format!(
                "environment variable {var} is not set (or not UTF-8)"
            ))
        })?;
        Self::from_text(&text)
    }

    fn from_text(text: &str) -> Result<Self, AuthError> {
        if text.trim_start().starts_with('{') {
            Self::from_jwk(text)
        } else {
            Self::from_pem(text)
        }
    }

    /// Loads a private JWK (`kty` `RSA` with `n e d p q`, or `EC` with `crv` `P-384`, `x y d`).
    /// A `kid` member is kept; otherwise the `kid` is the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] when the JSON is not such a key.
    pub fn from_jwk(jwk: &str) -> Result<Self, AuthError> {
        let value: Value = serde_json::from_str(jwk)
            .map_err(|e| AuthError::Key(format!("the JWK is not JSON: line {}", e.line())))?;
        let member = |name: &str| -> Result<Vec<u8>, AuthError> {
            let text = value
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| AuthError::Key(format!("the private JWK has no {name:?} member")))?;
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| AuthError::Key(format!("the JWK member {name:?} is not base64url")))
        };
        let key = match value.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let big = |name: &str| member(name).map(|b| rsa::BigUint::from_bytes_be(&b));
                let key = rsa::RsaPrivateKey::from_components(
                    big("n")?,
                    big("e")?,
                    big("d")?,
                    vec![big("p")?, big("q")?],
                )
                .map_err(|_| AuthError::Key("the RSA JWK is not a valid private key".into()))?;
                Self::from_rsa(key)?
            }
            Some("EC") => {
                if value.get("crv").and_then(Value::as_str) != Some("P-384") {
                    return Err(AuthError::Key(
                        "only EC keys on curve P-384 sign ES384".into(),
                    ));
                }
                // Parsed by hand: real JWKs carry kid/alg/use members that p384's own JWK
                // parser refuses.
                let invalid =
                    || AuthError::Key("the EC JWK is not a valid P-384 private key".into());
                let key = p384::SecretKey::from_slice(&member("d")?).map_err(|_| invalid())?;
                let key = Self::from_inner(KeyInner::Ec(key.into()));
                let public = key.public_jwk();
                let x = URL_SAFE_NO_PAD.encode(member("x")?);
                let y = URL_SAFE_NO_PAD.encode(member("y")?);
                if public["x"] != x.as_str() || public["y"] != y.as_str() {
                    return Err(AuthError::Key(
                        "the EC JWK's x/y do not belong to its private part d".into(),
                    ));
                }
                key
            }
            Some(other) => {
                return Err(AuthError::Key(format!(
                    "unsupported JWK kty {other:?}: use RSA (RS384) or EC P-384 (ES384)"
                )))
            }
            None => return Err(AuthError::Key("the JWK has no \"kty\" member".into())),
        };
        match value.get("kid").and_then(Value::as_str) {
            Some(kid) => Ok(key.with_kid(kid)),
            None => Ok(key),
        }
    }

    /// Replaces the key id (for keys registered under a `kid` other than the thumbprint).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            KeyInner::Rsa(_) => Algorithm::Rs384,
            KeyInner::Ec(_) => Algorithm::Es384,
        }
    }

    /// The key id sent in the JWS header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The RFC 7638 members of the public key, in lexicographic order.
    fn public_jwk_members(&self) -> Vec<(&'static str, String)> {
        match &self.inner {
            KeyInner::Rsa(key) => vec![
                ("e", URL_SAFE_NO_PAD.encode(key.e().to_bytes_be())),
                ("kty", "RSA".into()),
                ("n", URL_SAFE_NO_PAD.encode(key.n().to_bytes_be())),
            ],
            KeyInner::Ec(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                let coordinate = |c: Option<&p384::FieldBytes>| {
                    c.map(|c| URL_SAFE_NO_PAD.encode(c)).unwrap_or_default()
                };
                vec![
                    ("crv", "P-384".into()),
                    ("kty", "EC".into()),
                    ("x", coordinate(point.x())),
                    ("y", coordinate(point.y())),
                ]
            }
        }
    }

    /// The public key as a JWK with `kid`, `alg` and `use` (`sig`).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = serde_json::Map::new();
        for (name, value) in self.public_jwk_members() {
            jwk.insert(name.into(), Value::String(value));
        }
        jwk.insert("kid".into(), Value::String(self.kid.clone()));
        jwk.insert(
            "alg".into(),
            Value::String(self.algorithm().as_str().into()),
        );
        jwk.insert("use".into(), Value::String("sig".into()));
        Value::Object(jwk)
    }

    /// A JWK Set holding only [`public_jwk`](Self::public_jwk): what to register with the EHR.
    pub fn public_jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk()] })
    }

    /// The private key as PKCS#8 PEM.
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<PrivateKeyPem, AuthError> {
        let pem = match &self.inner {
            KeyInner::Rsa(key) => key.to_pkcs8_pem(LineEnding::LF),
            KeyInner::Ec(key) => {
                p384::SecretKey::from(key.as_nonzero_scalar()).to_pkcs8_pem(LineEnding::LF)
            }
        }
        .map_err(|_| AuthError::Key("cannot encode the private key as PKCS#8".into()))?;
        Ok(PrivateKeyPem::new(pem.as_str()))
    }

    /// Signs `claims` as a compact JWS with header `alg`, `typ: JWT`, `kid` and, when given, `jku`.
    ///
    /// [`ClientCredentials`](super::ClientCredentials) builds client assertions with this; it is
    /// public for flows of your own.
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] if serializing or signing fails.
    pub fn sign_jwt(&self, jku: Option<&str>, claims: &Value) -> Result<String, AuthError> {
        let mut header = json!({ "alg": self.algorithm().as_str(), "typ": "JWT", "kid": self.kid });
        if let (Some(jku), Some(map)) = (jku, header.as_object_mut()) {
            map.insert("jku".into(), Value::String(jku.into()));
        }
        let encode = |v: &Value| {
            serde_json::to_vec(v)
                .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
                .map_err(|e| AuthError::Key(format!("cannot serialize the JWT: {e}")))
        };
        let signing_input = format!("{}.{}", encode(&header)?, encode(claims)?);
        let signature = match &self.inner {
            KeyInner::Rsa(key) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha384>::new((**key).clone());
                signer
                    .try_sign(signing_input.as_bytes())
                    .map_err(|_| AuthError::Key("RS384 signing failed".into()))?
                    .to_vec()
            }
            KeyInner::Ec(key) => {
                let signature: p384::ecdsa::Signature = key
                    .try_sign(signing_input.as_bytes())
                    .map_err(|_| AuthError::Key("ES384 signing failed".into()))?;
                signature.to_bytes().to_vec()
            }
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, base64url.
fn thumbprint(members: &[(&'static str, String)]) -> String {
    // serde_json::Map keeps insertion order here (preserve_order), and the members are sorted.
    let mut canonical = String::from("{");
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&format!(
            "{}:{}",
            Value::from(*name),
            Value::from(value.as_str())
        ));
    }
    canonical.push('}');
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// A freshly generated key pair.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// The algorithm the key signs with.
    pub algorithm: Algorithm,
    /// The key id: the RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The private key, PKCS#8 PEM (a secret).
    pub private_key_pem: PrivateKeyPem,
    /// The public JWK Set (`{"keys": [..]}`) to register with the EHR or host at a JKU.
    pub public_jwks: Value,
}

impl KeyPair {
    /// The private key, ready to sign assertions.
    ///
    /// # Errors
    ///
    /// [`AuthError::Key`] (not expected for a generated key).
    pub fn signing_key(&self) -> Result<SigningKey, AuthError> {
        SigningKey::from_pem(self.private_key_pem.expose_secret())
    }
}

/// Generates a new key pair: RS384 makes a 2048-bit RSA key, ES384 a P-384 key.
///
/// # Errors
///
/// [`AuthError::Key`] if the operating system's random source or the encoding fails.
pub fn generate(algorithm: Algorithm) -> Result<KeyPair, AuthError> {
    let inner = match algorithm {
        Algorithm::Rs384 => KeyInner::Rsa(Box::new(
            rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                .map_err(|_| AuthError::Key("RSA key generation failed".into()))?,
        )),
        Algorithm::Es384 => KeyInner::Ec(p384::ecdsa::SigningKey::random(&mut OsRng)),
    };
    let key = SigningKey::from_inner(inner);
    Ok(KeyPair {
        algorithm,
        kid: key.kid.clone(),
        private_key_pem: key.to_pkcs8_pem()?,
        public_jwks: key.public_jwks(),
    })
}

/// Writes a private key to `path` with mode 0600 (on Unix), refusing to overwrite an existing file.
///
/// # Errors
///
/// [`AuthError::Key`] if the file exists already or cannot be written.
pub fn write_private_key(path: impl AsRef<Path>, pem: &PrivateKeyPem) -> Result<(), AuthError> {
    use std::io::Write as _;
    let path = path.as_ref();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            AuthError::Key(format!(
                "{} exists already: refusing to overwrite a private key (choose another path or remove it)",
                path.display()
            ))
        } else {
            AuthError::Key(format!("cannot create {}: {e}", path.display()))
        }
    })?;
    file.write_all(pem.expose_secret().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| AuthError::Key(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier as _;

    fn split(jws: &str) -> (Value, Value, Vec<u8>, String) {
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        (header, claims, sig, format!("{}.{}", parts[0], parts[1]))
    }

    #[test]
    fn es384_generate_sign_verify_and_reload() {
        let pair = generate(Algorithm::Es384).unwrap();
        let key = pair.signing_key().unwrap();
        assert_eq!(key.algorithm(), Algorithm::Es384);
        assert_eq!(key.kid(), pair.kid);
        let jwk = &pair.public_jwks["keys"][0];
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-384");
        assert_eq!(jwk["alg"], "ES384");
        assert_eq!(jwk["kid"], pair.kid.as_str());
        assert!(
            jwk.get("d").is_none(),
            "public JWK must not carry the private part"
        );

        let jws = key
            .sign_jwt(Some("https://x.test/jwks"), &json!({"iss": "me"}))
            .unwrap();
        let (header, claims, sig, input) = split(&jws);
        assert_eq!(header["alg"], "ES384");
        assert_eq!(header["kid"], pair.kid.as_str());
        assert_eq!(header["jku"], "https://x.test/jwks");
        assert_eq!(claims["iss"], "me");
        assert_eq!(
            sig.len(),
            96,
            "JWS ES384 signatures are r||s, 48 bytes each"
        );
        let KeyInner::Ec(ec) = &key.inner else {
            panic!()
        };
        let signature = p384::ecdsa::Signature::from_slice(&sig).unwrap();
        ec.verifying_key()
            .verify(input.as_bytes(), &signature)
            .unwrap();

        // Same key → same kid, from PEM and from the public JWK.
        let again = SigningKey::from_pem(pair.private_key_pem.expose_secret()).unwrap();
        assert_eq!(again.kid(), pair.kid);
    }

    #[test]
    fn rs384_generate_sign_verify_and_kid_is_rfc7638() {
        let pair = generate(Algorithm::Rs384).unwrap();
        let key = pair.signing_key().unwrap();
        assert_eq!(key.algorithm(), Algorithm::Rs384);
        let jws = key.sign_jwt(None, &json!({"sub": "me"})).unwrap();
        let (header, _, sig, input) = split(&jws);
        assert_eq!(header["alg"], "RS384");
        assert!(header.get("jku").is_none());
        let KeyInner::Rsa(rsa_key) = &key.inner else {
            panic!()
        };
        let verifier = rsa::pkcs1v15::VerifyingKey::<Sha384>::new(rsa_key.to_public_key());
        let signature = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
        verifier.verify(input.as_bytes(), &signature).unwrap();

        // RFC 7638 by hand: {"e":..,"kty":"RSA","n":..}
        let jwk = &pair.public_jwks["keys"][0];
        let canonical = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            jwk["e"].as_str().unwrap(),
            jwk["n"].as_str().unwrap()
        );
        assert_eq!(
            pair.kid,
            URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
        );
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // The example key of RFC 7638 section 3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let members = vec![
            ("e", "AQAB".to_owned()),
            ("kty", "RSA".to_owned()),
            ("n", n.to_owned()),
        ];
        assert_eq!(
            thumbprint(&members),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn jwk_round_trip_and_bad_input_errors_without_panics() {
        let pair = generate(Algorithm::Es384).unwrap();
        let secret = p384::SecretKey::from_pkcs8_pem(pair.private_key_pem.expose_secret()).unwrap();
        let jwk = secret.to_jwk_string();
        let key = SigningKey::from_jwk(&jwk).unwrap();
        assert_eq!(key.kid(), pair.kid);
        let with_kid = SigningKey::from_jwk(&jwk.replace("{", r#"{"kid":"mine","#)).unwrap();
        assert_eq!(with_kid.kid(), "mine");

        for bad in [
            "",
            "not a key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            let err = SigningKey::from_pem(bad).unwrap_err();
            assert!(matches!(err, AuthError::Key(_)), "{err}");
        }
        for bad in [
            "{",
            r#"{"kty":"oct","k":"AA"}"#,
            r#"{"kty":"EC","crv":"P-256"}"#,
            r#"{"kty":"RSA","n":"AQAB"}"#,
        ] {
            assert!(
                matches!(SigningKey::from_jwk(bad), Err(AuthError::Key(_))),
                "{bad}"
            );
        }
        assert!("PS256".parse::<Algorithm>().is_err());
        assert_eq!("es384".parse::<Algorithm>().unwrap(), Algorithm::Es384);
    }

    #[test]
    fn keys_load_from_environment_variables_as_pem_or_jwk() {
        let pair = generate(Algorithm::Es384).unwrap();
        let pem_var = "FHIRFORGE_TEST_KEY_PEM_7F3A";
        let jwk_var = "FHIRFORGE_TEST_KEY_JWK_7F3A";
        std::env::set_var(pem_var, pair.private_key_pem.expose_secret());
        let secret = p384::SecretKey::from_pkcs8_pem(pair.private_key_pem.expose_secret()).unwrap();
        std::env::set_var(jwk_var, secret.to_jwk_string().as_str());
        assert_eq!(SigningKey::from_env(pem_var).unwrap().kid(), pair.kid);
        assert_eq!(SigningKey::from_env(jwk_var).unwrap().kid(), pair.kid);
        let err = SigningKey::from_env("FHIRFORGE_TEST_KEY_UNSET_7F3A").unwrap_err();
        assert!(err.to_string().contains("is not set"), "{err}");
        std::env::remove_var(pem_var);
        std::env::remove_var(jwk_var);
    }

    #[test]
    fn rsa_keys_load_from_pkcs1_and_jwk_and_small_keys_are_refused() {
        use rsa::pkcs1::EncodeRsaPrivateKey as _;
        use rsa::traits::PrivateKeyParts as _;
        let pair = generate(Algorithm::Rs384).unwrap();
        let KeyInner::Rsa(key) = pair.signing_key().unwrap().inner else {
            panic!()
        };
        let pkcs1 = key.to_pkcs1_pem(LineEnding::LF).unwrap();
        assert_eq!(SigningKey::from_pem(&pkcs1).unwrap().kid(), pair.kid);
        let b = |v: &rsa::BigUint| URL_SAFE_NO_PAD.encode(v.to_bytes_be());
        let primes = key.primes();
        let jwk = json!({"kty": "RSA", "n": b(key.n()), "e": b(key.e()), "d": b(key.d()),
            "p": b(&primes[0]), "q": b(&primes[1]), "kid": "rsa-1", "alg": "RS384"});
        let loaded = SigningKey::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(loaded.kid(), "rsa-1");
        assert_eq!(loaded.algorithm(), Algorithm::Rs384);
        let small = rsa::RsaPrivateKey::new(&mut OsRng, 1024).unwrap();
        let err = SigningKey::from_pem(&small.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap_err();
        assert!(err.to_string().contains("at least 2048"), "{err}");
    }

    #[test]
    fn write_private_key_is_0600_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let pair = generate(Algorithm::Es384).unwrap();
        write_private_key(&path, &pair.private_key_pem).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let before = std::fs::read_to_string(&path).unwrap();
        let other = generate(Algorithm::Es384).unwrap();
        let err = write_private_key(&path, &other.private_key_pem).unwrap_err();
        assert!(err.to_string().contains("refusing to overwrite"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        let loaded = SigningKey::from_pem_file(&path).unwrap();
        assert_eq!(loaded.kid(), pair.kid);
        assert!(!err.to_string().contains("PRIVATE KEY"));
    }
}
