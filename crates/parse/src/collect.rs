//! The bounded collections every reader uses (CapabilityStatement JSON and XML, SMART
//! configuration, OpenAPI): the one warning collector, the item cap, and lists that stay linear
//! to fill however hostile the input.
//!
//! A hostile document can be built to produce a warning per byte; keeping every one would let
//! it choose how much memory a read takes. The collector keeps the first [`MAX_WARNINGS`] and
//! counts the rest in one closing warning.

use crate::Warning;
use fhirforge_model::{Operation, SearchParam};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Most elements read from any one list, and most resources, search parameters, operations,
/// paths, scopes or other named items kept per owner. Real documents stay far below (Epic R4:
/// 59 resources, at most 27 parameters each; OpenEMR's OpenAPI: a few hundred paths); the cap
/// bounds the work a hostile 16 MiB document can cause.
pub(crate) const MAX_ITEMS: usize = 2_000;

/// Most warnings kept; the rest are counted in one final warning, so memory stays bounded.
pub(crate) const MAX_WARNINGS: usize = 1_000;

/// A name or value for a warning message: quoted, escaped and cut short, so hostile text stays
/// one short line.
pub(crate) fn shown(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// What a JSON value is, for warnings and errors (`a string`, `an array`).
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The message of the closing warning, after the count.
const SUPPRESSED: &str = " more warnings not shown";

/// Warnings in document order, at most [`MAX_WARNINGS`] of them plus one that counts the rest.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<Warning>,
    suppressed: usize,
}

impl Warnings {
    /// Re-opens a finished list (one [`Warnings::finish`] returned), so more can be added under
    /// the same cap: the closing count, if any, is taken back.
    pub(crate) fn resume(mut list: Vec<Warning>) -> Self {
        let suppressed = match list.last() {
            Some(w) if w.pointer.is_empty() => w
                .message
                .strip_suffix(SUPPRESSED)
                .and_then(|n| n.parse::<usize>().ok()),
            _ => None,
        };
        if suppressed.is_some() {
            list.pop();
        }
        Self {
            list,
            suppressed: suppressed.unwrap_or(0),
        }
    }

    /// Adds one warning, or counts it once the cap is reached.
    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        if self.list.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        self.list.push(Warning {
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// Adds the warning `make` builds, only when it will be kept: past the cap it is counted
    /// and `make` never runs, so a hostile document repeating one oddity 400,000 times costs no
    /// message per repeat.
    pub(crate) fn push_with(&mut self, make: impl FnOnce() -> (String, String)) {
        if self.list.len() >= MAX_WARNINGS {
            self.suppressed += 1;
            return;
        }
        let (pointer, message) = make();
        self.list.push(Warning { pointer, message });
    }

    /// Adds warnings collected elsewhere (a SMART configuration merged into a statement).
    pub(crate) fn extend(&mut self, more: Vec<Warning>) {
        let more = Self::resume(more);
        for w in more.list {
            self.push(w.pointer, w.message);
        }
        self.suppressed += more.suppressed;
    }

    /// The warnings, with the closing count when some were not kept.
    pub(crate) fn finish(mut self) -> Vec<Warning> {
        if self.suppressed > 0 {
            self.list.push(Warning {
                pointer: String::new(),
                message: format!("{}{SUPPRESSED}", self.suppressed),
            });
        }
        self.list
    }
}

/// An ordered list without duplicates, with a hash index so that adding stays linear however
/// long and hostile the input (`Vec::contains` per item made merging quadratic), and capped at
/// [`MAX_ITEMS`].
#[derive(Debug)]
pub(crate) struct UniqueList<T: Eq + Hash + Clone> {
    items: Vec<T>,
    seen: HashSet<T>,
}

/// What [`UniqueList::push`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Added at the end.
    Added,
    /// Already there; not added again.
    Duplicate,
    /// The list holds [`MAX_ITEMS`] already; not added.
    Full,
}

impl<T: Eq + Hash + Clone> Default for UniqueList<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            seen: HashSet::new(),
        }
    }
}

impl<T: Eq + Hash + Clone> UniqueList<T> {
    /// A list holding `items` (deduplicated, cut at the cap).
    pub(crate) fn from_vec(items: Vec<T>) -> Self {
        let mut list = Self::default();
        for item in items {
            list.push(item);
        }
        list
    }

    /// Adds `item` unless it is there already or the list is full.
    pub(crate) fn push(&mut self, item: T) -> Pushed {
        if self.seen.contains(&item) {
            Pushed::Duplicate
        } else if self.items.len() >= MAX_ITEMS {
            Pushed::Full
        } else {
            self.seen.insert(item.clone());
            self.items.push(item);
            Pushed::Added
        }
    }

    /// Whether `item` is in the list.
    pub(crate) fn contains(&self, item: &T) -> bool {
        self.seen.contains(item)
    }

    /// The items, in the order they were first added.
    pub(crate) fn into_vec(self) -> Vec<T> {
        self.items
    }
}

/// Something declared once per name: a search parameter or an operation.
pub(crate) trait HasName {
    fn name(&self) -> &str;
}

impl HasName for SearchParam {
    fn name(&self) -> &str {
        &self.name
    }
}

impl HasName for Operation {
    fn name(&self) -> &str {
        &self.name
    }
}

/// Declarations in first-seen order with an index by name, kept for the whole read so that a
/// repeated declaration (a duplicate resource entry, another `rest`) is merged by a lookup
/// instead of an index rebuilt over everything seen so far.
#[derive(Debug)]
pub(crate) struct Named<T> {
    items: Vec<T>,
    index: HashMap<String, usize>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: HasName> Named<T> {
    /// The declaration named `name`, if any.
    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut T> {
        let i = *self.index.get(name)?;
        self.items.get_mut(i)
    }

    /// Adds a declaration whose name is not there yet; `false` when the list is full.
    pub(crate) fn insert(&mut self, item: T) -> bool {
        if self.items.len() >= MAX_ITEMS {
            return false;
        }
        self.index.insert(item.name().to_owned(), self.items.len());
        self.items.push(item);
        true
    }

    /// Whether nothing is declared.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The declarations, in first-seen order.
    pub(crate) fn into_vec(self) -> Vec<T> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_keeps_the_first_and_counts_the_rest_across_resumes() {
        let mut w = Warnings::default();
        for i in 0..MAX_WARNINGS + 5 {
            w.push(format!("/{i}"), "odd");
        }
        let list = w.finish();
        assert_eq!(list.len(), MAX_WARNINGS + 1);
        assert_eq!(list[MAX_WARNINGS].message, "5 more warnings not shown");
        let mut again = Warnings::resume(list);
        again.push("/x", "odd");
        again.extend(vec![Warning {
            pointer: String::new(),
            message: "7 more warnings not shown".to_owned(),
        }]);
        let list = again.finish();
        assert_eq!(list.len(), MAX_WARNINGS + 1);
        assert_eq!(list[MAX_WARNINGS].message, "13 more warnings not shown");
        assert_eq!(Warnings::default().finish(), Vec::new());
    }

    #[test]
    fn a_lazy_warning_is_built_only_while_it_is_kept() {
        let mut w = Warnings::default();
        let mut built = 0;
        for i in 0..MAX_WARNINGS + 5 {
            w.push_with(|| {
                built += 1;
                (format!("/{i}"), "odd".to_owned())
            });
        }
        assert_eq!(built, MAX_WARNINGS);
        let list = w.finish();
        assert_eq!(list[MAX_WARNINGS].message, "5 more warnings not shown");
    }

    #[test]
    fn unique_lists_keep_order_and_stop_at_the_cap() {
        let mut l = UniqueList::default();
        assert_eq!(l.push("b"), Pushed::Added);
        assert_eq!(l.push("a"), Pushed::Added);
        assert_eq!(l.push("b"), Pushed::Duplicate);
        assert!(l.contains(&"a"));
        assert_eq!(l.into_vec(), ["b", "a"]);
        let big = UniqueList::from_vec((0..MAX_ITEMS + 10).collect());
        assert_eq!(big.into_vec().len(), MAX_ITEMS);
    }
}
