//! `$ref` handling: local JSON pointers only, resolved with cycle detection.
//!
//! Before anything is read, [`check_refs`] walks the whole document once (iteratively, so depth
//! costs no stack) and refuses any reference that does not start with `#`: external documents
//! are never fetched or opened. A chain of references that comes back to itself is a
//! [`RefProblem::Cycle`]; a reference to nothing is [`RefProblem::Dangling`], which the reader
//! turns into a warning and skips. Recursive *schemas* (a schema whose property refers back to
//! it) are legal OpenAPI and no problem here: the reader only ever follows a chain of `$ref`s to
//! the first object that is not itself a `$ref`.

use serde_json::Value;

/// How many `$ref`s one chain may follow before it is called a cycle. Real documents chain two
/// or three at most; the limit keeps a long non-repeating chain from costing quadratic time.
const MAX_CHAIN: usize = 64;

/// Why a reference could not be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefProblem {
    /// Not a local (`#...`) reference.
    External { pointer: String, reference: String },
    /// The chain of references returns to one it already followed.
    Cycle { pointer: String, reference: String },
    /// The reference points at nothing.
    Dangling { pointer: String, reference: String },
}

/// Walks the whole document and returns the first external reference, or the first pure cycle
/// of references, in document order.
pub(crate) fn check_refs(root: &Value) -> Result<(), RefProblem> {
    // Pointers are only spelled out for a `$ref`: each visited container is a node in an arena
    // (parent index and key), and the stack holds arena indexes.
    enum Step<'a> {
        Key(&'a str),
        Index(usize),
    }
    let mut arena: Vec<(usize, Step<'_>)> = Vec::new();
    let pointer_of = |arena: &[(usize, Step<'_>)], mut node: usize| {
        let mut parts = Vec::new();
        while node != usize::MAX {
            let (parent, step) = &arena[node];
            parts.push(match step {
                Step::Key(k) => escape(k),
                Step::Index(i) => i.to_string(),
            });
            node = *parent;
        }
        parts
            .iter()
            .rev()
            .fold(String::new(), |acc, p| acc + "/" + p)
    };
    let mut stack: Vec<(usize, &Value)> = vec![(usize::MAX, root)];
    while let Some((node, value)) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let pointer = if node == usize::MAX {
                        String::new()
                    } else {
                        pointer_of(&arena, node)
                    };
                    if !reference.starts_with('#') {
                        return Err(RefProblem::External {
                            pointer: format!("{pointer}/$ref"),
                            reference: reference.clone(),
                        });
                    }
                    if let Err(problem @ RefProblem::Cycle { .. }) = resolve(root, value, &pointer)
                    {
                        return Err(problem);
                    }
                }
                // Reverse so that the stack pops children in document order.
                for (key, child) in map.iter().rev() {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        arena.push((node, Step::Key(key)));
                        stack.push((arena.len() - 1, child));
                    }
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate().rev() {
                    if matches!(child, Value::Object(_) | Value::Array(_)) {
                        arena.push((node, Step::Index(i)));
                        stack.push((arena.len() - 1, child));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Follows `value`'s chain of `$ref`s (if any) to the first object that is not a reference.
/// `pointer` is where `value` sits, for messages; the result carries the target's pointer.
pub(crate) fn resolve<'a>(
    root: &'a Value,
    value: &'a Value,
    pointer: &str,
) -> Result<(&'a Value, String), RefProblem> {
    let mut current = value;
    let mut at = pointer.to_owned();
    let mut seen: Vec<String> = Vec::new();
    while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(RefProblem::External {
                pointer: format!("{at}/$ref"),
                reference: reference.to_owned(),
            });
        };
        if seen.iter().any(|s| s == reference) || seen.len() >= MAX_CHAIN {
            return Err(RefProblem::Cycle {
                pointer: format!("{pointer}/$ref"),
                reference: reference.to_owned(),
            });
        }
        seen.push(reference.to_owned());
        let target = decode_fragment(fragment).and_then(|p| root.pointer(&p).map(|v| (v, p)));
        let Some((target, target_pointer)) = target else {
            return Err(RefProblem::Dangling {
                pointer: format!("{at}/$ref"),
                reference: reference.to_owned(),
            });
        };
        current = target;
        at = target_pointer;
    }
    Ok((current, at))
}

/// A URI fragment (`/components/schemas/A%20B`) as a JSON pointer, percent-decoded.
fn decode_fragment(fragment: &str) -> Option<String> {
    if fragment.is_empty() {
        return Some(String::new());
    }
    if !fragment.starts_with('/') {
        // Plain-name fragments (`#foo`, JSON Schema anchors) are not supported.
        return None;
    }
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Escapes one key for a JSON pointer.
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chains_resolve_to_the_first_plain_object() {
        let doc = json!({
            "components": {"parameters": {
                "a": {"$ref": "#/components/parameters/b"},
                "b": {"name": "x", "in": "query"},
                "c d": {"name": "spaced"}
            }},
            "use": {"$ref": "#/components/parameters/a"},
            "pct": {"$ref": "#/components/parameters/c%20d"}
        });
        let (v, at) = resolve(&doc, &doc["use"], "/use").unwrap();
        assert_eq!(v["name"], "x");
        assert_eq!(at, "/components/parameters/b");
        assert_eq!(
            resolve(&doc, &doc["pct"], "/pct").unwrap().0["name"],
            "spaced"
        );
        assert!(check_refs(&doc).is_ok());
    }

    #[test]
    fn cycles_external_and_dangling_refs_are_told_apart() {
        let doc = json!({
            "a": {"$ref": "#/b"}, "b": {"$ref": "#/a"},
            "self": {"$ref": "#/self"},
        });
        assert!(matches!(
            resolve(&doc, &doc["a"], "/a"),
            Err(RefProblem::Cycle { .. })
        ));
        assert!(matches!(
            resolve(&doc, &doc["self"], "/self"),
            Err(RefProblem::Cycle { .. })
        ));
        assert!(
            matches!(check_refs(&doc), Err(RefProblem::Cycle { pointer, .. }) if pointer == "/a/$ref")
        );

        let ext = json!({"x": [{"y": {"$ref": "other.yaml#/a"}}]});
        assert_eq!(
            check_refs(&ext),
            Err(RefProblem::External {
                pointer: "/x/0/y/$ref".into(),
                reference: "other.yaml#/a".into()
            })
        );
        let dangling = json!({"x": {"$ref": "#/nowhere"}, "y": {"$ref": "#/bad%zz"}});
        assert!(check_refs(&dangling).is_ok());
        assert!(matches!(
            resolve(&dangling, &dangling["x"], "/x"),
            Err(RefProblem::Dangling { .. })
        ));
        assert!(matches!(
            resolve(&dangling, &dangling["y"], "/y"),
            Err(RefProblem::Dangling { .. })
        ));
    }

    #[test]
    fn recursive_schemas_are_not_cycles() {
        let doc = json!({"components": {"schemas": {"Node": {
            "type": "object",
            "properties": {"next": {"$ref": "#/components/schemas/Node"}}
        }}}});
        assert!(check_refs(&doc).is_ok());
    }
}
