//! Splitting a download into lines as the bytes arrive, and checking each line: one JSON
//! resource of the declared type. A bad line is recorded with its number, never dropped
//! silently.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use serde::Deserialize;

use super::download::InvalidLine;

/// At most this many bad lines are kept per file with their reasons; the rest are counted.
const MAX_REPORTED: usize = 100;

/// What a line turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// One resource of the declared type; the hash of `(type, id)` for de-duplication.
    Resource(u64),
    /// Empty or whitespace only (ignored, not counted).
    Blank,
    /// Not one resource of the declared type (recorded).
    Invalid,
}

/// The head of a resource: serde skips (and so checks) everything else.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
}

/// The hash that identifies a resource across files when de-duplicating a resumed export.
pub(crate) fn identity(resource_type: &str, id: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    resource_type.hash(&mut h);
    id.hash(&mut h);
    h.finish()
}

/// Line state of one file.
#[derive(Debug)]
pub(crate) struct Lines {
    file: String,
    expected_type: String,
    max_line: usize,
    /// The start of a line whose end has not arrived yet.
    carry: Vec<u8>,
    /// Complete lines seen.
    pub(crate) line_no: u64,
    /// Complete lines that were resources of the declared type.
    pub(crate) resources: u64,
    pub(crate) invalid: Vec<InvalidLine>,
    pub(crate) invalid_total: u64,
}

/// A line longer than the limit.
#[derive(Debug)]
pub(crate) struct TooLong {
    pub(crate) line: u64,
}

impl Lines {
    pub(crate) fn new(file: String, expected_type: String, max_line: usize) -> Self {
        Self {
            file,
            expected_type,
            max_line,
            carry: Vec::new(),
            line_no: 0,
            resources: 0,
            invalid: Vec::new(),
            invalid_total: 0,
        }
    }

    /// Forgets everything (the file is being downloaded again from its start).
    pub(crate) fn reset(&mut self) {
        self.carry.clear();
        self.line_no = 0;
        self.resources = 0;
        self.invalid.clear();
        self.invalid_total = 0;
    }

    /// Takes the next bytes; calls `each` with every line completed by them (without its
    /// newline) and its verdict.
    pub(crate) fn feed<E>(
        &mut self,
        mut chunk: &[u8],
        mut each: impl FnMut(&[u8], Verdict) -> Result<(), E>,
    ) -> Result<Result<(), E>, TooLong> {
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            let verdict;
            if self.carry.is_empty() {
                verdict = self.check(&chunk[..end]);
                if let Err(e) = each(&chunk[..end], verdict) {
                    return Ok(Err(e));
                }
            } else {
                if self.carry.len() + end > self.max_line {
                    return Err(TooLong {
                        line: self.line_no + 1,
                    });
                }
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(&chunk[..end]);
                verdict = self.check(&line);
                let result = each(&line, verdict);
                line.clear();
                self.carry = line;
                if let Err(e) = result {
                    return Ok(Err(e));
                }
            }
            chunk = &chunk[end + 1..];
        }
        if self.carry.len() + chunk.len() > self.max_line {
            return Err(TooLong {
                line: self.line_no + 1,
            });
        }
        self.carry.extend_from_slice(chunk);
        Ok(Ok(()))
    }

    /// The end of the file: a last line without a newline is a line too.
    pub(crate) fn finish<E>(
        &mut self,
        each: impl FnOnce(&[u8], Verdict) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.carry.is_empty() {
            return Ok(());
        }
        let line = std::mem::take(&mut self.carry);
        let verdict = self.check(&line);
        each(&line, verdict)
    }

    fn check(&mut self, line: &[u8]) -> Verdict {
        self.line_no += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Verdict::Blank;
        }
        let reason = match serde_json::from_slice::<Head<'_>>(line) {
            Ok(Head {
                resource_type: Some(t),
                id,
            }) if t == self.expected_type => {
                self.resources += 1;
                return Verdict::Resource(identity(&t, id.as_deref().unwrap_or("")));
            }
            Ok(Head {
                resource_type: Some(t),
                ..
            }) => {
                let shown: String = t.chars().take(64).collect();
                format!(
                    "resourceType {shown:?}, but the manifest declares {}",
                    self.expected_type
                )
            }
            Ok(Head {
                resource_type: None,
                ..
            }) => "a JSON object without resourceType".to_owned(),
            Err(e) => format!("not one JSON resource: {e}"),
        };
        self.invalid_total += 1;
        if self.invalid.len() < MAX_REPORTED {
            self.invalid.push(InvalidLine {
                file: self.file.clone(),
                line: self.line_no,
                reason,
            });
        }
        Verdict::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Lines {
        Lines::new("Patient.001.ndjson".into(), "Patient".into(), 64)
    }

    fn feed_all(l: &mut Lines, chunks: &[&[u8]]) -> Vec<(String, Verdict)> {
        let mut seen = Vec::new();
        for chunk in chunks {
            l.feed(chunk, |line, v| {
                seen.push((String::from_utf8_lossy(line).into_owned(), v));
                Ok::<_, ()>(())
            })
            .expect("not too long")
            .expect("sink");
        }
        l.finish(|line, v| {
            seen.push((String::from_utf8_lossy(line).into_owned(), v));
            Ok::<_, ()>(())
        })
        .expect("sink");
        seen
    }

    #[test]
    fn lines_split_across_chunks_are_joined_and_checked() {
        let mut l = lines();
        let seen = feed_all(
            &mut l,
            &[
                b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceT",
                b"ype\":\"Patient\",\"id\":\"b\"}\r\n\n{\"resourceType\":\"Observation\"}\n",
                b"{not json}\n{\"resourceType\":\"Patient\",\"id\":\"c\"}",
            ],
        );
        let verdicts: Vec<Verdict> = seen.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Resource(identity("Patient", "a")),
                Verdict::Resource(identity("Patient", "b")),
                Verdict::Blank,
                Verdict::Invalid,
                Verdict::Invalid,
                Verdict::Resource(identity("Patient", "c")),
            ]
        );
        assert_eq!(seen[1].0, "{\"resourceType\":\"Patient\",\"id\":\"b\"}\r");
        assert_eq!(l.resources, 3);
        assert_eq!(l.invalid_total, 2);
        assert_eq!(l.invalid[0].line, 4);
        assert!(
            l.invalid[0].reason.contains("Observation"),
            "{:?}",
            l.invalid
        );
        assert_eq!(l.invalid[1].line, 5);
        assert!(l.invalid[1].reason.contains("not one JSON resource"));
    }

    #[test]
    fn trailing_garbage_after_a_resource_is_invalid() {
        let mut l = lines();
        feed_all(&mut l, &[b"{\"resourceType\":\"Patient\"} {}\n"]);
        assert_eq!((l.resources, l.invalid_total), (0, 1));
    }

    #[test]
    fn a_line_over_the_limit_is_refused_even_across_chunks() {
        let mut l = lines();
        let ok = l.feed(&[b'x'; 40], |_, _| Ok::<_, ()>(()));
        assert!(ok.is_ok());
        let err = l.feed(&[b'x'; 40], |_, _| Ok::<_, ()>(()));
        assert_eq!(err.err().map(|e| e.line), Some(1));
    }
}
