//! The crate root's `Client` and `ClientBuilder`: constants, resource accessors, system-level
//! interactions and operations, and the auth setters.

use super::resource::{export, operation};
use super::{bundle, interaction_list, json, result, rt, Doc};
use crate::ident::{doc_code, doc_inline, ident};
use crate::options::AuthKind;
use crate::plan::Plan;
use crate::Error;
use fhirforge_model::SystemInteraction;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn client(plan: &Plan) -> Result<TokenStream, Error> {
    let rt = rt();
    let mut methods = Vec::new();
    if plan.base_url.is_some() {
        let doc = Doc::default().line("Starts configuring a client for [`DEFAULT_BASE_URL`].");
        let doc = doc.outer();
        methods.push(quote! {
            #doc
            pub fn default_builder() -> ClientBuilder {
                Self::builder(DEFAULT_BASE_URL)
            }
        });
    }
    let capabilities = result(json());
    methods.push(quote! {
        /// Wraps an already configured runtime client.
        pub fn from_runtime(inner: #rt::Client) -> Self {
            Self { inner }
        }

        /// The runtime client, for requests this connector has no method for.
        pub fn runtime(&self) -> &#rt::Client {
            &self.inner
        }

        /// Reads the server's CapabilityStatement (`GET [base]/metadata`).
        ///
        /// # Errors
        /// Any [`fhirforge_runtime::Error`]: transport, authentication or an error status.
        pub async fn capabilities(&self) -> #capabilities {
            self.inner.capabilities().await
        }
    });
    let bundle_result = result(bundle());
    for interaction in &plan.system_interactions {
        methods.push(match interaction {
            SystemInteraction::Transaction => quote! {
                /// Sends a `transaction` Bundle (`POST [base]`): all entries succeed or none do.
                ///
                /// # Errors
                /// Any [`fhirforge_runtime::Error`]; a failed transaction is an error status.
                pub async fn transaction(&self, bundle: &#rt::serde_json::Value) -> #bundle_result {
                    self.inner.transaction(bundle).await
                }
            },
            SystemInteraction::Batch => quote! {
                /// Sends a `batch` Bundle (`POST [base]`): entries succeed or fail one by one.
                ///
                /// # Errors
                /// Any [`fhirforge_runtime::Error`] for the batch as a whole; per-entry failures are
                /// in the response Bundle.
                pub async fn batch(&self, bundle: &#rt::serde_json::Value) -> #bundle_result {
                    self.inner.batch(bundle).await
                }
            },
            SystemInteraction::HistorySystem => quote! {
                /// The history of every resource on the server (`GET [base]/_history`), paged
                /// like a search: `.send()` for the first page, `.pages()` or `.resources()` for
                /// all of it; `.params_mut()` takes `_count` (`.count(n)`) and `_since` or `_at`
                /// (`.raw(..)`).
                pub fn history_system(&self) -> #rt::SearchRequest {
                    self.inner.history(#rt::Scope::System, #rt::search::SearchParams::new())
                }
            },
            // System-wide search has no typed builder: `runtime().search(..)` covers it.
            SystemInteraction::SearchSystem => continue,
        });
    }
    for r in &plan.resources {
        let accessor = ident(&r.accessor)?;
        let doc = Doc::default()
            .line(format!(
                "{} resources: {}.",
                doc_code(&r.wire),
                interaction_list(r)
            ))
            .outer();
        methods.push(quote! {
            #doc
            pub fn #accessor(&self) -> #accessor::Api<'_> {
                #accessor::Api { client: &self.inner }
            }
        });
    }
    for op in &plan.system_operations {
        if let Some(level) = op.export {
            methods.push(export(
                op,
                level,
                quote! { self.inner },
                rt.clone(),
                "runtime",
            )?);
            continue;
        }
        methods.push(operation(
            op,
            quote! { self.inner },
            quote! { #rt::Scope::System },
            quote! { #rt::OperationRequest<'_> },
            "On the whole server (`[base]/$name`); `.parameters(&p)` to `POST` a `Parameters` resource, `.query(..)` for `GET` parameters; then `.send()` or `.await`.".to_owned(),
        )?);
    }
    if let Some(accessor) = &plan.generic_accessor {
        let accessor = ident(accessor)?;
        let api = ident(&plan.generic_type)?;
        let doc = Doc::default()
            .line(format!(
                "The API's other (non-FHIR) operations: {} methods.",
                plan.generic.len()
            ))
            .outer();
        methods.push(quote! {
            #doc
            pub fn #accessor(&self) -> #api<'_> {
                #api { client: &self.inner }
            }
        });
    }

    let title = doc_inline(&plan.name);
    let client_doc = Doc::default()
        .line(format!("A client for the {title} FHIR API."))
        .blank()
        .line("Cheap to clone: clones share one connection pool and one token cache.")
        .outer();
    let builder_doc = Doc::default()
        .line("Configures a [`Client`]: authentication, then [`build`](Self::build).")
        .outer();
    let base_url_const = match &plan.base_url {
        Some(url) => {
            let doc = Doc::default()
                .line(format!(
                    "The base URL the {} names:",
                    plan.source_kind.describe()
                ))
                .line(doc_inline(url))
                .outer();
            quote! {
                #doc
                pub const DEFAULT_BASE_URL: &str = #url;
            }
        }
        None => quote! {},
    };
    let auth = auth_setters(plan);
    methods.push(smart_backend_helper(plan));
    methods.push(app_launch_helper(plan));
    let token_url_const = match (&plan.token_url, plan.auth.contains(&AuthKind::SmartBackend)) {
        (Some(url), true) => {
            let doc = Doc::default()
                .line(format!(
                    "The OAuth2 token endpoint the {} names:",
                    plan.source_kind.describe()
                ))
                .line(doc_inline(url))
                .outer();
            quote! {
                #doc
                pub const TOKEN_URL: &str = #url;
            }
        }
        _ => quote! {},
    };
    let authorize_url_const = match (&plan.authorize_url, offers_app_launch(plan)) {
        (Some(url), true) => {
            let doc = Doc::default()
                .line(format!(
                    "The OAuth2 authorize endpoint (SMART App Launch) the {} names:",
                    plan.source_kind.describe()
                ))
                .line(doc_inline(url))
                .outer();
            quote! {
                #doc
                pub const AUTHORIZE_URL: &str = #url;
            }
        }
        _ => quote! {},
    };
    Ok(quote! {
        #base_url_const
        #token_url_const
        #authorize_url_const

        #client_doc
        #[derive(Debug, Clone)]
        pub struct Client {
            inner: #rt::Client,
        }

        impl Client {
            /// Starts configuring a client for the FHIR server at `base_url`.
            pub fn builder(base_url: impl ::core::convert::AsRef<str>) -> ClientBuilder {
                ClientBuilder { inner: #rt::Client::builder(base_url) }
            }

            #( #methods )*
        }

        #builder_doc
        #[derive(Debug)]
        #[must_use = "call `.build()` to get a client"]
        pub struct ClientBuilder {
            inner: #rt::ClientBuilder,
        }

        impl ClientBuilder {
            /// Authenticates every request with `provider` (any [`fhirforge_runtime::auth::AuthProvider`]).
            pub fn auth(self, provider: impl #rt::auth::AuthProvider) -> Self {
                Self { inner: self.inner.auth(provider) }
            }

            #auth

            /// Applies any other runtime setting (timeouts, retry policy, user agent, headers).
            pub fn configure(
                self,
                f: impl ::core::ops::FnOnce(#rt::ClientBuilder) -> #rt::ClientBuilder,
            ) -> Self {
                Self { inner: f(self.inner) }
            }

            /// Builds the client.
            ///
            /// # Errors
            /// [`fhirforge_runtime::Error`] when the base URL or a setting is invalid.
            pub fn build(self) -> ::core::result::Result<Client, #rt::Error> {
                self.inner.build().map(|inner| Client { inner })
            }
        }
    })
}

/// Setters for the exposed auth kinds: typed wrappers over `.auth(provider)`.
fn auth_setters(plan: &Plan) -> TokenStream {
    let rt = rt();
    let mut out = TokenStream::new();
    if plan.auth.contains(&AuthKind::Basic) {
        out.extend(quote! {
            /// HTTP basic authentication: `BasicAuth::new(user, Password::new(..))`.
            pub fn basic_auth(self, auth: #rt::auth::BasicAuth) -> Self {
                self.auth(auth)
            }
        });
    }
    if plan.auth.contains(&AuthKind::Oauth2) {
        out.extend(quote! {
            /// Sends a fixed OAuth2 bearer token obtained elsewhere with every request.
            pub fn bearer_token(self, token: impl ::core::convert::AsRef<str>) -> Self {
                Self { inner: self.inner.bearer_token(token) }
            }

            /// OAuth2 client credentials (`client_secret_basic`, `client_secret_post` or
            /// `private_key_jwt`): tokens are fetched, cached and refreshed by the runtime.
            pub fn client_credentials(self, credentials: #rt::auth::ClientCredentials) -> Self {
                self.auth(credentials)
            }
        });
    }
    if offers_app_launch(plan) {
        out.extend(quote! {
            /// A person's SMART App Launch session (see [`Client::app_launch`]): the access
            /// token is renewed with the refresh token before it expires.
            pub fn app_launch(self, session: #rt::auth::app_launch::AppLaunchSession) -> Self {
                self.auth(session)
            }
        });
    }
    if plan.auth.contains(&AuthKind::SmartBackend) {
        out.extend(quote! {
            /// SMART Backend Services: client credentials with a JWT assertion signed by the
            /// client's key (see [`Client::smart_backend_credentials`]).
            pub fn smart_backend(self, credentials: #rt::auth::ClientCredentials) -> Self {
                self.auth(credentials)
            }
        });
    }
    out
}

/// Whether the connector offers SMART App Launch: the statement declares an authorize
/// endpoint and OAuth2 is among the exposed auth kinds.
fn offers_app_launch(plan: &Plan) -> bool {
    plan.authorize_url.is_some() && plan.auth.contains(&AuthKind::Oauth2)
}

/// `Client::app_launch`, where the statement declares an authorize endpoint.
fn app_launch_helper(plan: &Plan) -> TokenStream {
    let rt = rt();
    if !offers_app_launch(plan) {
        return quote! {};
    }
    let doc = Doc::default()
        .line("Starts SMART App Launch for a person (authorization code with PKCE; the statement")
        .line("names the authorize endpoint [`AUTHORIZE_URL`]): reads the SMART configuration at")
        .line("`base_url`'s `.well-known/smart-configuration`.")
        .blank()
        .line("Add `.scopes(..)`, then `begin`, open its URL in a browser, `complete` with the")
        .line("redirect, and pass `session(..)` to [`ClientBuilder::app_launch`].")
        .outer();
    quote! {
        #doc
        ///
        /// # Errors
        /// [`fhirforge_runtime::auth::AuthError`] when the SMART configuration cannot be read.
        pub async fn app_launch(
            client_id: impl ::core::convert::Into<::std::string::String>,
            base_url: impl ::core::convert::AsRef<str>,
        ) -> ::core::result::Result<#rt::auth::app_launch::AppLaunch, #rt::auth::AuthError> {
            let http = #rt::auth::HttpContext::new()?;
            #rt::auth::app_launch::AppLaunch::discover(&http, client_id, base_url.as_ref()).await
        }
    }
}

/// `Client::smart_backend_credentials`, when SMART Backend Services is exposed.
fn smart_backend_helper(plan: &Plan) -> TokenStream {
    let rt = rt();
    if !plan.auth.contains(&AuthKind::SmartBackend) {
        return quote! {};
    }
    let (endpoint, doc) = match (&plan.token_url, &plan.base_url) {
        (Some(_), _) => (
            quote! { .token_url(TOKEN_URL) },
            "the token endpoint [`TOKEN_URL`]",
        ),
        (None, Some(_)) => (
            quote! { .discover(DEFAULT_BASE_URL) },
            "the token endpoint discovered from [`DEFAULT_BASE_URL`]'s SMART configuration",
        ),
        (None, None) => (
            quote! {},
            "no token endpoint yet (set `.token_url(..)` or `.discover(..)`)",
        ),
    };
    let doc = Doc::default()
        .line(format!("Starts SMART Backend Services credentials for this server: `private_key_jwt` with `key`, and {doc}."))
        .line("Add `.scope(..)`, then `.build()`, and pass the result to [`ClientBuilder::smart_backend`].")
        .outer();
    quote! {
        #doc
        pub fn smart_backend_credentials(
            client_id: impl ::core::convert::Into<::std::string::String>,
            key: #rt::auth::keys::SigningKey,
        ) -> #rt::auth::ClientCredentialsBuilder {
            #rt::auth::ClientCredentials::builder(client_id).private_key_jwt(key) #endpoint
        }
    }
}
