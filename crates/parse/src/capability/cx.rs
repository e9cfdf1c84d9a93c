//! Reading helpers: typed access to JSON properties with a warning for every oddity, and the
//! name rules.

pub(crate) use crate::collect::{kind, shown, MAX_ITEMS};
use crate::collect::{UniqueList, Warnings};
use fhirforge_model::{ConditionalDelete, ConditionalRead, Versioning};
use serde_json::{Map, Value};

pub(crate) type Obj = Map<String, Value>;

/// Longest resource type, parameter or operation name accepted.
const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a valid FHIR resource type name: an ASCII letter in upper case, then ASCII
/// letters and digits.
pub(crate) fn valid_resource_type(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `name` is a valid search parameter (or operation) name: ASCII letters, digits, `-`,
/// `_` and `.` with at least one letter or digit (FHIR codes such as `_lastUpdated`,
/// `general-practitioner`, Cerner's `-encounter`, athenahealth's `ah-practice`).
pub(crate) fn valid_param_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.chars().any(|c| c.is_ascii_alphanumeric())
}

/// Reads one statement; collects warnings as it goes.
#[derive(Debug, Default)]
pub(crate) struct Cx {
    pub(crate) warnings: Warnings,
}

impl Cx {
    pub(crate) fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(pointer, message);
    }

    /// A warning whose pointer and message are built only if it will be kept (for warnings a
    /// hostile document can repeat once per item).
    pub(crate) fn warn_with(&mut self, make: impl FnOnce() -> (String, String)) {
        self.warnings.push_with(make);
    }

    /// A string property; wrong types and empty strings are warned about and read as absent.
    pub(crate) fn str<'v>(&mut self, obj: &'v Obj, key: &str, ptr: &str) -> Option<&'v str> {
        match obj.get(key)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => {
                self.warn(format!("{ptr}/{key}"), "empty string ignored");
                None
            }
            Value::String(s) => Some(s),
            other => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!("expected a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, obj: &Obj, key: &str, ptr: &str) -> Option<bool> {
        match obj.get(key)? {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            other => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!("expected a boolean, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// An array property. A single value where an array belongs is read as a one-element array.
    pub(crate) fn array<'v>(&mut self, obj: &'v Obj, key: &str, ptr: &str) -> &'v [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) if items.len() > MAX_ITEMS => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!(
                        "{} elements; only the first {MAX_ITEMS} are read",
                        items.len()
                    ),
                );
                &items[..MAX_ITEMS]
            }
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.warn(
                    format!("{ptr}/{key}"),
                    format!(
                        "expected an array, found {}; read as one element",
                        kind(other)
                    ),
                );
                std::slice::from_ref(other)
            }
        }
    }

    pub(crate) fn object<'v>(&mut self, v: &'v Value, ptr: &str) -> Option<&'v Obj> {
        match v {
            Value::Object(o) => Some(o),
            other => {
                self.warn(
                    ptr,
                    format!("expected an object, found {}; skipped", kind(other)),
                );
                None
            }
        }
    }

    /// An array of strings, deduplicated with a warning, in declaration order.
    pub(crate) fn strings(&mut self, obj: &Obj, key: &str, ptr: &str) -> Vec<String> {
        // A hash index: `Vec::contains` per element was quadratic in a 2,000-element array.
        let mut out: UniqueList<String> = UniqueList::default();
        let base = format!("{ptr}/{key}");
        for (i, v) in self.array(obj, key, ptr).iter().enumerate() {
            match v {
                Value::String(s) if s.trim().is_empty() => {
                    self.warn(format!("{base}/{i}"), "empty string ignored");
                }
                Value::String(s) if out.contains(s) => {
                    self.warn(
                        format!("{base}/{i}"),
                        format!("duplicate {} merged", shown(s)),
                    );
                }
                Value::String(s) => {
                    out.push(s.clone());
                }
                other => {
                    self.warn(
                        format!("{base}/{i}"),
                        format!("expected a string, found {}; skipped", kind(other)),
                    );
                }
            }
        }
        out.into_vec()
    }

    /// A canonical URL: a string (R4+) or a `Reference` object's `reference` (DSTU2, STU3).
    pub(crate) fn canonical(&mut self, obj: &Obj, key: &str, ptr: &str) -> Option<String> {
        match obj.get(key)? {
            Value::Object(r) => self
                .str(r, "reference", &format!("{ptr}/{key}"))
                .map(str::to_owned),
            _ => self.str(obj, key, ptr).map(str::to_owned),
        }
    }

    /// A code property parsed by `parse`; an unknown code is warned about and read as absent.
    pub(crate) fn code<T>(
        &mut self,
        obj: &Obj,
        key: &str,
        ptr: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let code = self.str(obj, key, ptr)?;
        let parsed = parse(code);
        if parsed.is_none() {
            self.warn(
                format!("{ptr}/{key}"),
                format!("unknown code {}; ignored", shown(code)),
            );
        }
        parsed
    }
}

pub(crate) fn versioning(code: &str) -> Option<Versioning> {
    match code {
        "no-version" => Some(Versioning::NoVersion),
        "versioned" => Some(Versioning::Versioned),
        "versioned-update" => Some(Versioning::VersionedUpdate),
        _ => None,
    }
}

pub(crate) fn conditional_read(code: &str) -> Option<ConditionalRead> {
    match code {
        "not-supported" => Some(ConditionalRead::NotSupported),
        "modified-since" => Some(ConditionalRead::ModifiedSince),
        "not-match" => Some(ConditionalRead::NotMatch),
        "full-support" => Some(ConditionalRead::FullSupport),
        _ => None,
    }
}

pub(crate) fn conditional_delete(code: &str) -> Option<ConditionalDelete> {
    match code {
        "not-supported" => Some(ConditionalDelete::NotSupported),
        "single" => Some(ConditionalDelete::Single),
        "multiple" => Some(ConditionalDelete::Multiple),
        _ => None,
    }
}
