//! Tool arguments → runtime search parameters. Arguments come from a model and are untrusted:
//! every name is checked against the declared ones (an unknown one is refused with the closest
//! declared name, by the model crate's one suggestion helper) and every value is encoded by the
//! runtime's search types (`Date`, `Number`, `Quantity`, `Token`, ...), never by hand here.

use crate::tools::{ToolSpec, SEARCH_EXTRA};
use fhirforge_model::suggest::{base_name, did_you_mean, COMMON_PARAMETERS};
use fhirforge_model::{Connector, Resource, SearchParam, SearchParamType, RESULT_PARAMETERS};
use fhirforge_runtime::search::{
    Bound, Date, DateValue, Decimal, Number, NumberValue, Prefix, Quantity, QuantityValue,
    Reference, SearchError, SearchParams, Str, TextGrammar, Token, Uri,
};
use serde_json::{Map, Value};
use std::fmt;

/// An argument the tool refuses; the message names the argument, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(pub String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(text: impl Into<String>) -> Result<T, ArgError> {
    Err(ArgError(text.into()))
}

/// A name as it may appear in a message: printable, at most 64 characters.
pub(crate) fn shown(name: &str) -> String {
    crate::tools::clean(name, 64)
}

fn hint(h: Option<String>) -> String {
    h.map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Refuses arguments the tool's schema does not have, suggesting the closest property.
pub(crate) fn check_names(tool: &ToolSpec, args: &Map<String, Value>) -> Result<(), ArgError> {
    let properties = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object);
    let known: Vec<&String> = properties.map(|p| p.keys().collect()).unwrap_or_default();
    for name in args.keys() {
        if known.contains(&name) {
            continue;
        }
        let base = base_name(name);
        let extra = if base != name && known.iter().any(|k| *k == base) {
            format!(
                "; a modifier or chain goes in `additional` as {{\"name\": \"{}\", \"value\": ...}}",
                shown(name)
            )
        } else {
            hint(did_you_mean(name, known.iter().copied()))
        };
        return err(format!(
            "unknown argument `{}` for {}{extra}",
            shown(name),
            tool.name
        ));
    }
    if let Some(required) = tool.input_schema.get("required").and_then(Value::as_array) {
        for r in required.iter().filter_map(Value::as_str) {
            if args.get(r).is_none_or(Value::is_null) {
                return err(format!("{} needs the argument `{r}`", tool.name));
            }
        }
    }
    Ok(())
}

/// A string argument, or an error naming it.
pub(crate) fn string<'a>(
    args: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ArgError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => err(format!("argument `{name}` must be a string")),
    }
}

/// `max_results`: at most `limit`, at least 1; `limit` when absent.
pub(crate) fn max_results(args: &Map<String, Value>, limit: u32) -> Result<usize, ArgError> {
    match args.get("max_results") {
        None | Some(Value::Null) => Ok(limit as usize),
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Ok(n.min(u64::from(limit)) as usize),
            _ => err(format!("max_results must be an integer from 1 to {limit}")),
        },
    }
}

/// The `name`/`value` pairs of an array argument.
pub(crate) fn pairs<'a>(
    args: &'a Map<String, Value>,
    field: &str,
) -> Result<Vec<(&'a str, &'a str)>, ArgError> {
    let Some(v) = args.get(field).filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(items) = v.as_array() else {
        return err(format!(
            "`{field}` must be an array of {{name, value}} objects"
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let (Some(name), Some(value)) = (
            item.get("name").and_then(Value::as_str),
            item.get("value").and_then(Value::as_str),
        ) else {
            return err(format!(
                "each item of `{field}` must be an object with string `name` and `value`"
            ));
        };
        if name.is_empty() {
            return err(format!("an item of `{field}` has an empty name"));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// A search built from arguments: the parameters, and their names for the log.
#[derive(Debug)]
pub(crate) struct Search {
    pub(crate) params: SearchParams,
    pub(crate) names: Vec<String>,
}

fn declared<'a>(
    connector: &'a Connector,
    resource: &'a Resource,
    base: &str,
) -> Option<&'a SearchParam> {
    resource.search_param(base).or_else(|| {
        connector
            .system
            .search_params
            .iter()
            .find(|p| p.name == base)
    })
}

/// Checks a parameter name as typed (modifiers and chains allowed), the CLI's rules: the base
/// must be declared (or be a common or result parameter); a declared modifier list is enforced.
/// Returns the declared type, if any.
pub(crate) fn check_param(
    connector: &Connector,
    resource: &Resource,
    name: &str,
) -> Result<Option<SearchParamType>, ArgError> {
    let ty = &resource.resource_type;
    let base = base_name(name);
    if let Some(p) = declared(connector, resource, base) {
        if let Some(rest) = name[base.len()..].strip_prefix(':') {
            let modifier = &rest[..rest.find('.').unwrap_or(rest.len())];
            let type_modifier = p.param_type == SearchParamType::Reference
                && modifier.starts_with(|c: char| c.is_ascii_uppercase());
            if !(p.modifiers.is_empty()
                || type_modifier
                || p.modifiers.iter().any(|m| m == modifier))
            {
                let h = did_you_mean(modifier, &p.modifiers).map(|m| format!("{}:{m}", p.name));
                return err(format!(
                    "unknown modifier `:{}` of search parameter `{}` for {ty}: the server declares {}{}",
                    shown(modifier),
                    p.name,
                    p.modifiers
                        .iter()
                        .map(|m| format!("`{}:{m}`", p.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                    hint(h)
                ));
            }
        }
        return Ok(Some(p.param_type.clone()));
    }
    if COMMON_PARAMETERS.contains(&base) || RESULT_PARAMETERS.contains(&base) {
        return Ok(None);
    }
    let candidates: Vec<String> = resource
        .search_params
        .iter()
        .chain(&connector.system.search_params)
        .flat_map(|p| {
            std::iter::once(p.name.clone())
                .chain(p.modifiers.iter().map(|m| format!("{}:{m}", p.name)))
        })
        .chain(COMMON_PARAMETERS.iter().map(|&c| c.to_owned()))
        .chain(RESULT_PARAMETERS.iter().map(|&c| c.to_owned()))
        .collect();
    let typed = &name[..name.find('.').unwrap_or(name.len())];
    let declared_names: Vec<&str> = resource
        .search_params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    err(format!(
        "unknown search parameter `{}` for {ty}: the server does not declare it{} (declared: {})",
        shown(base),
        hint(did_you_mean(typed, &candidates)),
        if declared_names.is_empty() {
            "none".to_owned()
        } else {
            declared_names.join(", ")
        }
    ))
}

fn search_error(name: &str, e: SearchError) -> ArgError {
    ArgError(e.with_parameter(name).to_string())
}

/// Adds `name=value` in FHIR syntax, parsed by the declared type when the value is in the
/// type's own grammar (no modifier that changes it, such as `:missing` or `:text`).
pub(crate) fn push_text(
    params: &mut SearchParams,
    name: &str,
    value: &str,
    ty: Option<&SearchParamType>,
) -> Result<(), ArgError> {
    if value.is_empty() {
        return err(format!(
            "search parameter `{}` has an empty value (servers ignore it, which would match everything)",
            shown(name)
        ));
    }
    if base_name(name).starts_with('_') && base_name(name) != "_lastUpdated" {
        // Result and common parameters (`_count`, `_sort`, `_id`) go as typed.
        params.raw(name, value);
        return Ok(());
    }
    let grammar = ty.and_then(|t| TextGrammar::of_type(t.code()));
    params
        .push_text(name, value, grammar)
        .map_err(|e| search_error(name, e))
}

/// The text of a JSON scalar (a number keeps its written form).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn prefix_of(name: &str, obj: &Map<String, Value>) -> Result<Option<Prefix>, ArgError> {
    match obj.get("prefix") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => p
            .parse::<Prefix>()
            .map(Some)
            .map_err(|e| search_error(name, e)),
        Some(_) => err(format!("`{name}.prefix` must be a string")),
    }
}

fn only_keys(name: &str, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ArgError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            return err(format!(
                "unknown field `{}` in `{name}`{} (expected {})",
                shown(k),
                hint(did_you_mean(k, allowed)),
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// Adds one typed schema property's value (see `tools::param_schema`).
fn push_property(
    params: &mut SearchParams,
    p: &SearchParam,
    value: &Value,
) -> Result<(), ArgError> {
    let name = p.name.as_str();
    // A plain string is always accepted, in FHIR syntax: models often send one.
    if let Value::String(text) = value {
        if p.name == "_id" {
            return push_text(params, name, text, None);
        }
        return match p.param_type {
            SearchParamType::Reference => {
                if text.is_empty() {
                    return err(format!("`{name}` is empty"));
                }
                params.push(
                    name,
                    Reference::parse(text).map_err(|e| search_error(name, e))?,
                );
                Ok(())
            }
            SearchParamType::Uri if !text.is_empty() => {
                params.push(name, Uri::new(text));
                Ok(())
            }
            SearchParamType::String if !text.is_empty() => {
                params.push(name, Str::new(text));
                Ok(())
            }
            _ => push_text(params, name, text, Some(&p.param_type)),
        };
    }
    let Some(obj) = value.as_object() else {
        return err(format!(
            "`{name}` has the wrong type: see the tool's schema"
        ));
    };
    match &p.param_type {
        SearchParamType::Token => {
            only_keys(name, obj, &["system", "code"])?;
            let system = obj.get("system").and_then(scalar);
            let code = obj.get("code").and_then(scalar);
            let token = match (system, code) {
                (Some(s), Some(c)) => Token::system_code(s, c),
                (None, Some(c)) => Token::code(c),
                (Some(s), None) => Token::system(s),
                (None, None) => return err(format!("`{name}` needs a code or a system")),
            };
            params.push(name, token);
        }
        t @ (SearchParamType::Date | SearchParamType::Number | SearchParamType::Quantity) => {
            let quantity = *t == SearchParamType::Quantity;
            let mut allowed = vec!["prefix", "value", "lower", "upper"];
            if quantity {
                allowed.extend(["system", "code"]);
            }
            only_keys(name, obj, &allowed)?;
            let prefix = prefix_of(name, obj)?;
            let value = obj.get("value").filter(|v| !v.is_null());
            let lower = obj.get("lower").filter(|v| !v.is_null());
            let upper = obj.get("upper").filter(|v| !v.is_null());
            let text = |v: &Value, field: &str| {
                scalar(v).ok_or_else(|| {
                    ArgError(format!(
                        "`{name}.{field}` must be a non-empty string or a number"
                    ))
                })
            };
            let unit = |q: QuantityValue| -> QuantityValue {
                let system = obj.get("system").and_then(Value::as_str);
                match (system, obj.get("code").and_then(Value::as_str)) {
                    (Some(s), Some(c)) => q.with_unit(s, c),
                    (None, Some(c)) => q.with_code(c),
                    _ => q,
                }
            };
            match (value, lower.is_some() || upper.is_some()) {
                (Some(_), true) => {
                    return err(format!(
                        "`{name}`: give either `value` (with an optional prefix) or `lower`/`upper`, not both"
                    ))
                }
                (None, false) => {
                    return err(format!("`{name}` needs a `value`, or a `lower` and/or `upper` bound"))
                }
                (Some(v), false) => {
                    let v = text(v, "value")?;
                    match (t, prefix) {
                        (SearchParamType::Date, Some(px)) => params.push(name, Date::with_prefix(px, v)),
                        (SearchParamType::Date, None) => params.push(name, Date::new(v)),
                        (SearchParamType::Number, Some(px)) => {
                            params.push(name, Number::from(NumberValue::with_prefix(px, Decimal::from(v))))
                        }
                        (SearchParamType::Number, None) => params.push(name, Number::new(Decimal::from(v))),
                        (_, px) => {
                            let q = match px {
                                Some(px) => QuantityValue::with_prefix(px, Decimal::from(v)),
                                None => QuantityValue::new(Decimal::from(v)),
                            };
                            params.push(name, Quantity::from(unit(q)));
                        }
                    }
                }
                (None, true) => {
                    if prefix.is_some() {
                        return err(format!("`{name}`: a range takes no prefix"));
                    }
                    let bound = |v: Option<&Value>, field: &str| -> Result<Bound<String>, ArgError> {
                        Ok(match v {
                            Some(v) => Bound::Inclusive(text(v, field)?),
                            None => Bound::Unbounded,
                        })
                    };
                    let (lo, hi) = (bound(lower, "lower")?, bound(upper, "upper")?);
                    match t {
                        SearchParamType::Date => params.push(
                            name,
                            Date::range(lo.map(DateValue::new), hi.map(DateValue::new)),
                        ),
                        SearchParamType::Number => params.push(
                            name,
                            Number::range(
                                lo.map(|v| NumberValue::new(Decimal::from(v))),
                                hi.map(|v| NumberValue::new(Decimal::from(v))),
                            ),
                        ),
                        _ => params.push(
                            name,
                            Quantity::range(
                                lo.map(|v| unit(QuantityValue::new(Decimal::from(v)))),
                                hi.map(|v| unit(QuantityValue::new(Decimal::from(v)))),
                            ),
                        ),
                    }
                }
            }
        }
        _ => return err(format!("`{name}` must be a string")),
    }
    Ok(())
}

/// Builds a search from a full-mode tool's arguments (names already checked against the
/// schema by [`check_names`]).
pub(crate) fn full_search(
    connector: &Connector,
    resource: &Resource,
    args: &Map<String, Value>,
) -> Result<Search, ArgError> {
    let mut params = SearchParams::new();
    let mut names = Vec::new();
    for (name, value) in args {
        if value.is_null() || SEARCH_EXTRA.contains(&name.as_str()) {
            continue;
        }
        match name.as_str() {
            "_count" => match value.as_u64() {
                Some(n) if n >= 1 => params.count(u32::try_from(n).unwrap_or(u32::MAX)),
                _ => return err("`_count` must be a positive integer"),
            },
            "_elements" => {
                let Some(items) = value.as_array() else {
                    return err("`_elements` must be an array of element names");
                };
                let list: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                if list.len() != items.len() || list.iter().any(|e| e.is_empty()) {
                    return err("`_elements` must be an array of element names");
                }
                params.elements(list);
            }
            _ => {
                let Some(p) = resource.search_param(name) else {
                    return err(format!("unknown argument `{}`", shown(name)));
                };
                push_property(&mut params, p, value)?;
            }
        }
        names.push(name.clone());
    }
    additional(
        connector,
        resource,
        &pairs(args, "additional")?,
        &mut params,
        &mut names,
    )?;
    finish(params, names)
}

/// Adds checked `name=value` pairs in FHIR syntax.
pub(crate) fn additional(
    connector: &Connector,
    resource: &Resource,
    pairs: &[(&str, &str)],
    params: &mut SearchParams,
    names: &mut Vec<String>,
) -> Result<(), ArgError> {
    for (name, value) in pairs {
        let t = check_param(connector, resource, name)?;
        push_text(params, name, value, t.as_ref())?;
        names.push((*name).to_owned());
    }
    Ok(())
}

/// Surfaces a deferred value error (a reversed range, a bad date) before anything is sent.
pub(crate) fn finish(params: SearchParams, names: Vec<String>) -> Result<Search, ArgError> {
    if let Some(e) = params.error() {
        return Err(ArgError(e.to_string()));
    }
    Ok(Search { params, names })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A small statement read by the real reader, so the model is the one the CLI sees.
    pub(crate) fn statement() -> Connector {
        let statement = json!({
            "resourceType": "CapabilityStatement", "status": "active", "date": "2026-01-01",
            "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
            "rest": [{"mode": "server", "resource": [{
                "type": "Patient",
                "interaction": [{"code": "read"}, {"code": "search-type"}, {"code": "create"}],
                "searchParam": [
                    {"name": "family", "type": "string", "documentation": "The <b>family</b>\nname"},
                    {"name": "birthdate", "type": "date"},
                    {"name": "identifier", "type": "token"},
                    {"name": "general-practitioner", "type": "reference"},
                    {"name": "length", "type": "quantity"},
                    {"name": "_count", "type": "number"}
                ]
            }]}]
        });
        let bytes = serde_json::to_vec(&statement).expect("JSON");
        fhirforge_parse::read_capability_statement(
            &bytes,
            None,
            &fhirforge_parse::Limits::default(),
        )
        .expect("a valid statement")
        .connector
    }

    fn encode(args: Value) -> Result<Vec<(String, String)>, ArgError> {
        let c = statement();
        let r = c.resource("Patient").expect("declared").clone();
        let args = args.as_object().cloned().unwrap_or_default();
        let search = full_search(&c, &r, &args)?;
        search.params.pairs().map_err(|e| ArgError(e.to_string()))
    }

    fn pairs_of(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn dates_by_value_and_by_range() {
        assert_eq!(
            encode(json!({"birthdate": {"prefix": "ge", "value": "1970-01-01"}})).unwrap(),
            pairs_of(&[("birthdate", "ge1970-01-01")])
        );
        assert_eq!(
            encode(json!({"birthdate": {"lower": "1970", "upper": "1980-12-31"}})).unwrap(),
            pairs_of(&[("birthdate", "ge1970"), ("birthdate", "le1980-12-31")])
        );
        assert_eq!(
            encode(json!({"birthdate": "lt2000"})).unwrap(),
            pairs_of(&[("birthdate", "lt2000")])
        );
        assert!(encode(json!({"birthdate": {"lower": "1990", "upper": "1980"}})).is_err());
        assert!(encode(json!({"birthdate": {"prefix": "xx", "value": "1980"}})).is_err());
        assert!(encode(json!({"birthdate": {"value": "1980", "lower": "1970"}})).is_err());
        assert!(encode(json!({"birthdate": {"valu": "1980"}}))
            .unwrap_err()
            .0
            .contains("did you mean `value`"));
    }

    #[test]
    fn tokens_strings_references_quantities() {
        assert_eq!(
            encode(json!({"identifier": {"system": "urn:oid:1", "code": "a|b"}})).unwrap(),
            pairs_of(&[("identifier", r"urn:oid:1|a\|b")])
        );
        assert_eq!(
            encode(json!({"family": "O'Brien, Jr."})).unwrap(),
            pairs_of(&[("family", r"O'Brien\, Jr.")])
        );
        assert_eq!(
            encode(json!({"general-practitioner": "Practitioner/1"})).unwrap(),
            pairs_of(&[("general-practitioner", "Practitioner/1")])
        );
        assert_eq!(
            encode(json!({"length": {"prefix": "gt", "value": 5.4, "system": "http://unitsofmeasure.org", "code": "cm"}}))
                .unwrap(),
            pairs_of(&[("length", "gt5.4|http://unitsofmeasure.org|cm")])
        );
        assert!(encode(json!({"identifier": {}})).is_err());
        assert!(encode(json!({"family": 3})).is_err());
    }

    #[test]
    fn additional_pairs_are_checked_and_typed() {
        assert_eq!(
            encode(json!({"additional": [{"name": "family:exact", "value": "Smith"}, {"name": "birthdate:missing", "value": "false"}, {"name": "_sort", "value": "-birthdate"}]}))
                .unwrap(),
            pairs_of(&[
                ("family:exact", "Smith"),
                ("birthdate:missing", "false"),
                ("_sort", "-birthdate")
            ])
        );
        let e = encode(json!({"additional": [{"name": "familly", "value": "x"}]})).unwrap_err();
        assert!(e.0.contains("did you mean `family`"), "{e}");
        assert!(encode(json!({"additional": [{"name": "birthdate", "value": "19x"}]})).is_err());
        assert!(encode(json!({"additional": [{"name": "family", "value": ""}]})).is_err());
        assert!(encode(json!({"additional": "family=x"})).is_err());
        assert_eq!(
            encode(json!({"_count": 2})).unwrap(),
            pairs_of(&[("_count", "2")])
        );
    }
}
