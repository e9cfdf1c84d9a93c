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
    /// One resource of the declared type; the hash of `(type, id)` for de-duplication (0 when
    /// [`Lines::without_identities`]).
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
    /// Whether verdicts carry the resource's [`identity`].
    identities: bool,
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
            identities: true,
            carry: Vec::new(),
            line_no: 0,
            resources: 0,
            invalid: Vec::new(),
            invalid_total: 0,
        }
    }

    /// Verdicts without the [`identity`] hash, for a caller that does not de-duplicate (saves
    /// hashing every line).
    pub(crate) fn without_identities(mut self) -> Self {
        self.identities = false;
        self
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
        // Almost every line takes the quick path; serde_json decides the rest (and words the
        // reasons), so the verdicts are serde_json's either way.
        if let Some(head) = quick_head(line) {
            if head.resource_type == self.expected_type.as_bytes() {
                self.resources += 1;
                if !self.identities {
                    return Verdict::Resource(0);
                }
                // The quick check passes ASCII only, which is UTF-8.
                let text = |b| std::str::from_utf8(b).unwrap_or_default();
                return Verdict::Resource(identity(
                    text(head.resource_type),
                    text(head.id.unwrap_or_default()),
                ));
            }
        }
        let reason = match serde_json::from_slice::<Head<'_>>(line) {
            Ok(Head {
                resource_type: Some(t),
                id,
            }) if t == self.expected_type => {
                self.resources += 1;
                if !self.identities {
                    return Verdict::Resource(0);
                }
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

/// `resourceType` and `id` of a line the quick check accepted.
#[derive(Debug, PartialEq, Eq)]
struct QuickHead<'a> {
    resource_type: &'a [u8],
    id: Option<&'a [u8]>,
}

/// The line checked without serde: a JSON object (RFC 8259, the whitespace, strings, escapes
/// and numbers serde_json accepts) with a `resourceType`, whose top-level keys and whose
/// `resourceType` and `id` values are ASCII strings without escapes or control characters.
/// `None` for anything else, valid or not: serde_json then decides. A `Some` is only returned
/// for lines serde_json reads into the same [`Head`] (tested against it below), so the quick
/// path changes no verdict; it takes about half the time of serde's visitor on NDJSON of
/// small resources.
///
/// Like serde_json's `ignore_value`, the values skipped are checked for syntax only: their
/// strings are not checked for UTF-8, and nesting has no limit here beyond 64 levels (deeper
/// lines go to serde_json). A line holding any control character (a tab or carriage return
/// between tokens is valid, inside a string it is not) goes to serde_json too, so the scan
/// looks for quotes and backslashes only.
fn quick_head(b: &[u8]) -> Option<QuickHead<'_>> {
    // No early exit, so it compiles to vector instructions.
    if b.iter().fold(false, |any, &c| any | (c < 0x20)) {
        return None;
    }
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut resource_type = None;
    let mut id = None;
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let (key, next) = plain_string(b, i + 1)?;
            i = skip_ws(b, next);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(b, i + 1);
            let slot = match key {
                b"resourceType" => Some(&mut resource_type),
                b"id" => Some(&mut id),
                _ => None,
            };
            match slot {
                Some(slot) => {
                    if b.get(i) != Some(&b'"') {
                        return None;
                    }
                    let (value, next) = plain_string(b, i + 1)?;
                    // serde refuses a repeated field.
                    if slot.replace(value).is_some() {
                        return None;
                    }
                    i = next;
                }
                None => i = skip_value(b, i)?,
            }
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    if skip_ws(b, i) != b.len() {
        return None;
    }
    Some(QuickHead {
        resource_type: resource_type?,
        id,
    })
}

/// JSON whitespace (as serde_json: space, tab, line feed, carriage return) from `i`.
#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// A string's content from `start` (after its opening quote) up to the closing quote, if it
/// is ASCII without escapes; the index after the quote.
#[inline(always)]
fn plain_string(b: &[u8], start: usize) -> Option<(&[u8], usize)> {
    let end = next_stop::<true>(b, start)?;
    (b[end] == b'"').then_some((&b[start..end], end + 1))
}

const ONES: u64 = u64::MAX / 255;
const HIGHS: u64 = ONES << 7;

/// The index of the first quote or backslash (or, with `ASCII`, byte above 0x7F) at `i` or
/// after, eight bytes at a time (as serde_json's `skip_to_escape`).
#[inline(always)]
fn next_stop<const ASCII: bool>(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(word) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(word.try_into().ok()?);
        let q = v ^ (ONES * u64::from(b'"'));
        let s = v ^ (ONES * u64::from(b'\\'));
        // The high bit of each byte that is zero in `q` or `s`: exact for the lowest one
        // (borrows only run upwards), which is the one taken.
        let mut found = (q.wrapping_sub(ONES) & !q) | (s.wrapping_sub(ONES) & !s);
        if ASCII {
            found |= v;
        }
        found &= HIGHS;
        if found != 0 {
            return Some(i + found.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    let tail = b.get(i..)?;
    let n = tail
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || (ASCII && c > 0x7f))?;
    Some(i + n)
}

/// A string skipped from `i` (after its opening quote): the escapes JSON allows (`\u` with
/// four hex digits, not checked further, as serde_json's `ignore_str`); the index after the
/// closing quote. (The line has no control characters.)
#[inline(always)]
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = next_stop::<false>(b, i)?;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        match *b.get(i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
            b'u' => {
                let hex = b.get(i + 2..i + 6)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                i += 6;
            }
            _ => return None,
        }
    }
}

/// A number from `i`: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
#[inline(always)]
fn skip_number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

/// A key of an object being skipped, from `i`: the string, whitespace, `:`, whitespace.
#[inline(always)]
fn skip_key(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(b, skip_string(b, i + 1)?);
    if b.get(i) != Some(&b':') {
        return None;
    }
    Some(skip_ws(b, i + 1))
}

/// Any JSON value from `i` (whitespace skipped); the index after it. Iterative, with the open
/// containers as bits (1 for an object), at most 64 deep.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    let mut objects = 0u64;
    let mut depth = 0u32;
    loop {
        // At the start of a value.
        match *b.get(i)? {
            b'"' => i = skip_string(b, i + 1)?,
            open @ (b'{' | b'[') => {
                if depth == 64 {
                    return None;
                }
                let object = open == b'{';
                objects = (objects << 1) | u64::from(object);
                depth += 1;
                i = skip_ws(b, i + 1);
                let close = if object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    objects >>= 1;
                    depth -= 1;
                } else {
                    if object {
                        i = skip_key(b, i)?;
                    }
                    continue;
                }
            }
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            b'-' | b'0'..=b'9' => i = skip_number(b, i)?,
            _ => return None,
        }
        // After a value: close containers until a comma starts the next value.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = skip_ws(b, i);
            let object = objects & 1 == 1;
            match *b.get(i)? {
                b',' => {
                    i = skip_ws(b, i + 1);
                    if object {
                        i = skip_key(b, i)?;
                    }
                    break;
                }
                b'}' if object => {}
                b']' if !object => {}
                _ => return None,
            }
            i += 1;
            objects >>= 1;
            depth -= 1;
        }
    }
}

#[inline(always)]
fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
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
    fn without_identities_the_verdicts_carry_no_hash_and_the_counts_are_the_same() {
        let chunks: &[&[u8]] = &[
            b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Pati\\u0065nt\"}\n",
            b"{not json}\n\n{\"resourceType\":\"Patient\",\"id\":\"c\"}",
        ];
        let mut with = lines();
        let mut without = lines().without_identities();
        let hashed = feed_all(&mut with, chunks);
        let bare = feed_all(&mut without, chunks);
        assert_eq!(
            bare.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            [
                Verdict::Resource(0),
                Verdict::Resource(0),
                Verdict::Invalid,
                Verdict::Blank,
                Verdict::Resource(0)
            ]
        );
        assert_eq!(hashed[0].1, Verdict::Resource(identity("Patient", "a")));
        assert_eq!(hashed[1].1, Verdict::Resource(identity("Patient", "")));
        assert_eq!(
            (with.resources, with.invalid_total, with.line_no),
            (without.resources, without.invalid_total, without.line_no)
        );
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

/// The quick check against serde_json: whenever it accepts a line, serde_json reads the same
/// head from it.
#[cfg(test)]
mod quick_tests {
    use proptest::prelude::*;

    use super::*;

    /// Cases per property (state this number when reporting).
    const CASES: u32 = 4096;

    fn serde_head(line: &[u8]) -> Option<(String, Option<String>)> {
        let head = serde_json::from_slice::<Head<'_>>(line).ok()?;
        Some((
            head.resource_type?.into_owned(),
            head.id.map(Cow::into_owned),
        ))
    }

    /// `Some` from the quick check means serde_json gives the same head.
    fn agrees(line: &[u8]) -> Result<(), String> {
        match quick_head(line) {
            None => Ok(()),
            Some(q) => {
                let text = |b: &[u8]| {
                    String::from_utf8(b.to_vec()).unwrap_or_else(|_| "<not UTF-8>".into())
                };
                let quick = Some((text(q.resource_type), q.id.map(text)));
                let serde = serde_head(line);
                if quick == serde {
                    Ok(())
                } else {
                    Err(format!(
                        "{:?}: quick {quick:?}, serde_json {serde:?}",
                        String::from_utf8_lossy(line)
                    ))
                }
            }
        }
    }

    const ACCEPTED: &[&[u8]] = &[
        br#"{"resourceType":"Patient","id":"a"}"#,
        br#"{"resourceType":"Patient"}"#,
        b" {\"id\":\"b\" , \"resourceType\" : \"Patient\",\"x\":[1,-2.5e+3,0,0.25E-2,true,false,null,{\"y\":{}} ,[ ]],\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9 \xc3\xa9\"}  ",
        // serde_json does not check UTF-8 in strings it skips.
        b"{\"resourceType\":\"Patient\",\"text\":\"\xff\"}",
        br#"{"resourceType":"Patient","a":{"b":[{"c":[[{}],{"d":"e"}]}]},"z":-0}"#,
    ];

    /// Lines serde_json refuses, or reads only by a route the quick check does not take.
    const LEFT_TO_SERDE: &[&[u8]] = &[
        br#"{"resourceType":"Patient"} {}"#,
        br#"{"resourceType":"Patient",}"#,
        br#"{"resourceType":"Patient","x":01}"#,
        br#"{"resourceType":"Patient","x":1.}"#,
        br#"{"resourceType":"Patient","x":-}"#,
        br#"{"resourceType":"Patient","x":1e}"#,
        br#"{"resourceType":"Patient","x":.5}"#,
        br#"{"resourceType":"Patient","x":+1}"#,
        b"{\"resourceType\":\"Patient\",\"x\":\"a\x01\"}",
        br#"{"resourceType":"Patient","x":"\x"}"#,
        br#"{"resourceType":"Patient","x":"\u12G4"}"#,
        br#"{"resourceType":"Patient","resourceType":"Patient"}"#,
        br#"{"resourceType":"Patient","id":"a","id":"b"}"#,
        br#"{"resourceType":"Patient","x":[1,]}"#,
        br#"{"resourceType":"Patient","x":{"a":1,}}"#,
        br#"{"resourceType":"Patient","a":1 "b":2}"#,
        br#"{"resourceType":"Patient","x":tru}"#,
        br#"{'resourceType':'Patient'}"#,
        br#"["Patient","a"]"#,
        br#"{"resource\u0054ype":"Patient"}"#,
        br#"{"resourceType":"Pati\u0065nt"}"#,
        br#"{"resourceType":null}"#,
        br#"{"resourceType":1}"#,
        br#"{"resourceType":"Patient","id":7}"#,
        br#"{"resourceType":"Patient","x":"abc"#,
        br#"{"resourceType":"Patient""#,
        b"{\"resourceType\":\"Patient\"}\x0c",
        b"{\"resourceType\":\"P\xc3\xa4tient\"}",
        br#"{}"#,
        br#"{"id":"a"}"#,
        // Valid, but a control character anywhere sends the line to serde_json.
        b"{\"resourceType\":\"Patient\"}\t",
        b"{\t\"resourceType\":\"Patient\"}",
    ];

    #[test]
    fn quick_accepts_plain_resources_as_serde_json_does() {
        for line in ACCEPTED {
            assert!(
                quick_head(line).is_some(),
                "{:?}",
                String::from_utf8_lossy(line)
            );
            agrees(line).unwrap_or_else(|e| panic!("{e}"));
        }
        let line = br#"{"resourceType":"Patient","id":"a"}"#;
        assert_eq!(
            quick_head(line),
            Some(QuickHead {
                resource_type: &b"Patient"[..],
                id: Some(&b"a"[..])
            })
        );
    }

    #[test]
    fn quick_leaves_everything_else_to_serde_json() {
        for line in LEFT_TO_SERDE {
            assert_eq!(
                quick_head(line),
                None,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
        let deep = format!(
            "{{\"resourceType\":\"Patient\",\"x\":{}1{}}}",
            "[".repeat(70),
            "]".repeat(70)
        );
        assert_eq!(quick_head(deep.as_bytes()), None);
        assert!(serde_head(deep.as_bytes()).is_some());
        let deep = format!(
            "{{\"resourceType\":\"Patient\",\"x\":{}1{}}}",
            "[".repeat(64),
            "]".repeat(64)
        );
        assert!(quick_head(deep.as_bytes()).is_some());
        agrees(deep.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Bytes that matter to JSON's grammar, and some that do not.
    fn byte() -> impl Strategy<Value = u8> {
        prop::sample::select(
            b"{}[]\":,\\ \t\r\n\x0cu0123456789aAeE+-.tfnrlsPid\x01\x7f\xff\xc3".to_vec(),
        )
    }

    /// An edit: replace, insert or delete the byte at a position.
    fn edit() -> impl Strategy<Value = (u8, prop::sample::Index, u8)> {
        (0u8..3, any::<prop::sample::Index>(), byte())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        /// Valid lines with a few bytes changed: whatever the quick check accepts, serde_json
        /// reads the same way.
        #[test]
        fn quick_agrees_with_serde_json_on_edited_lines(
            seed in prop::sample::select(ACCEPTED.iter().chain(LEFT_TO_SERDE).copied().collect::<Vec<_>>()),
            edits in prop::collection::vec(edit(), 1..4),
        ) {
            let mut line = seed.to_vec();
            for (kind, at, b) in edits {
                match kind {
                    0 if !line.is_empty() => {
                        let i = at.index(line.len());
                        line[i] = b;
                    }
                    1 => {
                        let i = at.index(line.len() + 1);
                        line.insert(i, b);
                    }
                    _ if !line.is_empty() => {
                        let i = at.index(line.len());
                        line.remove(i);
                    }
                    _ => {}
                }
            }
            prop_assert!(agrees(&line).is_ok(), "{}", agrees(&line).err().unwrap_or_default());
        }

        /// The word-at-a-time search finds the first stop byte, wherever it is.
        #[test]
        fn next_stop_finds_the_first_quote_backslash_or_non_ascii(
            bytes in prop::collection::vec(
                prop_oneof![4 => 0x20u8..0x80, 2 => 0x80u8..=0xff, 1 => Just(b'"'), 1 => Just(b'\\')],
                0..40,
            ),
            start in 0usize..8,
        ) {
            let start = start.min(bytes.len());
            let naive = |ascii: bool| {
                bytes[start..]
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\' || (ascii && c > 0x7f))
                    .map(|p| start + p)
            };
            prop_assert_eq!(next_stop::<false>(&bytes, start), naive(false));
            prop_assert_eq!(next_stop::<true>(&bytes, start), naive(true));
        }

        /// Random JSON-ish text after a valid start.
        #[test]
        fn quick_agrees_with_serde_json_on_random_tails(tail in prop::collection::vec(byte(), 0..40)) {
            let mut line = br#"{"resourceType":"Patient","x":"#.to_vec();
            line.extend_from_slice(&tail);
            prop_assert!(agrees(&line).is_ok(), "{}", agrees(&line).err().unwrap_or_default());
        }
    }
}
