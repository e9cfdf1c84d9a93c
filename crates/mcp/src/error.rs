//! The one error type of the crate: what stops the server from starting or serving. Problems
//! with a single tool call are not errors of the server: they go back to the client as tool
//! errors (`isError`).

use std::net::SocketAddr;

/// Why the MCP server could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `--resources` named a type the statement does not declare.
    #[error(
        "the capability statement declares no resource type `{name}`{}",
        hint.as_ref().map(|h| format!("; did you mean `{h}`?")).unwrap_or_default()
    )]
    UnknownResource {
        /// The name as given (cleaned for display).
        name: String,
        /// The closest declared type.
        hint: Option<String>,
    },
    /// Nothing to offer: no declared interaction on the chosen resources.
    #[error("the capability statement declares no interaction to offer as a tool")]
    NoTools,
    /// The HTTP transport was asked to listen on an address other than loopback.
    #[error(
        "refusing to listen on {addr}: the HTTP transport listens on loopback only \
         (127.0.0.1 or [::1]); put a reverse proxy with its own authentication in front for \
         anything else"
    )]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The bearer token for the HTTP transport is unusable.
    #[error("the HTTP bearer token {0}")]
    Token(&'static str),
    /// Reading, writing or listening failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The MCP session could not start (the client did not initialize, the transport closed).
    #[error("MCP session failed: {0}")]
    Session(String),
}
