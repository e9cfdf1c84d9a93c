//! Checking a call against the server's capability statement before it is sent.

use crate::exit::InvalidInput;
use crate::term::clean;
use fhirforge_model::{
    Connector, ExportLevel, Resource, ResourceInteraction, SearchParam, SearchParamType,
};
use fhirforge_runtime::bulk::Level;

use fhirforge_model::suggest::COMMON_PARAMETERS as COMMON_PARAMS;
pub(crate) use fhirforge_model::suggest::{base_name, did_you_mean};

fn suggestion(hint: Option<String>) -> String {
    hint.map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// What the server's capability statement declares, used to refuse calls it would not accept.
#[derive(Debug)]
pub(crate) struct Checker {
    connector: Connector,
    /// Where the statement came from (`--spec FILE`, `profile x`, `GET /metadata`).
    source: String,
}

impl Checker {
    /// A checker over `connector`, read from `source`.
    pub(crate) fn new(connector: Connector, source: String) -> Self {
        Self { connector, source }
    }

    /// The declared resource `ty`, or an error suggesting the closest declared type.
    pub(crate) fn resource(&self, ty: &str) -> Result<&Resource, InvalidInput> {
        self.connector.resource(ty).ok_or_else(|| {
            let hint = did_you_mean(
                ty,
                self.connector.resources.iter().map(|r| &r.resource_type),
            );
            InvalidInput(format!(
                "the capability statement ({}) declares no resource type `{}`{} \
                 (--no-check sends anyway)",
                self.source,
                clean(ty),
                suggestion(hint)
            ))
        })
    }

    /// Refuses an interaction the statement does not declare for `ty`.
    pub(crate) fn interaction(
        &self,
        ty: &str,
        interaction: ResourceInteraction,
    ) -> Result<(), InvalidInput> {
        let resource = self.resource(ty)?;
        if resource.supports(interaction) {
            return Ok(());
        }
        let declared: Vec<&str> = resource.interactions.iter().map(|i| i.code()).collect();
        Err(InvalidInput(format!(
            "the capability statement ({}) does not declare `{}` for {ty} (declared: {}) \
             (--no-check sends anyway)",
            self.source,
            interaction.code(),
            if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            }
        )))
    }

    /// The declared type of search parameter `name` (modifiers and chains allowed) on `ty`;
    /// `Ok(None)` for the common and result parameters every resource accepts. Unknown names
    /// are an error suggesting the closest declared one.
    pub(crate) fn search_param(
        &self,
        ty: &str,
        name: &str,
    ) -> Result<Option<SearchParamType>, InvalidInput> {
        let resource = self.resource(ty)?;
        let base = base_name(name);
        let found = resource.search_param(base).or_else(|| {
            self.connector
                .system
                .search_params
                .iter()
                .find(|p| p.name == base)
        });
        if let Some(p) = found {
            self.modifier(ty, name, p)?;
            return Ok(Some(p.param_type.clone()));
        }
        if COMMON_PARAMS.contains(&base) || fhirforge_model::RESULT_PARAMETERS.contains(&base) {
            return Ok(None);
        }
        let declared = resource
            .search_params
            .iter()
            .chain(&self.connector.system.search_params)
            .flat_map(|p| {
                // `name:modifier` as declared, so `subjct:missing` suggests `subject:missing`.
                std::iter::once(p.name.clone())
                    .chain(p.modifiers.iter().map(|m| format!("{}:{m}", p.name)))
            })
            .chain(COMMON_PARAMS.iter().map(|&c| c.to_owned()))
            .chain(
                fhirforge_model::RESULT_PARAMETERS
                    .iter()
                    .map(|&c| c.to_owned()),
            );
        // Compared as typed up to a chain, modifier included when there is one.
        let typed = &name[..name.find('.').unwrap_or(name.len())];
        let hint = did_you_mean(typed, &declared.collect::<Vec<_>>());
        Err(InvalidInput(format!(
            "unknown search parameter `{}` for {ty}: the capability statement ({}) does not \
             declare it{} (--no-check sends anyway)",
            clean(base),
            self.source,
            suggestion(hint)
        )))
    }

    /// Refuses `name:modifier` when `param` declares modifiers and this is not one of them.
    /// A parameter that declares none accepts any (the statement says nothing about them), and
    /// a resource type on a reference (`subject:Patient`) is a target type, which statements do
    /// not list as a modifier.
    fn modifier(&self, ty: &str, name: &str, param: &SearchParam) -> Result<(), InvalidInput> {
        let Some(rest) = name[base_name(name).len()..].strip_prefix(':') else {
            return Ok(());
        };
        let modifier = &rest[..rest.find('.').unwrap_or(rest.len())];
        let type_modifier = param.param_type == SearchParamType::Reference
            && modifier.starts_with(|c: char| c.is_ascii_uppercase());
        if param.modifiers.is_empty()
            || type_modifier
            || param.modifiers.iter().any(|m| m == modifier)
        {
            return Ok(());
        }
        let hint = did_you_mean(modifier, &param.modifiers).map(|m| format!("{}:{m}", param.name));
        Err(InvalidInput(format!(
            "unknown modifier `:{}` of search parameter `{}` for {ty}: the capability statement \
             ({}) declares {}{} (--no-check sends anyway)",
            clean(modifier),
            clean(&param.name),
            self.source,
            param
                .modifiers
                .iter()
                .map(|m| format!("`{}:{}`", clean(&param.name), clean(m)))
                .collect::<Vec<_>>()
                .join(", "),
            suggestion(hint)
        )))
    }

    /// Refuses an operation the statement declares neither on `ty` nor at system level.
    pub(crate) fn operation(&self, ty: Option<&str>, name: &str) -> Result<(), InvalidInput> {
        let bare = name.strip_prefix('$').unwrap_or(name);
        let resource = match ty {
            Some(t) => Some(self.resource(t)?),
            None => None,
        };
        let mut declared: Vec<&str> = self
            .connector
            .system
            .operations
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        if let Some(r) = resource {
            declared.extend(r.operations.iter().map(|o| o.name.as_str()));
        }
        if declared
            .iter()
            .any(|d| d.strip_prefix('$').unwrap_or(d) == bare)
        {
            return Ok(());
        }
        let hint = did_you_mean(
            bare,
            declared.iter().map(|d| d.strip_prefix('$').unwrap_or(d)),
        )
        .map(|s| format!("${s}"));
        Err(InvalidInput(format!(
            "the capability statement ({}) declares no operation `${}`{}{} \
             (--no-check sends anyway)",
            self.source,
            clean(bare),
            ty.map(|t| format!(" for {t}")).unwrap_or_default(),
            suggestion(hint)
        )))
    }
}

impl Checker {
    /// The statement must declare a Bulk Data export at `level` (read by
    /// [`Operation::export_level`](fhirforge_model::Operation::export_level), so Epic's
    /// `group-export` and athenahealth's `ah-group-export` count).
    pub(crate) fn export(&self, level: &Level) -> Result<(), InvalidInput> {
        let wanted = match level {
            Level::System => ExportLevel::System,
            Level::Patient => ExportLevel::Patient,
            Level::Group(_) => ExportLevel::Group,
        };
        if self.declares_export(wanted) {
            return Ok(());
        }
        let available: Vec<&str> = [
            (ExportLevel::System, "--system"),
            (ExportLevel::Patient, "--patient"),
            (ExportLevel::Group, "--group ID"),
        ]
        .into_iter()
        .filter(|(l, _)| self.declares_export(*l))
        .map(|(_, flag)| flag)
        .collect();
        let declared = if available.is_empty() {
            "no Bulk Data export at all".to_owned()
        } else {
            format!("an export for {}", available.join(" and "))
        };
        Err(InvalidInput(format!(
            "the capability statement ({}) declares no Bulk Data export at {}; it declares \
             {declared} (--no-check sends anyway)",
            self.source,
            level.path()
        )))
    }

    fn declares_export(&self, level: ExportLevel) -> bool {
        let owner = match level {
            ExportLevel::System => None,
            ExportLevel::Patient => Some("Patient"),
            ExportLevel::Group => Some("Group"),
        };
        let ops = match owner {
            None => Some(&self.connector.system.operations),
            Some(t) => self
                .connector
                .resources
                .iter()
                .find(|r| r.resource_type == t)
                .map(|r| &r.operations),
        };
        ops.is_some_and(|ops| ops.iter().any(|o| o.export_level(owner) == Some(level)))
    }
}
