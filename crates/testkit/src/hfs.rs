//! The Helios FHIR server (`hfs`, a real FHIR R4 server), one fresh in-memory instance per
//! [`Hfs::start`], on its own free 127.0.0.1 port, killed when dropped.
//!
//! The binary comes from `FHIRFORGE_HFS_BIN` (default `/opt/hfs/bin/hfs`), installed by
//! `scripts/install-hfs.sh` (which `scripts/test-all.sh` runs first). The data directory holds the
//! R4 SearchParameter bundle (`specs/fhir/r4-search-parameters.json` copied as
//! `search-parameters-r4.json`); without it hfs knows only 10 search parameters, so start checks
//! the log line saying the registry loaded at least [`MIN_SEARCH_PARAMS`].

use std::fmt;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The fewest search parameters the registry must report (1374 with the HL7 R4 bundle).
pub const MIN_SEARCH_PARAMS: usize = 1374;

/// Why hfs could not be started.
#[derive(Debug)]
pub struct HfsError(String);

impl fmt::Display for HfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HfsError {}

/// A running hfs; killed (and its data directory removed) on drop.
#[derive(Debug)]
pub struct Hfs {
    child: Child,
    base_url: String,
    log_path: PathBuf,
    _data: tempfile::TempDir,
}

/// The hfs binary: `FHIRFORGE_HFS_BIN` or `/opt/hfs/bin/hfs`.
pub fn binary() -> PathBuf {
    std::env::var_os("FHIRFORGE_HFS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/hfs/bin/hfs"))
}

impl Hfs {
    /// Starts a fresh instance and waits until it answers `/metadata` and has loaded the R4
    /// search parameters.
    ///
    /// # Errors
    /// When the binary is missing (the message says to run `scripts/install-hfs.sh`), the
    /// process exits, the registry reports too few parameters, or it is not ready in 60 s.
    pub async fn start() -> Result<Self, HfsError> {
        Self::start_binary(binary()).await
    }

    /// Like [`start`](Self::start), with the binary at `bin`.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub async fn start_binary(bin: PathBuf) -> Result<Self, HfsError> {
        if !bin.is_file() {
            return Err(HfsError(format!(
                "the hfs FHIR server is not installed at {} (set FHIRFORGE_HFS_BIN to override): \
                 run scripts/install-hfs.sh, or scripts/test-all.sh which installs it first",
                bin.display()
            )));
        }
        let mut last = None;
        // A port taken between probing and hfs binding it is retried with another one.
        for _ in 0..3 {
            match Self::start_once(&bin).await {
                Ok(hfs) => return Ok(hfs),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| HfsError("hfs did not start".into())))
    }

    async fn start_once(bin: &PathBuf) -> Result<Self, HfsError> {
        let data = tempfile::Builder::new()
            .prefix("fhirforge-hfs-")
            .tempdir()
            .map_err(|e| HfsError(format!("cannot create a data directory: {e}")))?;
        let params = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../specs/fhir/r4-search-parameters.json");
        fs::copy(&params, data.path().join("search-parameters-r4.json"))
            .map_err(|e| HfsError(format!("cannot copy {}: {e}", params.display())))?;
        let port = free_port()?;
        let base_url = format!("http://127.0.0.1:{port}");
        let log_path = data.path().join("hfs.log");
        let log = fs::File::create(&log_path)
            .map_err(|e| HfsError(format!("cannot create the hfs log: {e}")))?;
        let log_err = log
            .try_clone()
            .map_err(|e| HfsError(format!("cannot create the hfs log: {e}")))?;
        let child = Command::new(bin)
            .current_dir(data.path())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--base-url", &base_url])
            .args(["--database-url", ":memory:"])
            .args(["--return-gone", "--enable-versioning"])
            .arg("--data-dir")
            .arg(data.path())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .map_err(|e| HfsError(format!("cannot run {}: {e}", bin.display())))?;
        let mut hfs = Hfs {
            child,
            base_url,
            log_path,
            _data: data,
        };
        hfs.wait_ready(port).await?;
        Ok(hfs)
    }

    async fn wait_ready(&mut self, port: u16) -> Result<(), HfsError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(HfsError(format!(
                    "hfs exited ({status}) before it was ready; log:\n{}",
                    tail(&self.log())
                )));
            }
            let log = self.log();
            let loaded = registry_size(&log);
            if loaded.is_some() && metadata_ok(port) {
                let n = loaded.unwrap_or_default();
                if n < MIN_SEARCH_PARAMS {
                    return Err(HfsError(format!(
                        "hfs loaded only {n} search parameters (want {MIN_SEARCH_PARAMS}+): is \
                         search-parameters-r4.json in its data directory? log:\n{}",
                        tail(&log)
                    )));
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HfsError(format!(
                    "hfs was not ready within 60 s; log:\n{}",
                    tail(&log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://127.0.0.1:<port>` (hfs has no path prefix).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Everything hfs logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Hfs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, HfsError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| HfsError(format!("cannot find a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| HfsError(format!("cannot find a free port: {e}")))
}

/// The number in `SearchParameter registry initialized: 1374 total (...)`.
fn registry_size(log: &str) -> Option<usize> {
    let line = log
        .lines()
        .find(|l| l.contains("SearchParameter registry initialized"))?;
    let after = line.split("initialized:").nth(1)?;
    after
        .split_whitespace()
        .next()?
        .trim_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()
}

/// Whether `GET /metadata` answers 200 (a blocking loopback request with a short timeout).
fn metadata_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "GET /metadata HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_binary_says_how_to_install_it() {
        let err = Hfs::start_binary(PathBuf::from("/nonexistent/hfs"))
            .await
            .expect_err("missing binary");
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/hfs"), "{msg}");
        assert!(msg.contains("scripts/install-hfs.sh"), "{msg}");
    }

    #[test]
    fn reads_the_registry_size() {
        let log = "2026-11-27T22:00:00Z  INFO hfs: SearchParameter registry initialized: 1374 total (1364 spec, 10 builtin)\n";
        assert_eq!(registry_size(log), Some(1374));
        assert_eq!(registry_size("nothing"), None);
    }
}
