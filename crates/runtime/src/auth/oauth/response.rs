//! Reading the token endpoint's answer: a token response, or an OAuth2 error turned into a hint
//! that says what to fix.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::cache::TokenResponse;
use super::{Grant, Inner, Method, MAX_TOKEN_LIFETIME};
use crate::auth::{AccessToken, AuthError, RefreshToken};

pub(super) fn form_urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Replaces any occurrence of a secret value (servers sometimes echo request parameters).
pub(super) fn redact(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret.as_str(), "[redacted]");
    }
    text
}

/// A token response's `token_type`: present and Bearer (any case), or the reason it is not.
pub(in crate::auth) fn check_bearer(token_type: Option<&str>) -> Result<(), String> {
    match token_type {
        Some(t) if t.eq_ignore_ascii_case("bearer") => Ok(()),
        Some(t) => Err(format!(
            "token_type is {t:?}; only Bearer tokens are supported"
        )),
        None => Err("no \"token_type\"".into()),
    }
}

/// A token response's `expires_in` (seconds, as a number or a numeric string; absent or null
/// is unknown), capped at [`MAX_TOKEN_LIFETIME`], or the reason it is unusable.
pub(in crate::auth) fn lifetime(expires_in: Option<&Value>) -> Result<Option<Duration>, String> {
    match expires_in {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(|secs| Some(Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME)))
            .ok_or_else(|| "\"expires_in\" is not a number of seconds".into()),
    }
}

pub(super) fn parse_token_response(
    token_url: &Url,
    body: &[u8],
) -> Result<TokenResponse, AuthError> {
    let fail = |reason: String| AuthError::InvalidTokenResponse {
        url: token_url.to_string(),
        reason,
    };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| fail("the body is not JSON".into()))?;
    let access_token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| fail("no \"access_token\"".into()))?;
    check_bearer(value.get("token_type").and_then(Value::as_str)).map_err(fail)?;
    let expires_in = lifetime(value.get("expires_in")).map_err(fail)?;
    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        expires_in,
        refresh_token: value
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(RefreshToken::new),
        scope: value
            .get("scope")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

pub(super) fn hint_for(
    error: &str,
    description: &str,
    status: u16,
    retry_after: Option<&str>,
    inner: &Inner,
    grant: &Grant<'_>,
    token_url: &Url,
) -> String {
    let d = description.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| d.contains(w));
    let id = &inner.client_id;
    let key_hint = match &inner.method {
        Method::PrivateKeyJwt(key) => format!("alg {}, kid {}", key.algorithm(), key.kid()),
        _ => String::new(),
    };
    if status == 429 || error == "slow_down" || error == "temporarily_unavailable" {
        return format!(
            "the token endpoint is rate limiting this client{}: reuse tokens and lower the token request rate (rate_limit)",
            retry_after.map(|r| format!(" (Retry-After: {r})")).unwrap_or_default()
        );
    }
    match error {
        "invalid_client" => {
            if has(&["not found", "unknown client", "client is invalid", "no client", "unregistered", "does not exist"]) {
                format!("the authorization server does not know client_id {id:?}: check the client id registered with the EHR (and that the app is enabled in this environment)")
            } else if has(&["audience", "aud)", " aud ", "\"aud\""]) {
                format!("the client assertion's aud must be the token URL exactly; it was {token_url}: configure the token URL the EHR publishes (or use discovery)")
            } else if has(&["exp", "nbf", "iat", "timestamp", "not yet valid", "future", "too old", "stale"]) {
                "the client assertion was refused for its time claims (exp/iat): check this machine's clock for skew against the server (NTP) and keep the assertion lifetime at most 5 minutes".into()
            } else if has(&["signature", "no matching key", "jwks", "kid", "key"]) {
                format!("the client assertion's signature was not accepted: the public key registered for {id:?} (its JWK Set or JKU) must match the private key in use ({key_hint})")
            } else if has(&["jti", "only be used once", "replay"]) {
                "the server saw this assertion's jti before: each assertion must be used once (check that two processes do not share a clock-identical key setup)".into()
            } else if has(&["registered for", "auth method", "authentication method", "client_secret_basic", "client_secret_post"]) {
                format!("the client used {} but is registered for another token endpoint auth method: configure the registered one", inner.method.name())
            } else if has(&["secret"]) {
                "the client secret was not accepted: check the secret (it may have expired or been rotated)".into()
            } else {
                match &inner.method {
                    Method::PrivateKeyJwt(_) => format!("client authentication failed: check the client id {id:?}, that the registered JWK Set holds this key ({key_hint}), that the token URL ({token_url}) is the assertion's aud, and this machine's clock"),
                    Method::None => format!("client authentication failed: the server does not accept {id:?} as a public client (no secret); check the client id, or configure the app's secret or key if it is confidential"),
                    _ => format!("client authentication failed: check the client id {id:?} and the client secret, and that the client is registered for {}", inner.method.name()),
                }
            }
        }
        "invalid_scope" => format!(
            "scope not granted: the client may not request {:?}; request only the scopes registered for it (SMART v1 system/Patient.read or v2 system/Patient.rs, as the server supports)",
            inner.scope.as_deref().unwrap_or("")
        ),
        "unauthorized_client" => match grant {
            Grant::ClientCredentials => "this client may not use the client_credentials grant: ask the EHR to enable backend (system) access for it".into(),
            _ => format!("this client may not use the {} grant: check its registration with the EHR", grant.name()),
        },
        "unsupported_grant_type" => format!("the server does not support the {} grant at this endpoint: check the token URL", grant.name()),
        "invalid_grant" => match grant {
            Grant::AuthorizationCode { .. } => "the authorization code was refused: it expired, was used already, or the PKCE verifier or redirect_uri does not match the authorization request; sign in again".into(),
            _ if inner.refresh_only => "the refresh token expired or was revoked: sign in again".into(),
            _ => "the grant was refused: for a refresh token, it expired or was revoked (a new client credentials request follows)".into(),
        },
        "invalid_target" => "the requested resource (audience) is not known to the authorization server: check the FHIR base URL registered for the client".into(),
        "invalid_request" => "the token request was malformed; the server's description says which parameter".into(),
        _ if status >= 500 => "the authorization server failed: retry later".into(),
        _ => "the token endpoint refused the request; the server's description says why".into(),
    }
}
