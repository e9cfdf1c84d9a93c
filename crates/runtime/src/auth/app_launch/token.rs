//! What the token endpoint answers to a SMART code exchange.

use crate::auth::oauth::{check_bearer, lifetime};
use crate::auth::{AccessToken, AuthError, RefreshToken};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// The token endpoint's answer to a SMART code exchange: the tokens, and the launch context
/// SMART App Launch adds (RFC 6749 §5.1; SMART App Launch 2.x "Response to Access Token
/// Request"). Tokens are redacted in `Debug`.
#[derive(Debug, Clone)]
pub struct SmartTokenResponse {
    /// The access token (always `Bearer`).
    pub access_token: AccessToken,
    /// Its lifetime, when the server says (at most 24 hours are believed).
    pub expires_in: Option<Duration>,
    /// The scopes granted, which may be fewer than requested.
    pub scope: Option<String>,
    /// The refresh token (`offline_access` or `online_access`).
    pub refresh_token: Option<RefreshToken>,
    /// The OpenID Connect `id_token` (a JWT naming the user), for `openid fhirUser`.
    pub id_token: Option<AccessToken>,
    /// The patient in context (`launch/patient`), a logical id.
    pub patient: Option<String>,
    /// The encounter in context (`launch/encounter`), a logical id.
    pub encounter: Option<String>,
    /// The user, as a FHIR resource URL (SMART 2 gives it in the id_token; some servers also
    /// send it here).
    pub fhir_user: Option<String>,
    /// Whether the app must show a patient banner.
    pub need_patient_banner: Option<bool>,
    /// Where the EHR's style sheet for the app is.
    pub smart_style_url: Option<String>,
}

impl SmartTokenResponse {
    /// Reads a token response body.
    ///
    /// # Errors
    /// [`AuthError::InvalidTokenResponse`] (naming `token_url`) when the body is not JSON, has
    /// no access token, a token type other than Bearer, or a field of the wrong kind. The
    /// reason never quotes a token.
    pub fn from_json(token_url: &Url, body: &[u8]) -> Result<Self, AuthError> {
        let fail = |reason: String| AuthError::InvalidTokenResponse {
            url: token_url.to_string(),
            reason,
        };
        let value: Value =
            serde_json::from_slice(body).map_err(|_| fail("the body is not JSON".into()))?;
        let Value::Object(fields) = value else {
            return Err(fail("the body is not a JSON object".into()));
        };
        let text = |name: &str| -> Result<Option<String>, AuthError> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(fail(format!("\"{name}\" is not a non-empty string"))),
            }
        };
        let access_token =
            text("access_token")?.ok_or_else(|| fail("no \"access_token\"".into()))?;
        check_bearer(text("token_type")?.as_deref()).map_err(fail)?;
        let expires_in = lifetime(fields.get("expires_in")).map_err(fail)?;
        let need_patient_banner = match fields.get("need_patient_banner") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(fail("\"need_patient_banner\" is not a boolean".into())),
        };
        Ok(Self {
            access_token: AccessToken::new(access_token),
            expires_in,
            scope: text("scope")?,
            refresh_token: text("refresh_token")?.map(RefreshToken::new),
            id_token: text("id_token")?.map(AccessToken::new),
            patient: text("patient")?,
            encounter: text("encounter")?,
            fhir_user: text("fhirUser")?,
            need_patient_banner,
            smart_style_url: text("smart_style_url")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_smart_token_response_with_launch_context() {
        let url = Url::parse("https://ehr.example/token").expect("url");
        let body = br#"{"access_token":"at-secret-1","token_type":"bearer","expires_in":"3600",
            "scope":"openid fhirUser launch/patient patient/*.rs","refresh_token":"rt-secret-2",
            "id_token":"eyJ.id.token","patient":"123","encounter":"e9",
            "fhirUser":"Practitioner/7","need_patient_banner":true,
            "smart_style_url":"https://ehr.example/style.json","extra":{"ignored":1}}"#;
        let r = SmartTokenResponse::from_json(&url, body).expect("valid");
        assert_eq!(r.access_token.expose_secret(), "at-secret-1");
        assert_eq!(r.expires_in, Some(Duration::from_secs(3600)));
        assert_eq!(
            r.refresh_token.as_ref().map(|t| t.expose_secret()),
            Some("rt-secret-2")
        );
        assert_eq!(r.patient.as_deref(), Some("123"));
        assert_eq!(r.encounter.as_deref(), Some("e9"));
        assert_eq!(r.fhir_user.as_deref(), Some("Practitioner/7"));
        assert_eq!(r.need_patient_banner, Some(true));
        assert_eq!(
            r.scope.as_deref(),
            Some("openid fhirUser launch/patient patient/*.rs")
        );
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("at-secret-1")
                && !shown.contains("rt-secret-2")
                && !shown.contains("eyJ.id"),
            "{shown}"
        );

        let minimal =
            SmartTokenResponse::from_json(&url, br#"{"access_token":"a","token_type":"Bearer"}"#)
                .expect("minimal");
        assert!(
            minimal.patient.is_none()
                && minimal.refresh_token.is_none()
                && minimal.expires_in.is_none()
        );
    }

    #[test]
    fn a_bad_token_response_says_why_without_the_token() {
        let url = Url::parse("https://ehr.example/token").expect("url");
        for (body, why) in [
            (&b"not json"[..], "not JSON"),
            (br#"["a"]"#, "not a JSON object"),
            (br#"{"token_type":"bearer"}"#, "no \"access_token\""),
            (br#"{"access_token":"tok-123456","token_type":"mac"}"#, "only Bearer"),
            (br#"{"access_token":"tok-123456"}"#, "no \"token_type\""),
            (br#"{"access_token":"tok-123456","token_type":"bearer","expires_in":"soon"}"#, "expires_in"),
            (br#"{"access_token":"tok-123456","token_type":"bearer","patient":42}"#, "\"patient\""),
            (br#"{"access_token":"tok-123456","token_type":"bearer","need_patient_banner":"yes"}"#, "need_patient_banner"),
        ] {
            let e = SmartTokenResponse::from_json(&url, body).expect_err(why);
            let text = e.to_string();
            assert!(matches!(e, AuthError::InvalidTokenResponse { .. }), "{text}");
            assert!(text.contains(why), "{text} should say {why}");
            assert!(!text.contains("tok-123456"), "{text}");
        }
    }
}
