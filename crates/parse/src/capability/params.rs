//! Search parameters and operations of a resource or of the whole system: read, merged by
//! name, named.

use super::cx::{shown, valid_param_name, Cx, Obj, MAX_ITEMS};
use crate::collect::Named;
use crate::core_params;
use fhirforge_model::{Operation, SearchParam, SearchParamType};
use std::collections::{HashMap, HashSet};

/// A modifier declared as a search parameter entry of its own (`subject:missing`), waiting to be
/// folded into its base parameter once every declaration of the owner is read.
#[derive(Debug)]
pub(crate) struct PendingModifier {
    /// The base parameter's name (`subject`).
    pub(crate) base: String,
    /// The modifier (`missing`).
    pub(crate) modifier: String,
    /// Where it was declared, for warnings.
    pub(crate) pointer: String,
}

/// `name:modifier` split in two when both halves are valid names (`subject:missing`,
/// `subject:Patient`, `code:not-in`).
pub(crate) fn split_modifier(name: &str) -> Option<(&str, &str)> {
    let (base, modifier) = name.split_once(':')?;
    (valid_param_name(base) && valid_param_name(modifier)).then_some((base, modifier))
}

/// Adds each pending modifier to its base parameter's `modifiers` (declaration order, no
/// duplicates); a modifier whose base the owner does not declare is reported through `warn`
/// and dropped.
pub(crate) fn fold_modifiers(
    params: &mut [SearchParam],
    pending: Vec<PendingModifier>,
    mut warn: impl FnMut(String, String),
) {
    if pending.is_empty() {
        return;
    }
    let index: HashMap<String, usize> = params
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.clone(), i))
        .collect();
    let mut seen: HashSet<(usize, String)> = params
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.modifiers.iter().map(move |m| (i, m.clone())))
        .collect();
    for m in pending {
        let Some(&i) = index.get(&m.base) else {
            warn(
                m.pointer,
                format!(
                    "modifier {} of {}, which is not a declared search parameter; skipped",
                    shown(&m.modifier),
                    shown(&m.base)
                ),
            );
            continue;
        };
        if params[i].modifiers.len() >= MAX_ITEMS {
            continue;
        }
        if seen.insert((i, m.modifier.clone())) {
            params[i].modifiers.push(m.modifier);
        } else {
            warn(
                m.pointer,
                format!(
                    "duplicate modifier {} of {} merged",
                    shown(&m.modifier),
                    shown(&m.base)
                ),
            );
        }
    }
}

/// Reads `searchParam` of a resource (or of `rest`, with `owner` = `Resource`), filling in core
/// documentation and definitions. Returns each parameter with its pointer (names are not yet
/// unique) and the `name:modifier` entries apart.
pub(crate) fn read_search_params(
    cx: &mut Cx,
    obj: &Obj,
    ptr: &str,
    owner: &str,
) -> (Vec<(SearchParam, String)>, Vec<PendingModifier>) {
    let mut out = Vec::new();
    let mut modifiers = Vec::new();
    for (i, p) in cx.array(obj, "searchParam", ptr).iter().enumerate() {
        let pptr = format!("{ptr}/searchParam/{i}");
        let Some(p) = cx.object(p, &pptr) else {
            continue;
        };
        let Some(name) = cx.str(p, "name", &pptr) else {
            cx.warn(&pptr, "search parameter without a name; skipped");
            continue;
        };
        if let Some((base, modifier)) = split_modifier(name) {
            modifiers.push(PendingModifier {
                base: base.to_owned(),
                modifier: modifier.to_owned(),
                pointer: format!("{pptr}/name"),
            });
            continue;
        }
        if !valid_param_name(name) {
            cx.warn(
                format!("{pptr}/name"),
                format!(
                    "{} is not a valid search parameter name; skipped",
                    shown(name)
                ),
            );
            continue;
        }
        let core = core_params::lookup(owner, name);
        let param_type = match cx.str(p, "type", &pptr) {
            Some(t) => {
                let t = SearchParamType::from(t.to_owned());
                if !t.is_known() {
                    cx.warn(
                        format!("{pptr}/type"),
                        format!(
                            "unknown search parameter type {}; kept as written",
                            shown(t.code())
                        ),
                    );
                }
                t
            }
            None => match core {
                Some(c) => {
                    cx.warn(
                        &pptr,
                        format!(
                            "no type for {name}; the FHIR core type {} is used",
                            c.param_type
                        ),
                    );
                    SearchParamType::from(c.param_type.clone())
                }
                None => {
                    cx.warn(
                        &pptr,
                        format!(
                            "no type for {} and no core definition; skipped",
                            shown(name)
                        ),
                    );
                    continue;
                }
            },
        };
        let mut param = SearchParam {
            name: name.to_owned(),
            rust_name: String::new(),
            range: SearchParam::range_applies(name, &param_type),
            documentation: cx.str(p, "documentation", &pptr).map(str::to_owned),
            definition: cx.canonical(p, "definition", &pptr),
            param_type,
            from_core: false,
            modifiers: Vec::new(),
        };
        // Core text and URL only describe a parameter the vendor declares with the core type;
        // a vendor-only name or a core name with vendor semantics keeps the vendor's own.
        if let Some(core) = core.filter(|c| c.param_type == param.param_type.code()) {
            if param.documentation.is_none() && !core.description.is_empty() {
                param.documentation = Some(core.description.clone());
                param.from_core = true;
            }
            if param.definition.is_none() {
                param.definition = Some(core.url.clone());
                param.from_core = true;
            }
        }
        out.push((param, pptr));
    }
    (out, modifiers)
}

/// Appends parameters, merging a repeated name into its first declaration with a warning.
pub(crate) fn append_params(
    cx: &mut Cx,
    into: &mut Named<SearchParam>,
    params: Vec<(SearchParam, String)>,
) {
    for (p, pptr) in params {
        match into.get_mut(&p.name) {
            Some(first) => {
                if first.param_type != p.param_type {
                    cx.warn(
                        &pptr,
                        format!(
                            "duplicate search parameter {} declared as {} (first as {}); the first is kept",
                            shown(&p.name),
                            p.param_type,
                            first.param_type
                        ),
                    );
                } else {
                    cx.warn(
                        &pptr,
                        format!("duplicate search parameter {} merged", shown(&p.name)),
                    );
                }
                if first.documentation.is_none() {
                    first.documentation = p.documentation;
                }
                if first.definition.is_none() {
                    first.definition = p.definition;
                }
            }
            None => {
                if !into.insert(p) {
                    cx.warn(
                        &pptr,
                        format!("more than {MAX_ITEMS} search parameters; skipped"),
                    );
                }
            }
        }
    }
}

pub(crate) fn read_operations(cx: &mut Cx, obj: &Obj, ptr: &str) -> Vec<(Operation, String)> {
    let mut out = Vec::new();
    for (i, op) in cx.array(obj, "operation", ptr).iter().enumerate() {
        let optr = format!("{ptr}/operation/{i}");
        let Some(op) = cx.object(op, &optr) else {
            continue;
        };
        let Some(raw) = cx.str(op, "name", &optr) else {
            cx.warn(&optr, "operation without a name; skipped");
            continue;
        };
        // Some servers write the `$`; the element holds the bare name.
        let name = raw.strip_prefix('$').unwrap_or(raw);
        if !valid_param_name(name) {
            cx.warn(
                format!("{optr}/name"),
                format!("{} is not a valid operation name; skipped", shown(raw)),
            );
            continue;
        }
        let operation = Operation {
            name: name.to_owned(),
            rust_name: String::new(),
            definition: cx.canonical(op, "definition", &optr),
            documentation: cx.str(op, "documentation", &optr).map(str::to_owned),
        };
        out.push((operation, optr));
    }
    out
}

pub(crate) fn append_operations(
    cx: &mut Cx,
    into: &mut Named<Operation>,
    ops: Vec<(Operation, String)>,
) {
    for (op, optr) in ops {
        match into.get_mut(&op.name) {
            Some(first) => {
                cx.warn(
                    &optr,
                    format!("duplicate operation {} merged", shown(&op.name)),
                );
                if first.definition.is_none() {
                    first.definition = op.definition;
                }
                if first.documentation.is_none() {
                    first.documentation = op.documentation;
                }
            }
            None => {
                if !into.insert(op) {
                    cx.warn(&optr, format!("more than {MAX_ITEMS} operations; skipped"));
                }
            }
        }
    }
}
