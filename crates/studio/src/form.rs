//! The search form as the page sends it, and its reading into the runtime's [`SearchParams`].
//!
//! The page never encodes anything: it sends what the person typed, field by field, and this
//! module hands each value to the runtime's own search module (the same `push_text` and
//! `push_range_text` the CLI's `fhirforge search` calls), so the preview, the CLI command and a
//! Send all produce the query the runtime really sends.

use fhirforge_model::{Connector, SearchParamType};
use fhirforge_runtime::search::{Prefix, SearchParams, TextGrammar};
use serde::Deserialize;

/// A search form: one resource type, its filled fields, and the result parameters.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SearchForm {
    /// The resource type (`Patient`).
    pub(crate) resource: String,
    /// The filled parameter fields, in form order.
    #[serde(default)]
    pub(crate) params: Vec<FormParam>,
    /// `_include` values, from the declared list.
    #[serde(default)]
    pub(crate) include: Vec<String>,
    /// `_revinclude` values, from the declared list.
    #[serde(default)]
    pub(crate) revinclude: Vec<String>,
    /// `_count`, as typed.
    #[serde(default)]
    pub(crate) count: String,
    /// `_sort`, as typed.
    #[serde(default)]
    pub(crate) sort: String,
    /// Additional parameters, `NAME=VALUE` one per line (or joined by `&`), sent as typed.
    #[serde(default)]
    pub(crate) additional: String,
}

/// Value (one prefixed value) or range (two bounds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    #[default]
    Value,
    Range,
}

/// One end of a range in the form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BoundKind {
    #[default]
    Inclusive,
    Exclusive,
    Open,
}

/// One bound: its value and whether it is included.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct End {
    #[serde(default)]
    pub(crate) value: String,
    #[serde(default)]
    pub(crate) bound: BoundKind,
}

/// One parameter field.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct FormParam {
    /// The declared wire name (`birthdate`).
    pub(crate) name: String,
    /// A modifier (`exact`), empty for none.
    #[serde(default)]
    pub(crate) modifier: String,
    #[serde(default)]
    pub(crate) mode: Mode,
    /// One of the nine prefixes, empty for none (value mode).
    #[serde(default)]
    pub(crate) prefix: String,
    /// The value (value mode).
    #[serde(default)]
    pub(crate) value: String,
    #[serde(default)]
    pub(crate) lower: End,
    #[serde(default)]
    pub(crate) upper: End,
    /// The generation options make this parameter value-only (the Rust call then takes a
    /// `DateValue`, `NumberValue` or `QuantityValue`).
    #[serde(default)]
    pub(crate) value_only: bool,
}

/// One step of the built search, kept so the CLI command and the Rust call can be written in
/// the same order as the parameters were pushed (the query's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// `NAME=VALUE` parsed by the parameter's type (CLI positional argument).
    Value {
        name: String,
        modifier: String,
        text: String,
        ty: Option<SearchParamType>,
        value_only: bool,
    },
    /// A range (CLI `--range NAME=lo..hi`).
    Range {
        name: String,
        text: String,
        ty: Option<SearchParamType>,
        lower: (BoundKind, String),
        upper: (BoundKind, String),
        value_only: bool,
    },
    /// A result parameter (`_include`, `_count`, ...): a positional argument, a builder method.
    Result { name: String, value: String },
    /// Sent exactly as typed (CLI `--param`).
    Raw { name: String, value: String },
}

/// The search the form describes.
#[derive(Debug)]
pub(crate) struct Built {
    pub(crate) params: SearchParams,
    pub(crate) steps: Vec<Step>,
}

/// The declared type of `name` on `resource`, else the system-wide declaration, else the FHIR
/// core definition (as the CLI's checks find it).
pub(crate) fn param_type(
    connector: &Connector,
    resource: &str,
    name: &str,
) -> Option<SearchParamType> {
    connector
        .resource(resource)
        .and_then(|r| r.search_param(name))
        .or_else(|| {
            connector
                .system
                .search_params
                .iter()
                .find(|p| p.name == name)
        })
        .map(|p| p.param_type.clone())
        .or_else(|| {
            fhirforge_parse::core_params::lookup(resource, name)
                .map(|p| SearchParamType::from(p.param_type.clone()))
        })
}

pub(crate) fn full_name(name: &str, modifier: &str) -> String {
    if modifier.is_empty() {
        name.to_owned()
    } else {
        format!("{name}:{modifier}")
    }
}

/// `lo..hi` in the CLI's range syntax (`<` marks an exclusive end, an empty side is open).
fn range_text(lower: &End, upper: &End) -> String {
    let side = |e: &End| match e.bound {
        BoundKind::Open => String::new(),
        _ => e.value.trim().to_owned(),
    };
    let lx = if lower.bound == BoundKind::Exclusive {
        "<"
    } else {
        ""
    };
    let ux = if upper.bound == BoundKind::Exclusive {
        "<"
    } else {
        ""
    };
    format!("{}{lx}..{ux}{}", side(lower), side(upper))
}

fn is_open(e: &End) -> bool {
    e.bound == BoundKind::Open || e.value.trim().is_empty()
}

/// Reads the form into the runtime's parameters, in the CLI's order: typed values and result
/// parameters, then ranges, then the additional parameters as typed.
///
/// # Errors
///
/// A value its type's grammar refuses, an unknown prefix, a range on a type without order, or
/// an additional parameter without `=`; the message names the parameter.
pub(crate) fn build(
    connector: &Connector,
    form: &SearchForm,
    default_params: &[(String, String)],
) -> Result<Built, String> {
    let mut params = SearchParams::new();
    let mut steps = Vec::new();
    for (name, value) in default_params {
        params.raw(name.clone(), value.clone());
    }
    let mut ranges = Vec::new();
    for field in &form.params {
        let ty = param_type(connector, &form.resource, &field.name);
        let name = full_name(&field.name, field.modifier.trim());
        match field.mode {
            Mode::Value => {
                let value = field.value.trim();
                if value.is_empty() {
                    continue;
                }
                let prefix = field.prefix.trim();
                if !prefix.is_empty() {
                    prefix
                        .parse::<Prefix>()
                        .map_err(|_| format!("{name}: unknown prefix {prefix:?}"))?;
                    if !ty.as_ref().is_some_and(SearchParamType::supports_range) {
                        return Err(format!(
                            "{name}: prefixes apply to date, number and quantity parameters only"
                        ));
                    }
                }
                let text = format!("{prefix}{value}");
                let grammar = ty.as_ref().and_then(|t| TextGrammar::of_type(t.code()));
                params
                    .push_text(&name, &text, grammar)
                    .map_err(|e| e.to_string())?;
                steps.push(Step::Value {
                    name: field.name.clone(),
                    modifier: field.modifier.trim().to_owned(),
                    text,
                    ty,
                    value_only: field.value_only,
                });
            }
            Mode::Range => {
                if is_open(&field.lower) && is_open(&field.upper) {
                    continue;
                }
                if !field.modifier.trim().is_empty() {
                    return Err(format!("{name}: a range takes no modifier"));
                }
                ranges.push((field, ty));
            }
        }
    }
    let results = form
        .include
        .iter()
        .map(|v| ("_include", v.as_str()))
        .chain(form.revinclude.iter().map(|v| ("_revinclude", v.as_str())))
        .chain([("_sort", form.sort.trim()), ("_count", form.count.trim())]);
    for (name, value) in results {
        if value.is_empty() {
            continue;
        }
        if name == "_count" {
            let n: u32 = value
                .parse()
                .map_err(|_| format!("_count: {value:?} is not a whole number"))?;
            params.count(n);
        } else {
            params.raw(name, value);
        }
        steps.push(Step::Result {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    for (field, ty) in ranges {
        let text = range_text(&field.lower, &field.upper);
        let name = &field.name;
        if !ty.as_ref().is_some_and(SearchParamType::supports_range) {
            return Err(format!(
                "{name}: only date, number and quantity parameters take a range"
            ));
        }
        let grammar = ty.as_ref().and_then(|t| TextGrammar::of_type(t.code()));
        params
            .push_range_text(name, &text, grammar)
            .map_err(|e| e.to_string())?;
        let end = |e: &End| {
            let kind = if is_open(e) { BoundKind::Open } else { e.bound };
            (kind, e.value.trim().to_owned())
        };
        steps.push(Step::Range {
            name: name.clone(),
            text,
            ty,
            lower: end(&field.lower),
            upper: end(&field.upper),
            value_only: field.value_only,
        });
    }
    for line in form.additional.split(['\n', '&']) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| format!("additional parameter {line:?} needs NAME=VALUE"))?;
        params.raw(name, value);
        steps.push(Step::Raw {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    if let Some(e) = params.error() {
        return Err(e.to_string());
    }
    Ok(Built { params, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epic() -> Connector {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../specs/vendors/epic-r4-capability.json"
        );
        let bytes = std::fs::read(path).expect("epic spec");
        fhirforge_parse::read_capability_statement(
            &bytes,
            None,
            &fhirforge_parse::Limits::default(),
        )
        .expect("parses")
        .connector
    }

    fn range(name: &str, lo: &str, lk: BoundKind, hi: &str, hk: BoundKind) -> FormParam {
        FormParam {
            name: name.into(),
            mode: Mode::Range,
            lower: End {
                value: lo.into(),
                bound: lk,
            },
            upper: End {
                value: hi.into(),
                bound: hk,
            },
            ..FormParam::default()
        }
    }

    #[test]
    fn a_range_with_an_exclusive_upper_bound_is_ge_then_lt() {
        let form = SearchForm {
            resource: "Patient".into(),
            params: vec![range(
                "birthdate",
                "1970-01-01",
                BoundKind::Inclusive,
                "1980-01-01",
                BoundKind::Exclusive,
            )],
            additional: "family:exact=Smith".into(),
            count: "10".into(),
            ..SearchForm::default()
        };
        let built = build(&epic(), &form, &[]).expect("valid");
        assert_eq!(
            built.params.to_query_string().expect("query"),
            "_count=10&birthdate=ge1970-01-01&birthdate=lt1980-01-01&family%3Aexact=Smith"
        );
    }

    #[test]
    fn bad_values_and_prefixes_are_refused_with_the_name() {
        let mut form = SearchForm {
            resource: "Patient".into(),
            params: vec![FormParam {
                name: "birthdate".into(),
                prefix: "zz".into(),
                value: "1970".into(),
                ..FormParam::default()
            }],
            ..SearchForm::default()
        };
        assert!(build(&epic(), &form, &[])
            .unwrap_err()
            .contains("birthdate"));
        form.params[0].prefix = "ge".into();
        form.params[0].value = "19x".into();
        assert!(build(&epic(), &form, &[])
            .unwrap_err()
            .contains("birthdate"));
        form.params = vec![range(
            "family",
            "a",
            BoundKind::Inclusive,
            "b",
            BoundKind::Inclusive,
        )];
        assert!(build(&epic(), &form, &[]).is_err());
        form.params.clear();
        form.additional = "no-equals".into();
        assert!(build(&epic(), &form, &[]).is_err());
    }
}
