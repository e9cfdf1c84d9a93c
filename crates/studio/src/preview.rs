//! What the page shows beside the search form: the request the runtime will send, the
//! equivalent `fhirforge search` command, and the equivalent call on the generated connector.

use crate::form::{BoundKind, Built, Step};
use fhirforge_model::{Connector, SearchParamType};
use serde::Serialize;

/// The preview of one search.
#[derive(Debug, Serialize)]
pub(crate) struct Preview {
    /// `GET` (the runtime switches to `POST _search` only past its URL length limit).
    pub(crate) method: &'static str,
    /// The full URL, query included.
    pub(crate) url: String,
    /// The encoded query alone, exactly as the runtime sends it.
    pub(crate) query: String,
    /// The parameters before percent-encoding.
    pub(crate) pairs: Vec<(String, String)>,
    /// The equivalent `fhirforge search` command line.
    pub(crate) cli: String,
    /// The equivalent Rust call on the generated connector.
    pub(crate) rust: String,
}

/// How the CLI command names the server.
#[derive(Debug, Clone, Default)]
pub(crate) struct CliTarget {
    pub(crate) profile: Option<String>,
    pub(crate) base: Option<String>,
    pub(crate) spec: Option<String>,
}

impl CliTarget {
    /// The `--profile NAME` or `--base URL` arguments (a placeholder when neither is known).
    pub(crate) fn server_args(&self) -> String {
        if let Some(p) = &self.profile {
            format!("--profile {}", shell_quote(p))
        } else if let Some(b) = &self.base {
            format!("--base {}", shell_quote(b))
        } else {
            "--base <BASE-URL>".to_owned()
        }
    }
}

/// A shell word, single-quoted unless it is plainly safe.
pub(crate) fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-=:./,@+%".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The preview of `built` for `resource` at `base`.
///
/// # Errors
///
/// A deferred value error from the runtime's encoder.
pub(crate) fn preview(
    connector: &Connector,
    resource: &str,
    built: &Built,
    base: &str,
    target: &CliTarget,
) -> Result<Preview, String> {
    let query = built.params.to_query_string().map_err(|e| e.to_string())?;
    let pairs = built.params.pairs().map_err(|e| e.to_string())?;
    let path = format!("{}/{}", base.trim_end_matches('/'), resource);
    let url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    Ok(Preview {
        method: "GET",
        url,
        query,
        pairs,
        cli: cli(resource, &built.steps, target),
        rust: rust(connector, resource, &built.steps),
    })
}

fn cli(resource: &str, steps: &[Step], target: &CliTarget) -> String {
    let mut words = vec![
        "fhirforge".to_owned(),
        "search".to_owned(),
        shell_quote(resource),
    ];
    let mut ranges = Vec::new();
    let mut raws = Vec::new();
    for step in steps {
        match step {
            Step::Value {
                name,
                modifier,
                text,
                ..
            } => words.push(shell_quote(&format!(
                "{}={text}",
                crate::form::full_name(name, modifier)
            ))),
            Step::Result { name, value } => words.push(shell_quote(&format!("{name}={value}"))),
            Step::Range { name, text, .. } => ranges.push(format!(
                "--range {}",
                shell_quote(&format!("{name}={text}"))
            )),
            Step::Raw { name, value } => raws.push(format!(
                "--param {}",
                shell_quote(&format!("{name}={value}"))
            )),
        }
    }
    words.extend(ranges);
    words.extend(raws);
    words.push(target.server_args());
    if let Some(s) = &target.spec {
        words.push(format!("--spec {}", shell_quote(s)));
    }
    words.join(" ")
}

/// A Rust string literal (Debug escapes quotes, backslashes and control characters).
pub(crate) fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// The value type's name for a date/number/quantity parameter, as the generated method takes it.
fn ordered_type(ty: &SearchParamType, value_only: bool) -> Option<&'static str> {
    Some(match (ty, value_only) {
        (SearchParamType::Date, false) => "Date",
        (SearchParamType::Date, true) => "DateValue",
        (SearchParamType::Number, false) => "Number",
        (SearchParamType::Number, true) => "NumberValue",
        (SearchParamType::Quantity, false) => "Quantity",
        (SearchParamType::Quantity, true) => "QuantityValue",
        _ => return None,
    })
}

/// One builder call for a typed value, or `None` when only `.param` says it exactly.
fn value_call(
    ty: &SearchParamType,
    modifier: &str,
    text: &str,
    value_only: bool,
) -> Option<String> {
    // OR lists and escapes are clearest through the runtime's own parser.
    let plain = !text.contains([',', '\\']);
    match ty {
        SearchParamType::Date | SearchParamType::Number if modifier.is_empty() => {
            let t = ordered_type(ty, value_only)?;
            if !plain {
                return Some(format!("{t}::parse_prefixed({})?", lit(text)));
            }
            let (prefix, value) = fhirforge_runtime::search::Prefix::split(text);
            Some(match prefix {
                Some(p) => format!("{t}::{}({})", p.as_str(), lit(value)),
                None => format!("{t}::new({})", lit(value)),
            })
        }
        SearchParamType::Quantity if modifier.is_empty() => {
            let t = ordered_type(ty, value_only)?;
            Some(format!("{t}::parse_prefixed({})?", lit(text)))
        }
        SearchParamType::String => match (modifier, plain) {
            ("", true) => Some(format!("Str::new({})", lit(text))),
            ("exact", true) => Some(format!("Str::exact({})", lit(text))),
            ("contains", true) => Some(format!("Str::contains({})", lit(text))),
            ("", false) => Some(format!("Str::parse({})?", lit(text))),
            _ => None,
        },
        SearchParamType::Token => {
            let base = if plain {
                match text.split_once('|') {
                    None => format!("Token::code({})", lit(text)),
                    Some(("", code)) => format!("Token::no_system({})", lit(code)),
                    Some((system, "")) => format!("Token::system({})", lit(system)),
                    Some((system, code)) => {
                        format!("Token::system_code({}, {})", lit(system), lit(code))
                    }
                }
            } else {
                format!("Token::parse({})?", lit(text))
            };
            match modifier {
                "" => Some(base),
                "not" => Some(format!("{base}.not()")),
                _ => None,
            }
        }
        _ => None,
    }
}

fn bound(kind: BoundKind, value: &str) -> String {
    match kind {
        BoundKind::Inclusive => format!("Bound::inclusive({})", lit(value)),
        BoundKind::Exclusive => format!("Bound::exclusive({})", lit(value)),
        BoundKind::Open => "Bound::Unbounded".to_owned(),
    }
}

fn rust(connector: &Connector, resource: &str, steps: &[Step]) -> String {
    let declared = connector.resource(resource);
    let method = |name: &str| {
        declared
            .and_then(|r| r.search_param(name))
            .map(|p| p.rust_name.clone())
    };
    let accessor = declared.map_or_else(
        || fhirforge_model::names::snake_ident(resource),
        |r| r.rust_name.clone(),
    );
    let mut out = format!(
        "use fhirforge_runtime::search::*; // or: use <your connector>::prelude::*;\n\nlet bundle = client\n    .{accessor}()\n    .search()"
    );
    let raw = |name: &str, value: &str| format!("\n    .param({}, {})", lit(name), lit(value));
    for step in steps {
        let call = match step {
            Step::Value {
                name,
                modifier,
                text,
                ty,
                value_only,
            } => match (method(name), ty) {
                (Some(m), Some(ty)) => match value_call(ty, modifier, text, *value_only) {
                    Some(v) => format!("\n    .{m}({v})"),
                    None => raw(&crate::form::full_name(name, modifier), text),
                },
                _ => raw(&crate::form::full_name(name, modifier), text),
            },
            Step::Range {
                name,
                text,
                ty,
                lower,
                upper,
                ..
            } => {
                let m = method(name);
                match (m, ty) {
                    (Some(m), Some(SearchParamType::Date | SearchParamType::Number)) => {
                        let t = if *ty == Some(SearchParamType::Date) {
                            "Date"
                        } else {
                            "Number"
                        };
                        format!(
                            "\n    .{m}({t}::range({}, {}))",
                            bound(lower.0, &lower.1),
                            bound(upper.0, &upper.1)
                        )
                    }
                    (Some(m), _) => format!("\n    .{m}(Quantity::parse_range({})?)", lit(text)),
                    (None, _) => format!(
                        "\n    .push({}, Date::parse_range({})?)",
                        lit(name),
                        lit(text)
                    ),
                }
            }
            Step::Result { name, value } => match name.as_str() {
                "_include" => format!("\n    .include_raw({})", lit(value)),
                "_revinclude" => format!("\n    .rev_include_raw({})", lit(value)),
                "_sort" => format!("\n    .sort({})", lit(value)),
                "_count" => format!("\n    .count({value})"),
                _ => raw(name, value),
            },
            Step::Raw { name, value } => raw(name, value),
        };
        out.push_str(&call);
    }
    out.push_str("\n    .send()\n    .await?;");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_quote("birthdate=ge1970"), "birthdate=ge1970");
        assert_eq!(
            shell_quote("birthdate=1970..<1980"),
            "'birthdate=1970..<1980'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn typed_values_become_the_runtime_constructors() {
        assert_eq!(
            value_call(&SearchParamType::Date, "", "ge1970-01-01", false).as_deref(),
            Some(r#"Date::ge("1970-01-01")"#)
        );
        assert_eq!(
            value_call(&SearchParamType::Date, "", "1970", true).as_deref(),
            Some(r#"DateValue::new("1970")"#)
        );
        assert_eq!(
            value_call(&SearchParamType::Token, "not", "http://x|y", false).as_deref(),
            Some(r#"Token::system_code("http://x", "y").not()"#)
        );
        assert_eq!(
            value_call(&SearchParamType::String, "exact", "Smith", false).as_deref(),
            Some(r#"Str::exact("Smith")"#)
        );
        assert_eq!(
            value_call(&SearchParamType::Date, "missing", "true", false),
            None
        );
    }
}
