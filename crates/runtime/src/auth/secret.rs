//! Secret newtypes: values that must never reach a log line, an error message or a `Debug` dump.
//!
//! Each type prints `[redacted]` through both `Debug` and `Display`; the value is reachable only
//! through an explicit `expose_secret()` call, which is easy to grep for.

use std::fmt;

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value itself.
            ///
            /// # Security Warning
            ///
            /// Do not log, print or put the returned value into an error message.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret_type!(
    /// An OAuth2 client secret (`client_secret_basic` / `client_secret_post`).
    ClientSecret
);
secret_type!(
    /// A password for HTTP basic authentication.
    Password
);
secret_type!(
    /// An OAuth2 access token (bearer token).
    AccessToken
);
secret_type!(
    /// An OAuth2 refresh token.
    RefreshToken
);
secret_type!(
    /// A signed JWT client assertion (`private_key_jwt`).
    ClientAssertion
);
secret_type!(
    /// A private key in PEM (PKCS#8) form.
    PrivateKeyPem
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let values: [(String, String); 6] = [
            (
                format!("{:?}", ClientSecret::new("cs-value")),
                format!("{}", ClientSecret::new("cs-value")),
            ),
            (
                format!("{:?}", Password::new("pw-value")),
                format!("{}", Password::new("pw-value")),
            ),
            (
                format!("{:?}", AccessToken::new("at-value")),
                format!("{}", AccessToken::new("at-value")),
            ),
            (
                format!("{:?}", RefreshToken::new("rt-value")),
                format!("{}", RefreshToken::new("rt-value")),
            ),
            (
                format!("{:?}", ClientAssertion::new("ca-value")),
                format!("{}", ClientAssertion::new("ca-value")),
            ),
            (
                format!("{:?}", PrivateKeyPem::new("pk-value")),
                format!("{}", PrivateKeyPem::new("pk-value")),
            ),
        ];
        for (debug, display) in values {
            assert!(debug.ends_with("([redacted])"), "{debug}");
            assert!(!debug.contains("-value"), "{debug}");
            assert_eq!(display, "[redacted]");
        }
        assert_eq!(ClientSecret::new("x").expose_secret(), "x");
    }
}
