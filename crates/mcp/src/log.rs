//! The call log: one line per tool call, with the tool, HTTP method, path (ids replaced by
//! `[id]`), parameter names and the outcome; never a parameter value, an id or a resource,
//! which may be patient data. Written to stderr (never stdout, which carries the protocol in
//! stdio mode) or appended to a file.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// Where call lines go.
pub struct CallLog {
    sink: Mutex<Box<dyn Write + Send>>,
}

impl fmt::Debug for CallLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallLog").finish_non_exhaustive()
    }
}

impl CallLog {
    /// Lines to stderr.
    pub fn stderr() -> Self {
        Self::to_writer(std::io::stderr())
    }

    /// Lines appended to `path` (created if missing).
    ///
    /// # Errors
    /// When the file cannot be opened for appending.
    pub fn file(path: &Path) -> Result<Self, crate::Error> {
        let file = File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| crate::Error::Io {
                what: format!("opening the call log {}", path.display()),
                source,
            })?;
        Ok(Self::to_writer(file))
    }

    /// Lines to any writer (tests, benchmarks).
    pub fn to_writer(w: impl Write + Send + 'static) -> Self {
        Self {
            sink: Mutex::new(Box::new(w)),
        }
    }

    /// Writes one entry. A failed write is dropped: the log must not fail the call.
    pub fn record(&self, entry: &Entry<'_>) {
        let line = entry.to_string();
        if let Ok(mut sink) = self.sink.lock() {
            let _ = writeln!(sink, "{line}");
            let _ = sink.flush();
        }
    }
}

/// One call, as logged.
#[derive(Debug)]
pub struct Entry<'a> {
    /// The tool name (a declared name: the server only logs tools it has).
    pub tool: &'a str,
    /// `GET`, `POST`, ...; `-` when the call was refused before a request was made.
    pub method: &'a str,
    /// The path with `[id]` for ids.
    pub path: &'a str,
    /// Parameter names that passed the checks.
    pub params: &'a [String],
    /// `ok`, `refused`, `server error 404`, ...
    pub outcome: &'a str,
    /// Milliseconds.
    pub millis: u128,
}

impl fmt::Display for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fhirforge mcp: tool={} {} {} params=[{}] -> {} ({} ms)",
            self.tool,
            self.method,
            self.path,
            self.params.join(","),
            self.outcome,
            self.millis
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_name_the_call_not_the_values() {
        let shared = Shared::default();
        let log = CallLog::to_writer(shared.clone());
        log.record(&Entry {
            tool: "read_Patient",
            method: "GET",
            path: "/Patient/[id]",
            params: &[],
            outcome: "ok",
            millis: 3,
        });
        let text = String::from_utf8(shared.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(
            text,
            "fhirforge mcp: tool=read_Patient GET /Patient/[id] params=[] -> ok (3 ms)\n"
        );
    }
}
