//! Verifying the OpenID Connect `id_token` from a code exchange (OpenID Connect Core §3.1.3.7):
//! the signature against the server's JWKS (RS256, RS384, RS512 or ES384; never `none` or a
//! shared-secret HMAC), then `iss`, `aud`, `exp`, `iat` and `nonce`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use url::Url;

use crate::auth::transport::{check_transport_security, HttpContext};
use crate::auth::AuthError;

/// Clock difference tolerated between this machine and the server.
const LEEWAY: Duration = Duration::from_secs(120);

/// What the id_token must say.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expected<'a> {
    /// The issuer from the SMART configuration (checked when the configuration names one).
    pub(super) issuer: Option<&'a str>,
    /// The client id: the token's audience.
    pub(super) client_id: &'a str,
    /// The nonce the authorization request sent.
    pub(super) nonce: Option<&'a str>,
    pub(super) now: SystemTime,
}

fn fail(reason: impl Into<String>) -> AuthError {
    AuthError::IdToken(reason.into())
}

/// The verified claims of `id_token`. `keys` is the server's JWK Set.
pub(super) fn verify_with_keys(
    id_token: &str,
    keys: &Value,
    expected: Expected<'_>,
) -> Result<Map<String, Value>, AuthError> {
    let mut parts = id_token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(fail("it is not a signed JWT (three dot-separated parts)"));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| fail(format!("its {what} is not base64url")))
    };
    let header: Value = serde_json::from_slice(&decode(header_b64, "header")?)
        .map_err(|_| fail("its header is not JSON"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let kid = header.get("kid").and_then(Value::as_str);
    let signature = decode(signature, "signature")?;
    let signed = &id_token[..header_b64.len() + 1 + payload_b64.len()];
    let key = find_key(keys, alg, kid)?;
    check_signature(alg, key, signed.as_bytes(), &signature)?;
    let claims: Value = serde_json::from_slice(&decode(payload_b64, "payload")?)
        .map_err(|_| fail("its payload is not JSON"))?;
    let Value::Object(claims) = claims else {
        return Err(fail("its payload is not a JSON object"));
    };
    check_claims(&claims, expected)?;
    Ok(claims)
}

/// Fetches the JWK Set at `jwks_uri` (bounded like any auth request) and verifies `id_token`.
pub(super) async fn verify(
    http: &HttpContext,
    id_token: &str,
    jwks_uri: &Url,
    expected: Expected<'_>,
) -> Result<Map<String, Value>, AuthError> {
    check_transport_security("the JWKS URI", jwks_uri, http.insecure_http_allowed())?;
    let (status, _, body) = http
        .send(
            http.get(jwks_uri)
                .header(http::header::ACCEPT, "application/json"),
        )
        .await
        .map_err(|reason| fail(format!("cannot read the JWK Set at {jwks_uri}: {reason}")))?;
    if !status.is_success() {
        return Err(fail(format!(
            "the JWK Set at {jwks_uri} answered HTTP {}",
            status.as_u16()
        )));
    }
    let keys: Value = serde_json::from_slice(&body)
        .map_err(|_| fail(format!("the JWK Set at {jwks_uri} is not JSON")))?;
    verify_with_keys(id_token, &keys, expected)
}

fn find_key<'k>(keys: &'k Value, alg: &str, kid: Option<&str>) -> Result<&'k Value, AuthError> {
    let kty = match alg {
        "RS256" | "RS384" | "RS512" => "RSA",
        "ES384" => "EC",
        other => {
            return Err(fail(format!(
                "its algorithm {other:?} is not accepted (RS256, RS384, RS512 or ES384)"
            )))
        }
    };
    let candidates: Vec<&Value> = keys
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter(|k| k.get("kty").and_then(Value::as_str) == Some(kty))
                .filter(|k| {
                    k.get("use")
                        .and_then(Value::as_str)
                        .is_none_or(|u| u == "sig")
                })
                .filter(|k| kid.is_none_or(|kid| k.get("kid").and_then(Value::as_str) == Some(kid)))
                .collect()
        })
        .unwrap_or_default();
    match candidates.as_slice() {
        [key] => Ok(key),
        [] => Err(fail(format!(
            "no {kty} key{} in the server's JWK Set",
            kid.map(|k| format!(" with kid {k:?}")).unwrap_or_default()
        ))),
        _ => Err(fail(
            "several keys in the server's JWK Set match and the token names no kid",
        )),
    }
}

fn check_signature(
    alg: &str,
    jwk: &Value,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), AuthError> {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or_else(|| fail(format!("the server's key has no usable {name:?}")))
    };
    let bad = || fail("its signature does not verify against the server's key");
    match alg {
        "RS256" | "RS384" | "RS512" => {
            use rsa::pkcs1v15::{Signature, VerifyingKey};
            use rsa::signature::Verifier as _;
            let n = rsa::BigUint::from_bytes_be(&member("n")?);
            let e = rsa::BigUint::from_bytes_be(&member("e")?);
            let key = rsa::RsaPublicKey::new(n, e)
                .map_err(|e| fail(format!("the server's RSA key is unusable: {e}")))?;
            let signature = Signature::try_from(signature).map_err(|_| bad())?;
            let verified = match alg {
                "RS256" => VerifyingKey::<sha2::Sha256>::new(key).verify(signed, &signature),
                "RS384" => VerifyingKey::<sha2::Sha384>::new(key).verify(signed, &signature),
                _ => VerifyingKey::<sha2::Sha512>::new(key).verify(signed, &signature),
            };
            verified.map_err(|_| bad())
        }
        _ => {
            use p384::ecdsa::signature::Verifier as _;
            use p384::ecdsa::{Signature, VerifyingKey};
            let (x, y) = (member("x")?, member("y")?);
            if jwk.get("crv").and_then(Value::as_str) != Some("P-384")
                || x.len() != 48
                || y.len() != 48
            {
                return Err(fail("the server's EC key is not a P-384 key"));
            }
            let point = p384::EncodedPoint::from_affine_coordinates(
                p384::FieldBytes::from_slice(&x),
                p384::FieldBytes::from_slice(&y),
                false,
            );
            let key = p384::PublicKey::from_sec1_bytes(point.as_bytes())
                .map_err(|_| fail("the server's P-384 key is not a point on the curve"))?;
            let signature = Signature::from_slice(signature).map_err(|_| bad())?;
            VerifyingKey::from(key)
                .verify(signed, &signature)
                .map_err(|_| bad())
        }
    }
}

fn seconds(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| fail(format!("\"{name}\" is not a time in seconds"))),
    }
}

fn check_claims(claims: &Map<String, Value>, expected: Expected<'_>) -> Result<(), AuthError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if let Some(issuer) = expected.issuer {
        if text("iss") != Some(issuer) {
            return Err(fail(format!(
                "it was issued by {:?}, not by the server's issuer {issuer:?}",
                text("iss").unwrap_or("")
            )));
        }
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.client_id,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(fail(format!(
            "its audience (aud) is not this client ({:?})",
            expected.client_id
        )));
    }
    let now = expected
        .now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let exp = seconds(claims, "exp")?.ok_or_else(|| fail("it has no expiry (exp)"))?;
    if exp.saturating_add(LEEWAY.as_secs()) < now {
        return Err(fail("it has expired (exp is in the past)"));
    }
    if let Some(iat) = seconds(claims, "iat")? {
        if iat > now.saturating_add(LEEWAY.as_secs()) {
            return Err(fail(
                "it was issued in the future (iat): check this machine's clock",
            ));
        }
    }
    if let Some(nonce) = expected.nonce {
        match text("nonce") {
            Some(n) if n == nonce => {}
            Some(_) => {
                return Err(fail(
                    "its nonce is not the one this sign-in sent (a replayed id_token)",
                ))
            }
            None => return Err(fail("it carries no nonce, though the sign-in sent one")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::{generate, Algorithm};
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    fn expected() -> Expected<'static> {
        Expected {
            issuer: Some("https://auth.example"),
            client_id: "my-app",
            nonce: Some("n-0S6_WzA2Mj"),
            now: UNIX_EPOCH + Duration::from_secs(NOW),
        }
    }

    fn claims() -> Value {
        json!({"iss": "https://auth.example", "sub": "u1", "aud": "my-app",
               "exp": NOW + 300, "iat": NOW, "nonce": "n-0S6_WzA2Mj",
               "fhirUser": "https://fhir.example/Practitioner/7"})
    }

    #[test]
    fn an_es384_id_token_verifies_and_each_wrong_claim_is_refused() {
        let pair = generate(Algorithm::Es384).expect("key");
        let key = pair.signing_key().expect("signing key");
        let keys = pair.public_jwks.clone();
        let token = key.sign_jwt(None, &claims()).expect("sign");
        let verified = verify_with_keys(&token, &keys, expected()).expect("valid");
        assert_eq!(verified["fhirUser"], "https://fhir.example/Practitioner/7");

        for (change, why) in [
            (json!({"aud": "another-app"}), "audience"),
            (json!({"aud": ["x", "y"]}), "audience"),
            (json!({"nonce": "replayed"}), "nonce"),
            (json!({"nonce": null}), "no nonce"),
            (json!({"iss": "https://evil.example"}), "issued by"),
            (json!({"exp": NOW - 3600}), "expired"),
            (json!({"exp": null}), "no expiry"),
            (json!({"iat": NOW + 3600}), "future"),
        ] {
            let mut c = claims();
            for (k, v) in change.as_object().expect("object") {
                if v.is_null() {
                    c.as_object_mut().expect("object").remove(k);
                } else {
                    c[k] = v.clone();
                }
            }
            let token = key.sign_jwt(None, &c).expect("sign");
            let e = verify_with_keys(&token, &keys, expected()).expect_err(why);
            assert!(matches!(e, AuthError::IdToken(_)), "{e}");
            assert!(e.to_string().contains(why), "{e} should say {why}");
        }
    }

    #[test]
    fn a_bad_signature_another_key_or_alg_none_is_refused() {
        let pair = generate(Algorithm::Es384).expect("key");
        let key = pair.signing_key().expect("signing key");
        let token = key.sign_jwt(None, &claims()).expect("sign");

        // Payload changed after signing.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims();
        forged["sub"] = json!("admin");
        parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
        let e = verify_with_keys(&parts.join("."), &pair.public_jwks, expected())
            .expect_err("tampered");
        assert!(e.to_string().contains("signature does not verify"), "{e}");

        // Signed by a key the server does not publish (same kid claimed).
        let other = generate(Algorithm::Es384).expect("key");
        let other_key = other.signing_key().expect("k").with_kid(key.kid());
        let token = other_key.sign_jwt(None, &claims()).expect("sign");
        let e = verify_with_keys(&token, &pair.public_jwks, expected()).expect_err("other key");
        assert!(e.to_string().contains("signature does not verify"), "{e}");

        // alg none, HS256: never accepted.
        for alg in ["none", "HS256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
            let body = URL_SAFE_NO_PAD.encode(claims().to_string());
            let e = verify_with_keys(&format!("{header}.{body}."), &pair.public_jwks, expected())
                .expect_err(alg);
            assert!(e.to_string().contains("not accepted"), "{e}");
        }
        assert!(verify_with_keys("a.b", &pair.public_jwks, expected()).is_err());
    }
}
