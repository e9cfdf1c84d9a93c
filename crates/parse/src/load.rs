//! Bytes to a JSON value, for JSON and YAML alike, with hard limits: the one loader of every
//! reader (CapabilityStatement JSON, SMART configuration, OpenAPI JSON and YAML).
//!
//! Both formats are deserialized through one [`DeserializeSeed`] that builds the
//! `serde_json::Value` itself and counts as it goes: values, string bytes, values kept and
//! nesting depth. Arrays and objects are cut at [`MAX_ITEMS`] entries while parsing (the rest is
//! parsed and counted, never built), and no more than [`LoadLimits::max_built`] values are built
//! in all, so memory is bounded by the limits, not by the input's shape. YAML
//! aliases are replayed by the YAML parser as ordinary events, so a "billion laughs" document
//! (anchors of anchors, each repeated nine times) trips the value or byte budget after a bounded
//! amount of work and memory, long before it could expand. `serde_norway` has its own guards as
//! well (a repetition limit of 100 alias jumps per event and a recursion limit of 128 levels); ours
//! come first for documents of ordinary size and make the error say what happened.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::{Cell, RefCell};
use std::fmt;

use crate::collect::{MAX_ITEMS, MAX_WARNINGS};
use crate::{Error, Limits};

/// Hard limits for turning a document into a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoadLimits {
    /// Largest accepted input, in bytes.
    pub(crate) max_bytes: usize,
    /// Deepest accepted nesting of objects and arrays.
    pub(crate) max_depth: usize,
    /// Most values built into the tree (values skipped past [`MAX_ITEMS`] do not count). About
    /// 100 bytes each: this is what bounds the memory of a document of many small arrays.
    pub(crate) max_built: usize,
}

impl LoadLimits {
    /// The loader's share of the readers' [`Limits`].
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            max_bytes: usize::try_from(limits.max_bytes).unwrap_or(usize::MAX),
            max_depth: limits.max_depth,
            max_built: limits.max_values,
        }
    }

    /// How many values a document of `len` bytes may expand to. A value costs at least two bytes
    /// of JSON or YAML text (`1,`), so a document without aliases never comes near this; only
    /// aliases can, and they are what it bounds.
    fn max_values(len: usize) -> usize {
        len.saturating_mul(2).max(100_000)
    }

    /// How many bytes of string data a document of `len` bytes may expand to.
    fn max_string_bytes(len: usize) -> usize {
        len.saturating_mul(2).max(1 << 20)
    }
}

/// Why a document could not be turned into a value.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// Larger than `max_bytes`.
    TooLarge { size: usize, limit: usize },
    /// Nested deeper than `max_depth`.
    TooDeep {
        limit: usize,
        line: usize,
        column: usize,
    },
    /// Expands to more values or string bytes than allowed (YAML aliases); says which limit.
    Expansion { detail: String },
    /// Holds more than `max_built` values (kept ones; entries past [`MAX_ITEMS`] do not count).
    TooManyValues { limit: usize },
    /// Malformed JSON.
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// Malformed YAML.
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
}

/// A duplicated object key, found while loading: the later value wins, as in JSON parsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DuplicateKey {
    /// JSON pointer of the key.
    pub(crate) pointer: String,
}

/// An array or object longer than [`MAX_ITEMS`]: only its first [`MAX_ITEMS`] entries were
/// built, the rest were skipped while parsing (still counted against the budgets, never kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Truncated {
    /// JSON pointer of the array or object.
    pub(crate) pointer: String,
    /// How many elements (array) or keys (object) it had.
    pub(crate) total: usize,
    /// Whether it is an object.
    pub(crate) object: bool,
}

/// The loaded document and what was noticed on the way.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) value: Value,
    /// The first [`MAX_WARNINGS`] duplicated keys.
    pub(crate) duplicate_keys: Vec<DuplicateKey>,
    /// Duplicated keys past the first [`MAX_WARNINGS`]: counted, not listed (they could only
    /// end up in the warnings' closing count).
    pub(crate) more_duplicate_keys: usize,
    /// Arrays and objects cut at [`MAX_ITEMS`] entries.
    pub(crate) truncated: Vec<Truncated>,
}

/// Reads `input` as JSON when its first significant byte is `{` or `[`, else as YAML.
pub(crate) fn load(input: &[u8], limits: LoadLimits) -> Result<Loaded, LoadError> {
    let (input, state) = start(input, limits)?;
    let first = input.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let syntax = if matches!(first, Some(b'{' | b'[')) {
        Syntax::Json
    } else {
        Syntax::Yaml
    };
    finish(input, state, syntax)
}

/// Reads `input` as JSON, whatever it starts with (a CapabilityStatement or SMART
/// configuration is never YAML, and its errors should say JSON).
pub(crate) fn load_json(input: &[u8], limits: LoadLimits) -> Result<Loaded, LoadError> {
    let (input, state) = start(input, limits)?;
    finish(input, state, Syntax::Json)
}

enum Syntax {
    Json,
    Yaml,
}

/// Checks the size, drops a byte order mark and sets the budgets for `input`.
fn start(input: &[u8], limits: LoadLimits) -> Result<(&[u8], State), LoadError> {
    if input.len() > limits.max_bytes {
        return Err(LoadError::TooLarge {
            size: input.len(),
            limit: limits.max_bytes,
        });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let state = State {
        max_values: LoadLimits::max_values(input.len()),
        max_string_bytes: LoadLimits::max_string_bytes(input.len()),
        max_built: limits.max_built,
        values: Cell::new(0),
        string_bytes: Cell::new(0),
        built: Cell::new(0),
        max_depth: limits.max_depth,
        hit: Cell::new(None),
        duplicates: RefCell::new(Vec::new()),
        more_duplicates: Cell::new(0),
        truncated: RefCell::new(Vec::new()),
    };
    Ok((input, state))
}

fn finish(input: &[u8], state: State, syntax: Syntax) -> Result<Loaded, LoadError> {
    let value = if let Syntax::Json = syntax {
        let mut de = serde_json::Deserializer::from_slice(input);
        let value = Seed {
            state: &state,
            depth: 0,
            path: None,
        }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            // serde_json says column 0 (and for empty input line 0) for "before the first
            // character".
            state.error_or(e.line().max(1), e.column().max(1), |line, column| {
                LoadError::Json {
                    line,
                    column,
                    message: strip_position(&e.to_string()),
                }
            })
        })?;
        value
    } else {
        let text = std::str::from_utf8(input).map_err(|e| {
            let (line, column) = line_col(input, e.valid_up_to());
            LoadError::Yaml {
                line,
                column,
                message: "the document is not valid UTF-8".into(),
            }
        })?;
        let de = serde_norway::Deserializer::from_str(text);
        let value = Seed {
            state: &state,
            depth: 0,
            path: None,
        }
        .deserialize(de)
        .map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            state.error_or(line, column, |line, column| {
                let message = strip_position(&e.to_string());
                // serde_norway's own alias guard (100 alias jumps per parser event) can fire
                // before our budgets on a small document; it is the same attack.
                if message.contains("repetition limit exceeded") {
                    LoadError::Expansion {
                        detail: "more alias repetitions than the YAML parser allows".into(),
                    }
                } else {
                    LoadError::Yaml {
                        line,
                        column,
                        message,
                    }
                }
            })
        })?;
        value
    };
    Ok(Loaded {
        value,
        duplicate_keys: state.duplicates.into_inner(),
        more_duplicate_keys: state.more_duplicates.get(),
        truncated: state.truncated.into_inner(),
    })
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::TooLarge { size, limit } => Error::TooLarge {
                what: "the document".to_owned(),
                size: Some(size as u64),
                limit: limit as u64,
            },
            LoadError::TooDeep {
                limit,
                line,
                column,
            } => Error::TooDeep {
                limit,
                line,
                column,
            },
            LoadError::Expansion { detail } => Error::Expansion { detail },
            LoadError::TooManyValues { limit } => Error::TooManyValues { limit },
            LoadError::Json {
                line,
                column,
                message,
            } => Error::Json {
                line,
                column,
                message,
            },
            LoadError::Yaml {
                line,
                column,
                message,
            } => Error::Yaml {
                line,
                column,
                message,
            },
        }
    }
}

impl Loaded {
    /// [`Loaded::notes`] as the first warnings of a reader, their pointers after `prefix`
    /// (`smart-configuration#` for a SMART document, nothing for a statement).
    pub(crate) fn warnings(&mut self, prefix: &str) -> crate::collect::Warnings {
        let mut warnings = crate::collect::Warnings::default();
        for (pointer, message) in self.notes() {
            warnings.push(format!("{prefix}{pointer}"), message);
        }
        warnings
    }

    /// What the loader noticed, as warnings (pointer, message) in the order found: duplicated
    /// keys (the first [`MAX_WARNINGS`], then their count) and containers cut at [`MAX_ITEMS`].
    pub(crate) fn notes(&mut self) -> Vec<(String, String)> {
        let dups = std::mem::take(&mut self.duplicate_keys)
            .into_iter()
            .map(|d| {
                (
                    d.pointer,
                    "duplicate key; the last value is used".to_owned(),
                )
            });
        let more = std::mem::take(&mut self.more_duplicate_keys);
        let more_dups = (more > 0).then(|| {
            (
                String::new(),
                format!("{more} more duplicate keys; the last value of each is used"),
            )
        });
        let truncated = std::mem::take(&mut self.truncated).into_iter().map(|t| {
            (
                t.pointer,
                format!(
                    "{} {}; only the first {MAX_ITEMS} are read",
                    t.total,
                    if t.object { "keys" } else { "elements" },
                ),
            )
        });
        dups.chain(more_dups).chain(truncated).collect()
    }
}

/// serde_json and serde_norway end messages with " at line L column C"; the error has those.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// 1-based line and column of byte `pos`.
fn line_col(input: &[u8], pos: usize) -> (usize, usize) {
    let before = &input[..pos.min(input.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - start + 1)
}

/// Which limit was crossed first.
#[derive(Debug, Clone, Copy)]
enum Hit {
    Depth,
    Values,
    StringBytes,
    Built,
}

/// Budgets shared by every seed of one load.
struct State {
    max_values: usize,
    max_string_bytes: usize,
    max_built: usize,
    values: Cell<usize>,
    string_bytes: Cell<usize>,
    built: Cell<usize>,
    max_depth: usize,
    hit: Cell<Option<Hit>>,
    duplicates: RefCell<Vec<DuplicateKey>>,
    more_duplicates: Cell<usize>,
    truncated: RefCell<Vec<Truncated>>,
}

impl State {
    /// Our own limit's error when one was crossed, else the parser's.
    fn error_or(
        &self,
        line: usize,
        column: usize,
        parser: impl FnOnce(usize, usize) -> LoadError,
    ) -> LoadError {
        match self.hit.get() {
            Some(Hit::Depth) => LoadError::TooDeep {
                limit: self.max_depth,
                line,
                column,
            },
            Some(Hit::Values) => LoadError::Expansion {
                detail: format!("more than {} values", self.max_values),
            },
            Some(Hit::StringBytes) => LoadError::Expansion {
                detail: format!("more than {} bytes of text", self.max_string_bytes),
            },
            Some(Hit::Built) => LoadError::TooManyValues {
                limit: self.max_built,
            },
            None => parser(line, column),
        }
    }

    fn count_value<E: de::Error>(&self) -> Result<(), E> {
        let n = self.values.get() + 1;
        self.values.set(n);
        if n > self.max_values {
            return Err(self.fail(Hit::Values));
        }
        Ok(())
    }

    /// Counts one value kept in the tree (on top of [`State::count_value`]).
    fn count_built<E: de::Error>(&self) -> Result<(), E> {
        self.count_value()?;
        let n = self.built.get() + 1;
        self.built.set(n);
        if n > self.max_built {
            return Err(self.fail(Hit::Built));
        }
        Ok(())
    }

    fn count_string<E: de::Error>(&self, len: usize) -> Result<(), E> {
        let n = self.string_bytes.get().saturating_add(len);
        self.string_bytes.set(n);
        if n > self.max_string_bytes {
            return Err(self.fail(Hit::StringBytes));
        }
        Ok(())
    }

    /// Notes a duplicated key; its pointer is only built while it can still become a warning.
    fn duplicate(&self, seg: &PathSeg<'_>) {
        let mut list = self.duplicates.borrow_mut();
        if list.len() < MAX_WARNINGS {
            list.push(DuplicateKey {
                pointer: seg.pointer(),
            });
        } else {
            self.more_duplicates.set(self.more_duplicates.get() + 1);
        }
    }

    /// Notes a container cut at [`MAX_ITEMS`] entries.
    fn truncate(&self, path: Option<&PathSeg<'_>>, total: usize, object: bool) {
        if total > MAX_ITEMS {
            self.truncated.borrow_mut().push(Truncated {
                pointer: path.map(PathSeg::pointer).unwrap_or_default(),
                total,
                object,
            });
        }
    }

    fn fail<E: de::Error>(&self, hit: Hit) -> E {
        if self.hit.get().is_none() {
            self.hit.set(Some(hit));
        }
        E::custom("document limit exceeded")
    }
}

/// One step of the JSON pointer to the value being built, kept as a linked list on the stack so
/// a pointer string is only made when a warning needs one.
struct PathSeg<'p> {
    parent: Option<&'p PathSeg<'p>>,
    key: Key<'p>,
}

enum Key<'p> {
    Name(&'p str),
    Index(usize),
}

impl PathSeg<'_> {
    fn pointer(&self) -> String {
        let mut parts = Vec::new();
        let mut seg = Some(self);
        while let Some(s) = seg {
            parts.push(match s.key {
                Key::Name(name) => name.replace('~', "~0").replace('/', "~1"),
                Key::Index(i) => i.to_string(),
            });
            seg = s.parent;
        }
        parts.iter().rev().fold(String::new(), |mut acc, p| {
            acc.push('/');
            acc.push_str(p);
            acc
        })
    }
}

/// Builds one value, counting it against the budgets.
struct Seed<'s, 'p> {
    state: &'s State,
    depth: usize,
    path: Option<&'p PathSeg<'p>>,
}

impl Seed<'_, '_> {
    /// A seed that parses one value at `depth` without building it.
    fn skip(&self, depth: usize) -> Skip<'_> {
        Skip {
            state: self.state,
            depth,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-compatible value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.state.count_built()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.state.count_built()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.state.count_built()?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.state.count_built()?;
        // YAML's `.inf` and `.nan` have no JSON form; they become null as in serde_json.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.state.count_built()?;
        self.state.count_string(v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.state.count_built()?;
        self.state.count_string(v.len())?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.state.count_built()?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.state.count_built()?;
        let depth = self.depth + 1;
        if depth > self.state.max_depth {
            return Err(self.state.fail(Hit::Depth));
        }
        let mut items = Vec::new();
        while items.len() < MAX_ITEMS {
            let seg = PathSeg {
                parent: self.path,
                key: Key::Index(items.len()),
            };
            let seed = Seed {
                state: self.state,
                depth,
                path: Some(&seg),
            };
            match seq.next_element_seed(seed)? {
                Some(v) => items.push(v),
                None => return Ok(Value::Array(items)),
            }
        }
        // Past the cap, elements are parsed (and counted) but not built: a 16 MiB array of small
        // objects would otherwise cost hundreds of MB before any reader's cap applied.
        let mut skipped = 0;
        while seq.next_element_seed(self.skip(depth))?.is_some() {
            skipped += 1;
        }
        self.state.truncate(self.path, items.len() + skipped, false);
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.state.count_built()?;
        let depth = self.depth + 1;
        if depth > self.state.max_depth {
            return Err(self.state.fail(Hit::Depth));
        }
        let mut out = Map::new();
        let mut skipped = 0;
        while let Some(key) = map.next_key_seed(KeySeed { state: self.state })? {
            let seg = PathSeg {
                parent: self.path,
                key: Key::Name(&key),
            };
            let duplicate = out.contains_key(&key);
            if duplicate {
                self.state.duplicate(&seg);
            } else if out.len() >= MAX_ITEMS {
                // As for arrays: keys past the cap are parsed and counted, their values skipped.
                map.next_value_seed(self.skip(depth))?;
                skipped += 1;
                continue;
            }
            let value = map.next_value_seed(Seed {
                state: self.state,
                depth,
                path: Some(&seg),
            })?;
            out.insert(key, value);
        }
        self.state.truncate(self.path, out.len() + skipped, true);
        Ok(Value::Object(out))
    }
}

/// Parses one value without building it, still counting it against the budgets (YAML aliases
/// replayed inside a skipped value cost what they cost elsewhere) and checking the depth.
struct Skip<'s> {
    state: &'s State,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-compatible value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.state.count_value()
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.state.count_value()
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.state.count_value()
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.state.count_value()
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.state.count_value()?;
        self.state.count_string(v.len())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.state.count_value()
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.state.count_value()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.count_value()?;
        let depth = self.depth + 1;
        if depth > self.state.max_depth {
            return Err(self.state.fail(Hit::Depth));
        }
        while seq.next_element_seed(Skip { depth, ..self })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.state.count_value()?;
        let depth = self.depth + 1;
        if depth > self.state.max_depth {
            return Err(self.state.fail(Hit::Depth));
        }
        while map.next_key_seed(Skip { depth, ..self })?.is_some() {
            map.next_value_seed(Skip { depth, ..self })?;
        }
        Ok(())
    }
}

/// An object key: strings as they are, YAML scalars (`200:`, `true:`, `~:`) as their text.
struct KeySeed<'s> {
    state: &'s State,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.state.count_string(v.len())?;
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        self.state.count_string(v.len())?;
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }
}

#[cfg(test)]
mod tests;
