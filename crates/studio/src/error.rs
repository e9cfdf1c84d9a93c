//! The studio's error type.

use std::net::SocketAddr;

/// Why the studio could not start or serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listener is not on a loopback address: the studio is for this machine only.
    #[error("the studio listens on 127.0.0.1 only, not {addr}")]
    NotLoopback {
        /// The refused address.
        addr: SocketAddr,
    },
    /// No OS randomness for the launch token.
    #[error("the launch token could not be generated: no OS randomness")]
    Randomness,
    /// Reading the listener's address or serving failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
