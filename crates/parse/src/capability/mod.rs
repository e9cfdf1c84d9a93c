//! CapabilityStatement (STU3, R4, R4B, R5) and DSTU2 Conformance, in their JSON form, to the model.
//!
//! The element names the model reads are the same in every release; the differences handled here
//! are the resource type (`Conformance` in DSTU2), `profile` and `operation.definition` being a
//! `Reference` object (`{"reference": ...}`) in DSTU2/STU3 and a canonical string from R4 on, and
//! `conditionalRead` existing only from STU3 on.

mod cx;
mod params;
mod security;

pub(crate) use cx::{valid_param_name, valid_resource_type};
pub(crate) use params::{fold_modifiers, split_modifier, PendingModifier};
pub(crate) use security::valid_endpoint;

use crate::collect::{Named, Pushed, UniqueList};
use crate::Parsed;
use cx::{conditional_delete, conditional_read, kind, shown, versioning, Cx, Obj, MAX_ITEMS};
use fhirforge_model::{
    Connector, FhirRelease, Operation, Resource, ResourceInteraction, SearchParam, Security,
    Software, SourceKind, SystemCapabilities, SystemInteraction,
};
use params::{append_operations, append_params, read_operations, read_search_params};
use serde_json::Value;
use std::collections::BTreeMap;

/// One resource type while the statement is read: the first declaration, with indexes over its
/// lists so that merging a repeated declaration costs what the repeat holds, not what the first
/// one holds (hostile documents repeat one large entry thousands of times).
#[derive(Debug)]
struct ResourceAcc {
    /// The first declaration; its lists live in the fields below until [`ResourceAcc::finish`].
    resource: Resource,
    /// Pointer of the first declaration, for warnings.
    first: String,
    params: Named<SearchParam>,
    operations: Named<Operation>,
    supported_profiles: UniqueList<String>,
    search_include: UniqueList<String>,
    search_rev_include: UniqueList<String>,
    /// `name:modifier` entries of every declaration, folded in at the end.
    modifiers: Vec<PendingModifier>,
}

impl ResourceAcc {
    fn finish(self, cx: &mut Cx) -> Resource {
        let mut r = self.resource;
        r.search_params = self.params.into_vec();
        fold_modifiers(&mut r.search_params, self.modifiers, |p, m| cx.warn(p, m));
        r.operations = self.operations.into_vec();
        r.supported_profiles = self.supported_profiles.into_vec();
        r.search_include = self.search_include.into_vec();
        r.search_rev_include = self.search_rev_include.into_vec();
        r
    }
}

/// What all server `rest` entries add up to.
#[derive(Debug, Default)]
struct RestAcc {
    resources: BTreeMap<String, ResourceAcc>,
    /// Security services across every entry (a hash index: hostile documents repeat `rest`).
    services: UniqueList<String>,
    system_params: Named<SearchParam>,
    system_modifiers: Vec<PendingModifier>,
    system_operations: Named<Operation>,
    /// Resource entries and security services read so far, across every `rest` entry: past
    /// [`MAX_ITEMS`] of each the rest are counted and skipped, so a statement repeating `rest`
    /// costs no more than one whose lists are full.
    resource_entries: Budget,
    service_entries: Budget,
}

/// Counts entries of one kind across every `rest` entry.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    read: usize,
    skipped: usize,
    first_skipped: Option<String>,
}

impl Budget {
    /// Whether one more entry (at `ptr`) may be read; when not, it is counted.
    pub(crate) fn take(&mut self, ptr: impl FnOnce() -> String) -> bool {
        if self.read < MAX_ITEMS {
            self.read += 1;
            return true;
        }
        if self.first_skipped.is_none() {
            self.first_skipped = Some(ptr());
        }
        self.skipped += 1;
        false
    }

    /// One warning for everything skipped, at the first skipped entry.
    fn warn(self, cx: &mut Cx, what: &str) {
        if let Some(ptr) = self.first_skipped {
            cx.warn(
                ptr,
                format!(
                    "more than {MAX_ITEMS} {what} in all rest entries; {} more skipped",
                    self.skipped
                ),
            );
        }
    }
}

/// Reads a parsed JSON document as a CapabilityStatement or Conformance.
pub(crate) fn read(doc: &Value) -> Result<Parsed, crate::Error> {
    let root = match doc {
        Value::Object(o) => o,
        other => {
            return Err(crate::Error::NotCapabilityStatement {
                found: format!("{} at the top level", kind(other)),
            });
        }
    };
    let resource_type = match root.get("resourceType") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(crate::Error::NotCapabilityStatement {
                found: format!("resourceType is {}", kind(other)),
            });
        }
        None => {
            return Err(crate::Error::NotCapabilityStatement {
                found: "an object without resourceType".to_owned(),
            });
        }
    };
    if resource_type != "CapabilityStatement" && resource_type != "Conformance" {
        return Err(crate::Error::NotCapabilityStatement {
            found: format!("resourceType {}", shown(resource_type)),
        });
    }
    let mut cx = Cx::default();
    let connector = read_root(&mut cx, root, resource_type);
    Ok(Parsed {
        connector,
        warnings: cx.warnings.finish(),
    })
}

fn read_root(cx: &mut Cx, root: &Obj, resource_type: &str) -> Connector {
    let fhir_version = cx.str(root, "fhirVersion", "").map(str::to_owned);
    let fhir_release = fhir_version.as_deref().and_then(FhirRelease::from_version);
    match (&fhir_version, fhir_release) {
        (None, _) => cx.warn(
            "/fhirVersion",
            "no fhirVersion; the FHIR release is unknown",
        ),
        (Some(v), None) => cx.warn("/fhirVersion", format!("unknown FHIR version {}", shown(v))),
        (Some(_), Some(release)) => {
            let dstu2 = release == FhirRelease::Dstu2;
            if dstu2 != (resource_type == "Conformance") {
                cx.warn(
                    "/resourceType",
                    format!(
                        "{resource_type} in a FHIR {} document; read anyway",
                        release.name()
                    ),
                );
            }
        }
    }

    let software = root
        .get("software")
        .and_then(|v| cx.object(v, "/software"))
        .map(|s| Software {
            name: cx.str(s, "name", "/software").map(str::to_owned),
            version: cx.str(s, "version", "/software").map(str::to_owned),
            release_date: cx.str(s, "releaseDate", "/software").map(str::to_owned),
        });
    let publisher = cx.str(root, "publisher", "").map(str::to_owned);
    let name = cx
        .str(root, "title", "")
        .or_else(|| cx.str(root, "name", ""))
        .map(str::to_owned)
        .or_else(|| software.as_ref().and_then(|s| s.name.clone()))
        .or_else(|| publisher.clone())
        .unwrap_or_else(|| "unnamed".to_owned());
    let base_url = root
        .get("implementation")
        .and_then(|v| cx.object(v, "/implementation"))
        .and_then(|i| cx.str(i, "url", "/implementation"))
        .map(str::to_owned);

    let mut connector = Connector {
        name,
        source_kind: if resource_type == "Conformance" {
            SourceKind::Conformance
        } else {
            SourceKind::CapabilityStatement
        },
        fhir_version: fhir_version.unwrap_or_default(),
        fhir_release,
        base_url,
        publisher,
        software,
        formats: cx.strings(root, "format", ""),
        patch_formats: cx.strings(root, "patchFormat", ""),
        security: Security::default(),
        system: SystemCapabilities::default(),
        resources: Vec::new(),
        generic_operations: Vec::new(),
    };

    let mut acc = RestAcc::default();
    let mut server_rests = 0;
    for (i, rest) in cx.array(root, "rest", "").iter().enumerate() {
        let ptr = format!("/rest/{i}");
        let Some(rest) = cx.object(rest, &ptr) else {
            continue;
        };
        match cx.str(rest, "mode", &ptr) {
            Some("server") | None => {}
            Some(mode) => {
                cx.warn(
                    format!("{ptr}/mode"),
                    format!("rest mode {}; skipped", shown(mode)),
                );
                continue;
            }
        }
        server_rests += 1;
        if server_rests == 2 {
            cx.warn(
                &ptr,
                "more than one server rest entry; merged into one connector",
            );
        }
        read_rest(cx, rest, &ptr, &mut connector, &mut acc);
    }
    if server_rests == 0 {
        cx.warn(
            "/rest",
            "no server rest entry: the statement declares no resources",
        );
    }

    acc.resource_entries.warn(cx, "resource entries");
    acc.service_entries.warn(cx, "security services");
    connector.security.services = acc.services.into_vec();
    connector.system.search_params = acc.system_params.into_vec();
    fold_modifiers(
        &mut connector.system.search_params,
        acc.system_modifiers,
        |p, m| cx.warn(p, m),
    );
    connector.system.operations = acc.system_operations.into_vec();
    connector.resources = acc.resources.into_values().map(|r| r.finish(cx)).collect();
    // Rust names are assigned once, after every merge, by the model's one naming pass.
    fhirforge_model::names::assign(&mut connector);
    connector
}

fn read_rest(cx: &mut Cx, rest: &Obj, ptr: &str, connector: &mut Connector, acc: &mut RestAcc) {
    if let Some(sec) = rest.get("security") {
        if let Some(sec) = cx.object(sec, &format!("{ptr}/security")) {
            security::read_security(
                cx,
                sec,
                &format!("{ptr}/security"),
                &mut connector.security,
                &mut acc.services,
                &mut acc.service_entries,
            );
        }
    }

    for (i, res) in cx.array(rest, "resource", ptr).iter().enumerate() {
        if !acc.resource_entries.take(|| format!("{ptr}/resource/{i}")) {
            continue;
        }
        let rptr = format!("{ptr}/resource/{i}");
        let Some(res) = cx.object(res, &rptr) else {
            continue;
        };
        let Some(resource_type) = cx.str(res, "type", &rptr) else {
            cx.warn(&rptr, "resource without a type; skipped");
            continue;
        };
        if !valid_resource_type(resource_type) {
            cx.warn(
                format!("{rptr}/type"),
                format!(
                    "{} is not a valid FHIR resource type name; skipped",
                    shown(resource_type)
                ),
            );
            continue;
        }
        let full = acc.resources.len() >= MAX_ITEMS;
        match acc.resources.get_mut(resource_type) {
            Some(existing) => {
                cx.warn_with(|| {
                    (
                        rptr.clone(),
                        format!(
                            "duplicate resource type {resource_type} merged into {}",
                            existing.first
                        ),
                    )
                });
                let resource = read_resource(cx, res, &rptr, resource_type);
                merge_resource(cx, existing, resource, &rptr);
            }
            None if full => {
                cx.warn(
                    &rptr,
                    format!("more than {MAX_ITEMS} resource types; skipped"),
                );
            }
            None => {
                let resource = read_resource(cx, res, &rptr, resource_type);
                acc.resources.insert(resource_type.to_owned(), resource);
            }
        }
    }

    let system = &mut connector.system;
    let interactions = read_interactions(cx, rest, ptr, SystemInteraction::from_code, |code| {
        format!("unknown system interaction code {}; skipped", shown(code))
    });
    for i in interactions {
        if !system.interactions.contains(&i) {
            system.interactions.push(i);
        }
    }
    system.interactions.sort();

    let (params, modifiers) = read_search_params(cx, rest, ptr, "Resource");
    append_params(cx, &mut acc.system_params, params);
    acc.system_modifiers.extend(modifiers);
    let ops = read_operations(cx, rest, ptr);
    append_operations(cx, &mut acc.system_operations, ops);
}

/// Reads `interaction` codes at resource or system level: duplicates merge and unknown codes are
/// skipped, each with a warning; the result is in canonical order.
fn read_interactions<T: Ord + Copy>(
    cx: &mut Cx,
    obj: &Obj,
    ptr: &str,
    from_code: fn(&str) -> Option<T>,
    unknown: impl Fn(&str) -> String,
) -> Vec<T> {
    let mut interactions = Vec::new();
    for (i, it) in cx.array(obj, "interaction", ptr).iter().enumerate() {
        let iptr = format!("{ptr}/interaction/{i}");
        let Some(it) = cx.object(it, &iptr) else {
            continue;
        };
        let Some(code) = cx.str(it, "code", &iptr) else {
            cx.warn(&iptr, "interaction without a code; skipped");
            continue;
        };
        match from_code(code) {
            Some(known) if interactions.contains(&known) => {
                cx.warn(
                    format!("{iptr}/code"),
                    format!("duplicate interaction {code} merged"),
                );
            }
            Some(known) => interactions.push(known),
            None => cx.warn(format!("{iptr}/code"), unknown(code)),
        }
    }
    interactions.sort();
    interactions
}

fn read_resource(cx: &mut Cx, res: &Obj, ptr: &str, resource_type: &str) -> ResourceAcc {
    let mut r = Resource::new(resource_type);
    r.profile = cx.canonical(res, "profile", ptr);
    let supported_profiles = cx.strings(res, "supportedProfile", ptr);
    r.documentation = cx.str(res, "documentation", ptr).map(str::to_owned);

    r.interactions = read_interactions(cx, res, ptr, ResourceInteraction::from_code, |code| {
        format!(
            "unknown interaction code {} for {resource_type}; skipped",
            shown(code)
        )
    });

    r.versioning = cx.code(res, "versioning", ptr, versioning);
    r.read_history = cx.bool(res, "readHistory", ptr);
    r.update_create = cx.bool(res, "updateCreate", ptr);
    r.conditional_create = cx.bool(res, "conditionalCreate", ptr);
    r.conditional_read = cx.code(res, "conditionalRead", ptr, conditional_read);
    r.conditional_update = cx.bool(res, "conditionalUpdate", ptr);
    r.conditional_delete = cx.code(res, "conditionalDelete", ptr, conditional_delete);
    let search_include = cx.strings(res, "searchInclude", ptr);
    let search_rev_include = cx.strings(res, "searchRevInclude", ptr);

    let mut params = Named::default();
    let (declared, modifiers) = read_search_params(cx, res, ptr, resource_type);
    append_params(cx, &mut params, declared);
    let mut operations = Named::default();
    let declared = read_operations(cx, res, ptr);
    append_operations(cx, &mut operations, declared);
    ResourceAcc {
        resource: r,
        first: ptr.to_owned(),
        params,
        operations,
        supported_profiles: UniqueList::from_vec(supported_profiles),
        search_include: UniqueList::from_vec(search_include),
        search_rev_include: UniqueList::from_vec(search_rev_include),
        modifiers,
    }
}

/// Appends the strings `into` lacks (up to [`MAX_ITEMS`] in all).
fn merge_strings(into: &mut UniqueList<String>, from: UniqueList<String>) {
    for v in from.into_vec() {
        if into.push(v) == Pushed::Full {
            break;
        }
    }
}

/// Merges a second declaration of the same resource type into the first.
fn merge_resource(cx: &mut Cx, into: &mut ResourceAcc, from: ResourceAcc, ptr: &str) {
    let (first, from_resource) = (&mut into.resource, from.resource);
    for i in from_resource.interactions {
        if !first.interactions.contains(&i) {
            first.interactions.push(i);
        }
    }
    first.interactions.sort();
    merge_strings(&mut into.supported_profiles, from.supported_profiles);
    merge_strings(&mut into.search_include, from.search_include);
    merge_strings(&mut into.search_rev_include, from.search_rev_include);
    first.profile = first.profile.take().or(from_resource.profile);
    first.documentation = first.documentation.take().or(from_resource.documentation);
    first.versioning = first.versioning.or(from_resource.versioning);
    first.read_history = first.read_history.or(from_resource.read_history);
    first.update_create = first.update_create.or(from_resource.update_create);
    first.conditional_create = first
        .conditional_create
        .or(from_resource.conditional_create);
    first.conditional_read = first.conditional_read.or(from_resource.conditional_read);
    first.conditional_update = first
        .conditional_update
        .or(from_resource.conditional_update);
    first.conditional_delete = first
        .conditional_delete
        .or(from_resource.conditional_delete);
    let params = from
        .params
        .into_vec()
        .into_iter()
        .map(|p| (p, ptr.to_owned()))
        .collect();
    append_params(cx, &mut into.params, params);
    let ops = from
        .operations
        .into_vec()
        .into_iter()
        .map(|o| (o, ptr.to_owned()))
        .collect();
    append_operations(cx, &mut into.operations, ops);
    into.modifiers.extend(from.modifiers);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_names() {
        for ok in ["Patient", "AllergyIntolerance", "A", "Observation2"] {
            assert!(valid_resource_type(ok), "{ok}");
        }
        for bad in [
            "",
            "patient",
            "Pat ient",
            "Patient\"",
            "Pätient",
            "1Patient",
            "P-atient",
        ] {
            assert!(!valid_resource_type(bad), "{bad}");
        }
        for ok in [
            "_id",
            "_lastUpdated",
            "-encounter",
            "ah-practice",
            "code-value-concept",
            "a.b",
        ] {
            assert!(valid_param_name(ok), "{ok}");
        }
        for bad in [
            "", "-", "_", "a b", "a\"b", "a*/b", "näme", "x\ny", "r#type", "a:b",
        ] {
            assert!(!valid_param_name(bad), "{bad}");
        }
    }
}
