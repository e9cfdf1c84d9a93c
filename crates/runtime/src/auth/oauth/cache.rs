//! The token cache: the current access token, the refresh token and granted scope kept between
//! token requests, and the sliding-window guard on token requests.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use http::HeaderValue;

use super::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME};
use crate::auth::{AccessToken, AuthError, RefreshToken};

/// A cached access token and the header made from it.
#[derive(Clone)]
pub(super) struct Cached {
    pub(super) header: HeaderValue,
    /// When to stop using it: `expires_in` minus the skew after the request was sent.
    pub(super) refresh_at: SystemTime,
}

/// What the provider knows between token requests.
#[derive(Default)]
pub(super) struct TokenState {
    pub(super) access: Option<Cached>,
    pub(super) refresh_token: Option<RefreshToken>,
    pub(super) granted_scope: Option<String>,
    /// Incremented after every finished token attempt, successful or not.
    pub(super) generation: u64,
    /// The failure of the last attempt, handed to callers that waited for it (single flight).
    pub(super) last_failure: Option<(u64, AuthError)>,
}

/// A parsed successful token response.
#[derive(Debug)]
pub(in crate::auth) struct TokenResponse {
    pub(in crate::auth) access_token: AccessToken,
    pub(in crate::auth) expires_in: Option<Duration>,
    pub(in crate::auth) refresh_token: Option<RefreshToken>,
    pub(in crate::auth) scope: Option<String>,
}

impl TokenState {
    /// Stores a new token. Fields the response leaves out (`refresh_token`, `scope`) keep their
    /// previous values, as RFC 6749 section 6 allows a refresh response to omit them.
    pub(super) fn apply(
        &mut self,
        response: TokenResponse,
        header: HeaderValue,
        sent_at: SystemTime,
        skew: Duration,
    ) {
        let lifetime = response
            .expires_in
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .min(MAX_TOKEN_LIFETIME);
        // A token shorter-lived than twice the skew would be stale on arrival: cap the skew.
        let skew = skew.min(lifetime / 2);
        // Checked: a clock near the end of `SystemTime`'s range must not panic; such a token is
        // then treated as already due for renewal.
        let refresh_at = sent_at.checked_add(lifetime - skew).unwrap_or(sent_at);
        self.access = Some(Cached { header, refresh_at });
        if let Some(refresh) = response.refresh_token {
            self.refresh_token = Some(refresh);
        }
        if let Some(scope) = response.scope {
            self.granted_scope = Some(scope);
        }
    }

    pub(super) fn fresh(&self, now: SystemTime) -> Option<HeaderValue> {
        self.access
            .as_ref()
            .filter(|cached| now < cached.refresh_at)
            .map(|cached| cached.header.clone())
    }
}

/// Sliding-window guard on token requests.
#[derive(Debug)]
pub(super) struct RateGuard {
    pub(super) max: u32,
    pub(super) per: Duration,
    pub(super) sent: VecDeque<SystemTime>,
}

impl RateGuard {
    pub(super) fn admit(&mut self, now: SystemTime) -> Result<(), AuthError> {
        while let Some(&oldest) = self.sent.front() {
            if now.duration_since(oldest).unwrap_or_default() >= self.per {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        if self.sent.len() >= self.max as usize {
            let oldest = self.sent.front().copied().unwrap_or(now);
            let elapsed = now.duration_since(oldest).unwrap_or_default();
            return Err(AuthError::RateLimited {
                max: self.max,
                per: self.per,
                retry_after: self.per.saturating_sub(elapsed),
            });
        }
        self.sent.push_back(now);
        Ok(())
    }
}
