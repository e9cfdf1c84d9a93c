//! [`assign`]: every Rust name of a connector, decided in one pass; [`check`]: the same rules,
//! verified on a model someone else filled.

use super::{
    claim_all, result_param_method, snake_ident, Namespace, RESERVED_CLIENT_METHODS,
    RESERVED_GENERIC_ARGS, RESERVED_GENERIC_METHODS, RESERVED_RESOURCE_METHODS,
    RESERVED_SEARCH_METHODS,
};
use crate::{Connector, GenericOperation, Operation, SearchParam};
use std::collections::{HashMap, HashSet};

/// A name in a model that the generated code could not use as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// Where the name is (`resource Patient, search parameter birthdate`).
    pub location: String,
    /// The offending `rust_name`, as found.
    pub name: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: Rust name {:?} {} (fill the names with fhirforge_model::names::assign)",
            self.location,
            self.name.escape_debug().to_string(),
            self.problem
        )
    }
}

impl std::error::Error for NameError {}

/// Fills every Rust name of `connector` from its wire names: resource accessors (which are also
/// the generated modules' names), search parameters, operations, generic operations and their parameters.
///
/// Each name is unique in the scope the generated code puts it in and avoids that scope's
/// reserved names (the `RESERVED_*` lists of this module). The result depends only on the wire
/// names and their order, so calling it again changes nothing; [`check`] accepts its output.
///
/// * Resources: the accessor avoids [`RESERVED_CLIENT_METHODS`] (which holds the crate root's
///   module names, `prelude` and `runtime`, too).
/// * Search parameters: system-level ones first (they are offered on every resource that does
///   not declare a parameter of that wire name), then each resource's own, which also avoid the
///   inherited system names. A result parameter with a builder method is named after it
///   ([`result_param_method`]).
/// * Operations that would take a reserved name get an `_operation` suffix (`$create` on a
///   resource is `create_operation`); system operations also avoid the resource accessors. A
///   Bulk Data export entry point (system level, `Patient` or `Group`, see
///   [`Operation::export_level`]) is named `export` first, whatever its declared name.
/// * Generic operations are named from `operationId`, else from method and path
///   (`GET /api/patient/{puuid}` → `get_api_patient_by_puuid`); their parameters avoid
///   [`RESERVED_GENERIC_ARGS`].
pub fn assign(connector: &mut Connector) {
    let types: Vec<&str> = connector
        .resources
        .iter()
        .map(|r| r.resource_type.as_str())
        .collect();
    let accessors = claim_all(
        &mut Namespace::new(RESERVED_CLIENT_METHODS),
        &types,
        snake_ident,
        |_| true,
    );
    for (r, accessor) in connector.resources.iter_mut().zip(accessors) {
        r.rust_name = accessor;
    }

    name_params(
        &mut connector.system.search_params,
        &mut Namespace::new(RESERVED_SEARCH_METHODS),
        |_| true,
    );
    let system: HashMap<&str, &str> = connector
        .system
        .search_params
        .iter()
        .map(|p| (p.rust_name.as_str(), p.name.as_str()))
        .collect();
    for r in &mut connector.resources {
        let own: HashSet<String> = r.search_params.iter().map(|p| p.name.clone()).collect();
        // A system parameter is inherited (and keeps its name) unless the resource declares one
        // of the same wire name.
        let inherited = |n: &str| system.get(n).is_some_and(|wire| !own.contains(*wire));
        let mut params = std::mem::take(&mut r.search_params);
        name_params(
            &mut params,
            &mut Namespace::new(RESERVED_SEARCH_METHODS),
            |n| !inherited(n),
        );
        r.search_params = params;
    }

    let mut client = Namespace::new(RESERVED_CLIENT_METHODS);
    for r in &connector.resources {
        client.reserve(&r.rust_name);
    }
    name_operations(&mut connector.system.operations, client, None);
    for r in &mut connector.resources {
        let owner = Some(r.resource_type.as_str());
        name_operations(
            &mut r.operations,
            Namespace::new(RESERVED_RESOURCE_METHODS),
            owner,
        );
    }

    let mut generic = Namespace::new(RESERVED_GENERIC_METHODS);
    for name in connector
        .resources
        .iter()
        .map(|r| &r.rust_name)
        .chain(connector.system.operations.iter().map(|o| &o.rust_name))
    {
        generic.reserve(name);
    }
    let sources: Vec<String> = connector
        .generic_operations
        .iter()
        .map(generic_name_source)
        .collect();
    let names = claim_all(&mut generic, &sources, snake_ident, |_| true);
    for (op, name) in connector.generic_operations.iter_mut().zip(names) {
        op.rust_name = name;
        if op.params.is_empty() {
            continue; // most routes: no namespace to build
        }
        let wire: Vec<&str> = op.params.iter().map(|p| p.name.as_str()).collect();
        let args = claim_all(
            &mut Namespace::new(RESERVED_GENERIC_ARGS),
            &wire,
            snake_ident,
            |_| true,
        );
        for (p, arg) in op.params.iter_mut().zip(args) {
            p.rust_name = arg;
        }
    }
}

/// The text a generic operation's method name is derived from: its `operationId`, else the
/// method and the path's segments (`{puuid}` read as `by_puuid`).
fn generic_name_source(op: &GenericOperation) -> String {
    if let Some(id) = &op.operation_id {
        return id.clone();
    }
    let mut words = vec![op.method.as_str().to_ascii_lowercase()];
    for seg in op.path.split('/').filter(|s| !s.is_empty()) {
        match seg.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            Some(var) if !var.contains(['{', '}']) => words.push(format!("by_{var}")),
            _ => words.push(seg.to_owned()),
        }
    }
    words.join("_")
}

fn name_params(params: &mut [SearchParam], ns: &mut Namespace, free: impl Fn(&str) -> bool) {
    // Result parameters with a builder method take its name, outside the claims: the method
    // exists whether or not the spec declares the parameter.
    let (fixed, claimed): (Vec<usize>, Vec<usize>) =
        (0..params.len()).partition(|&i| result_param_method(&params[i].name).is_some());
    for i in fixed {
        params[i].rust_name = result_param_method(&params[i].name)
            .unwrap_or_default()
            .to_owned();
    }
    let wire: Vec<&str> = claimed.iter().map(|&i| params[i].name.as_str()).collect();
    let names = claim_all(ns, &wire, snake_ident, free);
    for (i, name) in claimed.into_iter().zip(names) {
        params[i].rust_name = name;
    }
}

/// Names the operations declared on `owner` (a resource type, `None` at system level) in `ns`:
/// a name that is reserved there gets an `_operation` suffix first, so Cerner's `$create` is
/// `create_operation` rather than a numbered `create_2`.
///
/// Bulk Data export entry points ([`Operation::export_level`]) are named `export` whatever
/// they are declared as (Epic's `$group-export` too), and before the other operations, so an
/// operation that would also become `export` (`$export_` on the same resource) is the one that
/// gets a suffix.
fn name_operations(ops: &mut [Operation], mut ns: Namespace, owner: Option<&str>) {
    let reserved = ns.clone();
    let suffixed = |snake: String| {
        if reserved.contains(&snake) {
            format!("{}_operation", snake.trim_end_matches('_'))
        } else {
            snake
        }
    };
    let (exports, others): (Vec<usize>, Vec<usize>) =
        (0..ops.len()).partition(|&i| ops[i].export_level(owner).is_some());
    claim_ops(ops, &mut ns, exports, |_| suffixed("export".to_owned()));
    claim_ops(ops, &mut ns, others, |name| suffixed(snake_ident(name)));
}

/// Names the operations at `indices` in `ns`, from their wire names through `candidate`.
fn claim_ops(
    ops: &mut [Operation],
    ns: &mut Namespace,
    indices: Vec<usize>,
    candidate: impl Fn(&str) -> String,
) {
    let wire: Vec<&str> = indices.iter().map(|&i| ops[i].name.as_str()).collect();
    let names = claim_all(ns, &wire, candidate, |_| true);
    for (i, name) in indices.into_iter().zip(names) {
        ops[i].rust_name = name;
    }
}

/// Checks that every Rust name in `connector` is one the generated code can use: a plain
/// identifier, not reserved in its scope, unique there (the rules of [`assign`], whose output
/// always passes). The generator calls it rather than trusting a hand-built model.
///
/// # Errors
/// The first name that breaks a rule, with its location.
pub fn check(connector: &Connector) -> Result<(), NameError> {
    let mut accessors = Namespace::new(RESERVED_CLIENT_METHODS);
    let mut seen_types: HashSet<&str> = HashSet::new();
    for r in &connector.resources {
        if !seen_types.insert(&r.resource_type) {
            continue; // the generator skips a repeated resource type
        }
        let at = || format!("resource {}", r.resource_type);
        snake_name(&r.rust_name, at)?;
        claim(&mut accessors, &r.rust_name, at)?;
    }
    let system = &connector.system;
    let mut system_names = Namespace::new(RESERVED_SEARCH_METHODS);
    check_params(&system.search_params, &mut system_names, "system")?;
    // Rust name -> wire name of the system parameters a resource may inherit.
    let inheritable: HashMap<&str, &str> = system
        .search_params
        .iter()
        .filter(|p| result_param_method(&p.name).is_none())
        .map(|p| (p.rust_name.as_str(), p.name.as_str()))
        .collect();
    for r in &connector.resources {
        let owner = format!("resource {}", r.resource_type);
        // One set per resource, so checking stays linear with many system parameters.
        let own: HashSet<&str> = r.search_params.iter().map(|p| p.name.as_str()).collect();
        for p in &r.search_params {
            let inherited = inheritable
                .get(p.rust_name.as_str())
                .is_some_and(|wire| !own.contains(wire));
            if inherited {
                let at = format!("{owner}, search parameter {}", p.name);
                return Err(error(
                    at,
                    &p.rust_name,
                    "is taken by an inherited system parameter",
                ));
            }
        }
        let mut ns = Namespace::new(RESERVED_SEARCH_METHODS);
        check_params(&r.search_params, &mut ns, &owner)?;
        let mut ops = Namespace::new(RESERVED_RESOURCE_METHODS);
        check_operations(&r.operations, &mut ops, &owner)?;
    }
    check_operations(&system.operations, &mut accessors, "system")?;
    let mut generic = Namespace::default();
    for op in &connector.generic_operations {
        let at = || format!("operation {} {}", op.method.as_str(), op.path);
        snake_name(&op.rust_name, at)?;
        claim(&mut generic, &op.rust_name, at)?;
        if op.params.is_empty() {
            continue;
        }
        let mut args = Namespace::new(RESERVED_GENERIC_ARGS);
        for p in &op.params {
            let at = || {
                format!(
                    "operation {} {}, parameter {}",
                    op.method.as_str(),
                    op.path,
                    p.name
                )
            };
            snake_name(&p.rust_name, at)?;
            claim(&mut args, &p.rust_name, at)?;
        }
    }
    Ok(())
}

fn check_params(params: &[SearchParam], ns: &mut Namespace, owner: &str) -> Result<(), NameError> {
    for p in params {
        let at = || format!("{owner}, search parameter {}", p.name);
        match result_param_method(&p.name) {
            Some(method) if p.rust_name == method => {}
            Some(_) => {
                return Err(error(
                    at(),
                    &p.rust_name,
                    "is not the builder method that sets this parameter",
                ))
            }
            None => {
                snake_name(&p.rust_name, at)?;
                claim(ns, &p.rust_name, at)?;
            }
        }
    }
    Ok(())
}

fn check_operations(ops: &[Operation], ns: &mut Namespace, owner: &str) -> Result<(), NameError> {
    for op in ops {
        let at = || format!("{owner}, operation ${}", op.name);
        snake_name(&op.rust_name, at)?;
        claim(ns, &op.rust_name, at)?;
    }
    Ok(())
}

fn error(location: String, name: &str, problem: &'static str) -> NameError {
    NameError {
        location,
        name: name.to_owned(),
        problem,
    }
}

/// A plain snake_case identifier: `[a-z_][a-z0-9_]*`, not `_`, not a keyword.
fn snake_name(name: &str, at: impl Fn() -> String) -> Result<(), NameError> {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name != "_"
        && !super::is_keyword(name);
    if plain {
        Ok(())
    } else {
        Err(error(at(), name, "is not a plain snake_case identifier"))
    }
}

fn claim(ns: &mut Namespace, name: &str, at: impl Fn() -> String) -> Result<(), NameError> {
    if ns.reserve(name) {
        Ok(())
    } else {
        Err(error(
            at(),
            name,
            "is reserved or already taken in its scope",
        ))
    }
}

#[cfg(test)]
mod tests;
