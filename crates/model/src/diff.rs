//! Capability drift: what changed between two connectors built from two capability statements.
//!
//! `fhirforge diff OLD NEW` prints these changes so a CI job can re-check a live EHR against the
//! statement a connector was generated from. Changes come out in a deterministic order: fhir
//! version, security, system level, then resources by type name, each in element order.

use crate::{Connector, Operation, Resource, SearchParam};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether an element appeared, disappeared or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Present only in the new statement.
    Added,
    /// Present only in the old statement.
    Removed,
    /// Present in both with a different value.
    Changed,
}

/// One difference between two connectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// What kind of element: `resource`, `interaction`, `search-param`, `operation`,
    /// `include`, `revinclude`, `system-interaction`, `security-endpoint`, `fhir-version`, ...
    pub element: String,
    /// Where: the resource type (`Patient`), `system`, or `security`.
    pub scope: String,
    /// The element's name (`birthdate`, `search-type`, `token`).
    pub name: String,
    /// The old value, for `changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The new value, for `changed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = match self.kind {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        };
        write!(f, "{sign} {} {} {}", self.scope, self.element, self.name)?;
        if self.kind == ChangeKind::Changed {
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
            write!(f, ": {} -> {}", show(&self.old), show(&self.new))?;
        }
        Ok(())
    }
}

struct Differ {
    changes: Vec<Change>,
}

impl Differ {
    fn push(&mut self, kind: ChangeKind, element: &str, scope: &str, name: &str) {
        self.changes.push(Change {
            kind,
            element: element.to_owned(),
            scope: scope.to_owned(),
            name: name.to_owned(),
            old: None,
            new: None,
        });
    }

    fn changed(
        &mut self,
        element: &str,
        scope: &str,
        name: &str,
        old: Option<&str>,
        new: Option<&str>,
    ) {
        if old != new {
            self.changes.push(Change {
                kind: ChangeKind::Changed,
                element: element.to_owned(),
                scope: scope.to_owned(),
                name: name.to_owned(),
                old: old.map(str::to_owned),
                new: new.map(str::to_owned),
            });
        }
    }

    /// Set difference by key, in the order of `old` (removed) then `new` (added).
    fn sets<'a, T>(
        &mut self,
        element: &str,
        scope: &str,
        old: &'a [T],
        new: &'a [T],
        key: impl Fn(&'a T) -> String,
    ) {
        let old_keys: Vec<String> = old.iter().map(&key).collect();
        let new_keys: Vec<String> = new.iter().map(&key).collect();
        for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
            self.push(ChangeKind::Removed, element, scope, k);
        }
        for k in new_keys.iter().filter(|k| !old_keys.contains(k)) {
            self.push(ChangeKind::Added, element, scope, k);
        }
    }

    fn search_params(&mut self, scope: &str, old: &[SearchParam], new: &[SearchParam]) {
        self.sets("search-param", scope, old, new, |p| p.name.clone());
        for o in old {
            if let Some(n) = new.iter().find(|n| n.name == o.name) {
                let name = &o.name;
                self.changed(
                    "search-param-type",
                    scope,
                    name,
                    Some(o.param_type.code()),
                    Some(n.param_type.code()),
                );
            }
        }
    }

    fn operations(&mut self, scope: &str, old: &[Operation], new: &[Operation]) {
        self.sets("operation", scope, old, new, |o| format!("${}", o.name));
        for o in old {
            if let Some(n) = new.iter().find(|n| n.name == o.name) {
                let name = format!("${}", o.name);
                self.changed(
                    "operation-definition",
                    scope,
                    &name,
                    o.definition.as_deref(),
                    n.definition.as_deref(),
                );
            }
        }
    }

    fn resource(&mut self, old: &Resource, new: &Resource) {
        let scope = old.resource_type.as_str();
        self.sets(
            "interaction",
            scope,
            &old.interactions,
            &new.interactions,
            |i| i.code().to_owned(),
        );
        self.search_params(scope, &old.search_params, &new.search_params);
        self.operations(scope, &old.operations, &new.operations);
        self.sets(
            "include",
            scope,
            &old.search_include,
            &new.search_include,
            Clone::clone,
        );
        self.sets(
            "revinclude",
            scope,
            &old.search_rev_include,
            &new.search_rev_include,
            Clone::clone,
        );
        let code = |v: Option<crate::Versioning>| {
            v.and_then(|v| serde_json::to_value(v).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        self.changed(
            "versioning",
            scope,
            "versioning",
            code(old.versioning).as_deref(),
            code(new.versioning).as_deref(),
        );
        let flag = |b: Option<bool>| b.map(|b| b.to_string());
        self.changed(
            "conditional-create",
            scope,
            "conditionalCreate",
            flag(old.conditional_create).as_deref(),
            flag(new.conditional_create).as_deref(),
        );
        self.changed(
            "conditional-update",
            scope,
            "conditionalUpdate",
            flag(old.conditional_update).as_deref(),
            flag(new.conditional_update).as_deref(),
        );
    }
}

/// Every difference between `old` and `new` that matters to a generated connector or its caller.
pub fn diff(old: &Connector, new: &Connector) -> Vec<Change> {
    let mut d = Differ {
        changes: Vec::new(),
    };
    d.changed(
        "fhir-version",
        "statement",
        "fhirVersion",
        Some(&old.fhir_version),
        Some(&new.fhir_version),
    );
    d.changed(
        "base-url",
        "statement",
        "implementation.url",
        old.base_url.as_deref(),
        new.base_url.as_deref(),
    );

    for ((name, o), (_, n)) in old.security.oauth.iter().zip(new.security.oauth.iter()) {
        d.changed("security-endpoint", "security", name, o, n);
    }
    d.sets(
        "security-service",
        "security",
        &old.security.services,
        &new.security.services,
        Clone::clone,
    );
    d.sets(
        "signing-alg",
        "security",
        &old.security.token_endpoint_auth_signing_algs,
        &new.security.token_endpoint_auth_signing_algs,
        Clone::clone,
    );
    d.sets(
        "auth-method",
        "security",
        &old.security.token_endpoint_auth_methods,
        &new.security.token_endpoint_auth_methods,
        Clone::clone,
    );

    d.sets(
        "system-interaction",
        "system",
        &old.system.interactions,
        &new.system.interactions,
        |i| i.code().to_owned(),
    );
    d.operations("system", &old.system.operations, &new.system.operations);
    d.search_params(
        "system",
        &old.system.search_params,
        &new.system.search_params,
    );

    let old_by_type: BTreeMap<&str, &Resource> = old
        .resources
        .iter()
        .map(|r| (r.resource_type.as_str(), r))
        .collect();
    let new_by_type: BTreeMap<&str, &Resource> = new
        .resources
        .iter()
        .map(|r| (r.resource_type.as_str(), r))
        .collect();
    let mut types: Vec<&str> = old_by_type
        .keys()
        .chain(new_by_type.keys())
        .copied()
        .collect();
    types.sort_unstable();
    types.dedup();
    for ty in types {
        match (old_by_type.get(ty), new_by_type.get(ty)) {
            (Some(o), Some(n)) => d.resource(o, n),
            (Some(_), None) => d.push(ChangeKind::Removed, "resource", ty, ty),
            (None, Some(_)) => d.push(ChangeKind::Added, "resource", ty, ty),
            (None, None) => {}
        }
    }
    d.changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ResourceInteraction, SearchParamType, Security, SystemCapabilities};

    fn param(name: &str, t: SearchParamType) -> SearchParam {
        SearchParam {
            name: name.into(),
            rust_name: crate::names::snake_ident(name),
            range: SearchParam::range_applies(name, &t),
            param_type: t,
            documentation: None,
            definition: None,
            from_core: false,
            modifiers: Vec::new(),
        }
    }

    fn connector(resources: Vec<Resource>) -> Connector {
        Connector {
            name: "test".into(),
            source_kind: Default::default(),
            fhir_version: "4.0.1".into(),
            fhir_release: None,
            base_url: None,
            publisher: None,
            software: None,
            formats: vec![],
            patch_formats: vec![],
            security: Security::default(),
            system: SystemCapabilities::default(),
            resources,
            generic_operations: vec![],
        }
    }

    #[test]
    fn equal_connectors_have_no_changes() {
        let mut p = Resource::new("Patient");
        p.interactions = vec![ResourceInteraction::Read];
        let c = connector(vec![p]);
        assert!(diff(&c, &c.clone()).is_empty());
    }

    #[test]
    fn reports_each_kind_of_change_once() {
        let mut p = Resource::new("Patient");
        p.interactions = vec![ResourceInteraction::Read, ResourceInteraction::SearchType];
        p.search_params = vec![
            param("birthdate", SearchParamType::Date),
            param("name", SearchParamType::String),
        ];
        let old = connector(vec![p.clone()]);

        let mut p2 = p;
        p2.interactions = vec![ResourceInteraction::Read, ResourceInteraction::Create];
        p2.search_params = vec![param("birthdate", SearchParamType::Token)];
        let mut new = connector(vec![p2, Resource::new("Observation")]);
        new.security.oauth.token = Some("https://t".into());

        let got: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "~ security security-endpoint token: (none) -> https://t",
                "+ Observation resource Observation",
                "- Patient interaction search-type",
                "+ Patient interaction create",
                "- Patient search-param name",
                "~ Patient search-param-type birthdate: date -> token",
            ]
        );
    }
}
