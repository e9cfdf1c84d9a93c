//! fhirforge studio: a local web app over one FHIR spec.
//!
//! It shows the server a CapabilityStatement (or OpenAPI document) describes, builds searches
//! as forms with the exact request the runtime will send (computed here, by the runtime's own
//! search module), sends them through a runtime [`Client`] when one is given, previews and
//! downloads the generated connector (the same generator call as `fhirforge generate`), and
//! diffs two statements (the same function as `fhirforge diff`).
//!
//! # Security
//!
//! The studio listens on loopback only. Each launch makes a random token; the printed URL
//! carries it once and the page then uses a cookie and a header. Every request is checked
//! (token, `Host`, `Origin`), state-changing requests need the header, every response carries a
//! strict Content-Security-Policy, and the page builds its DOM with `textContent` only, so text
//! from a spec or a server is never markup. Credentials stay in the [`Client`]; the page only
//! learns the profile's name.
//!
//! ```no_run
//! # async fn run(parsed: fhirforge_parse::Parsed) -> Result<(), fhirforge_studio::Error> {
//! use fhirforge_studio::{SourceId, Studio, StudioOptions};
//!
//! let source = SourceId { name: "epic-r4-capability.json".into(), bytes: Vec::new() };
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|source| {
//!     fhirforge_studio::Error::Io { what: "binding", source }
//! })?;
//! let launched = Studio::new(parsed, source)
//!     .with_options(StudioOptions::default())
//!     .with_client(None)
//!     .launch(listener)?;
//! println!("open {}", launched.url());
//! launched.serve().await
//! # }
//! ```
#![deny(missing_docs)]

mod assets;
mod error;
mod form;
mod generate;
mod guard;
mod interaction;
mod preview;
mod routes;
mod send;
mod tar;

pub use error::Error;
pub use generate::SourceId;

use fhirforge_codegen::GenerateOptions;
use fhirforge_parse::Parsed;
use fhirforge_runtime::Client;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What the studio says about where searches go, and what generation starts from.
#[derive(Debug, Clone, Default)]
pub struct StudioOptions {
    /// Generation options to start from (`fhirforge generate --config`); the page edits a copy.
    pub generate: GenerateOptions,
    /// The profile the client was built from: shown by name, and used in the CLI command.
    pub profile: Option<String>,
    /// The spec's path as the CLI command should name it (`--spec`), when it is a file.
    pub spec_path: Option<String>,
    /// Parameters the profile adds to every search (as `fhirforge search` adds them).
    pub default_params: Vec<(String, String)>,
}

/// A studio, not yet listening.
#[derive(Debug)]
#[must_use = "a studio does nothing until `.launch(listener)` and `.serve()`"]
pub struct Studio {
    parsed: Parsed,
    source: SourceId,
    options: StudioOptions,
    client: Option<Client>,
}

impl Studio {
    /// A studio over `parsed`, read from `source` (whose name and bytes go into the generated
    /// header exactly as `fhirforge generate` puts them).
    pub fn new(parsed: Parsed, source: SourceId) -> Self {
        Self {
            parsed,
            source,
            options: StudioOptions::default(),
            client: None,
        }
    }

    /// Sets the options.
    pub fn with_options(mut self, options: StudioOptions) -> Self {
        self.options = options;
        self
    }

    /// The client Send uses (built from a profile or a base URL); `None` hides Send.
    pub fn with_client(mut self, client: Option<Client>) -> Self {
        self.client = client;
        self
    }

    /// Prepares to serve on `listener`, which must be bound to a loopback address, with a
    /// fresh token.
    ///
    /// # Errors
    ///
    /// [`Error::NotLoopback`], [`Error::Randomness`], or [`Error::Io`] reading the address.
    pub fn launch(self, listener: TcpListener) -> Result<Launched, Error> {
        let addr = listener.local_addr().map_err(|source| Error::Io {
            what: "reading the listener's address",
            source,
        })?;
        if !addr.ip().is_loopback() || addr.is_ipv6() {
            return Err(Error::NotLoopback { addr });
        }
        let token = guard::Token::generate()?;
        let url = format!("http://127.0.0.1:{}/?token={}", addr.port(), token.as_str());
        let target = preview::CliTarget {
            profile: self.options.profile.clone(),
            base: self
                .client
                .as_ref()
                .map(|c| c.base_url().as_str().to_owned()),
            spec: self.options.spec_path.clone(),
        };
        // The token is hex, so it needs no escaping in the attribute.
        let index = assets::INDEX_HTML.replace("{{TOKEN}}", token.as_str());
        let mut app = routes::App {
            parsed: self.parsed,
            source: self.source,
            options: self.options.generate,
            client: self.client,
            target,
            default_params: self.options.default_params,
            index,
            spec_json: String::new(),
        };
        app.spec_json = routes::spec_json(&app);
        let app = Arc::new(app);
        let guard = guard::Guard {
            token,
            port: addr.port(),
        };
        let router =
            routes::router(app).layer(axum::middleware::from_fn_with_state(guard, guard::check));
        Ok(Launched {
            listener,
            router,
            url,
        })
    }
}

/// A launched studio: its URL is known; [`serve`](Self::serve) answers requests.
#[derive(Debug)]
pub struct Launched {
    listener: TcpListener,
    router: axum::Router,
    url: String,
}

impl Launched {
    /// The URL to open, with the launch token.
    ///
    /// # Security Warning
    /// Whoever has this URL can use the studio (and Send with its credentials) until it stops.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves until the process ends.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the server fails.
    pub async fn serve(self) -> Result<(), Error> {
        axum::serve(self.listener, self.router)
            .await
            .map_err(|source| Error::Io {
                what: "serving HTTP",
                source,
            })
    }
}
