//! `fhirforge search`: search a resource type, one page or all of them.

use crate::connect::check::base_name;
use crate::connect::run::{self, Check, Reply};
use crate::connect::pages::{print_pages, PageArgs};
use crate::connect::{self, split_pair, ConnectArgs};
use crate::exit::InvalidInput;
use crate::term::clean;
use fhirforge_model::{ResourceInteraction, SearchParamType};
use fhirforge_runtime::search::{SearchError, SearchParams, TextGrammar};

/// Search a resource type (`GET [base]/[type]?...`, or `POST [type]/_search` with --post).
///
/// Values are written as in a FHIR query: prefixes (`birthdate=ge1970-01-01`), OR lists
/// (`gender=male,female`), `system|code` tokens, modifiers and chains in the name
/// (`family:exact=Smith`, `subject:Patient.name=Smith`). Repeat a name to AND. `--range`
/// gives both ends at once (`--range birthdate=1970-01-01..1980-12-31`, open ends `1970..` or
/// `..1980`, exclusive ends `1970..<1980`). `--param` sends a parameter exactly as typed.
///
/// Unless --no-check, the resource type, the search interaction and every NAME are checked
/// against the capability statement (--spec, the profile's pinned spec, or the server's
/// /metadata), and values of date, number, quantity, string and token parameters are checked
/// against their type. An unknown name is refused with the closest declared one. With
/// --no-check, names and values are sent as typed.
///
/// Prints the matching (and `_include`d) resources as a pretty JSON array; --ndjson prints one
/// per line, streamed page by page with --all; --bundle prints the raw Bundles.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The resource type (Patient, Observation, ...)
    #[arg(value_name = "TYPE")]
    resource_type: String,

    /// Search parameters as NAME=VALUE (NAME may carry a modifier or chain)
    #[arg(value_name = "NAME=VALUE")]
    params: Vec<String>,

    /// A range on a date, number or quantity parameter: NAME=LOW..HIGH, either end may be empty
    #[arg(long, value_name = "NAME=LOW..HIGH")]
    range: Vec<String>,

    /// A parameter sent exactly as typed: no value parsing, no name check
    #[arg(long = "param", value_name = "RAW=VALUE")]
    raw: Vec<String>,

    /// Send the search as `POST [type]/_search` with a form body
    #[arg(long)]
    post: bool,

    #[command(flatten)]
    pages: PageArgs,

    #[command(flatten)]
    connect: ConnectArgs,
}

/// The parameter's type as far as it is known: the statement's declaration, else the FHIR core
/// definition.
fn param_type(declared: Option<SearchParamType>, ty: &str, name: &str) -> Option<SearchParamType> {
    declared.or_else(|| {
        fhirforge_parse::core_params::lookup(ty, base_name(name))
            .map(|p| SearchParamType::from(p.param_type.clone()))
    })
}

fn invalid(name: &str, e: SearchError) -> InvalidInput {
    InvalidInput(e.with_parameter(name).to_string())
}

/// Adds `name=value`, parsed by the parameter's type when the type is known and the value is in
/// the type's own grammar (no modifier that changes it, such as `:missing` or `:text`).
fn push_value(
    params: &mut SearchParams,
    name: &str,
    value: &str,
    ty: Option<&SearchParamType>,
) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput(format!(
            "search parameter {:?} has an empty value (servers ignore it, which would match \
             everything)",
            clean(name)
        )));
    }
    let grammar = ty.and_then(|t| TextGrammar::of_type(t.code()));
    params
        .push_text(name, value, grammar)
        .map_err(|e| invalid(name, e))
}

/// Adds a range; the type decides the grammar. Unknown types try date, number, quantity.
fn push_range(
    params: &mut SearchParams,
    name: &str,
    text: &str,
    ty: Option<&SearchParamType>,
) -> Result<(), InvalidInput> {
    if let Some(other) = ty.filter(|t| t.is_known() && !t.supports_range()) {
        return Err(InvalidInput(format!(
            "--range needs a date, number or quantity parameter; {:?} is a {} parameter",
            clean(name),
            other.code()
        )));
    }
    let grammar = ty.and_then(|t| TextGrammar::of_type(t.code()));
    params
        .push_range_text(name, text, grammar)
        .map_err(|e| invalid(name, e))
}

/// Builds the parameters, checking names against the statement when there is one.
fn build(
    args: &Args,
    conn: &connect::Connection,
) -> Result<SearchParams, InvalidInput> {
    let ty = args.resource_type.as_str();
    let declared = |name: &str| -> Result<Option<SearchParamType>, InvalidInput> {
        match &conn.checker {
            Some(c) => c.search_param(ty, name),
            None => Ok(None),
        }
    };
    let mut params = SearchParams::new();
    for (name, value) in &conn.default_params {
        params.raw(name.clone(), value.clone());
    }
    for pair in &args.params {
        let (name, value) = split_pair(pair, "search parameter")?;
        // --no-check sends values as typed; otherwise the declared (or core) type parses them.
        let t = if args.connect.no_check {
            None
        } else {
            param_type(declared(name)?, ty, name)
        };
        if base_name(name).starts_with('_') && t.is_none() {
            // Result and common parameters (`_count`, `_sort`, `_id`) go as typed.
            params.raw(name, value);
            continue;
        }
        push_value(&mut params, name, value, t.as_ref())?;
    }
    for pair in &args.range {
        let (name, text) = split_pair(pair, "--range")?;
        if name.contains(':') {
            return Err(InvalidInput(format!(
                "--range {:?}: a range takes no modifier",
                clean(name)
            )));
        }
        let t = param_type(declared(name)?, ty, name);
        push_range(&mut params, name, text, t.as_ref())?;
    }
    for pair in &args.raw {
        let (name, value) = split_pair(pair, "--param")?;
        params.raw(name, value);
    }
    // Surface a deferred value error now, as invalid input.
    if let Some(e) = params.error() {
        return Err(InvalidInput(e.to_string()));
    }
    Ok(params)
}

/// Runs `fhirforge search`.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let check = Check::Interaction(&args.resource_type, ResourceInteraction::SearchType);
    run::call(&args.connect, &args.pages.output, check, async |conn, out| {
        let params = build(&args, conn)?;
        let request = conn
            .client
            .search(&args.resource_type, params)
            .post(args.post);
        print_pages(request, args.pages.pages(), args.pages.bundle, out).await?;
        Ok(Reply::Printed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(f: impl FnOnce(&mut SearchParams) -> Result<(), InvalidInput>) -> Vec<(String, String)> {
        let mut p = SearchParams::new();
        f(&mut p).expect("valid");
        p.pairs().expect("pairs")
    }

    #[test]
    fn values_are_parsed_by_type() {
        assert_eq!(
            pairs(|p| push_value(p, "birthdate", "ge1970-01-01", Some(&SearchParamType::Date))),
            [("birthdate".to_owned(), "ge1970-01-01".to_owned())]
        );
        let mut p = SearchParams::new();
        assert!(push_value(&mut p, "birthdate", "ge19x", Some(&SearchParamType::Date)).is_err());
        // `:missing` changes the value grammar: sent as typed.
        assert_eq!(
            pairs(|p| push_value(p, "birthdate:missing", "true", Some(&SearchParamType::Date))),
            [("birthdate:missing".to_owned(), "true".to_owned())]
        );
        assert_eq!(
            pairs(|p| push_value(p, "family:exact", "Smith", Some(&SearchParamType::String))),
            [("family:exact".to_owned(), "Smith".to_owned())]
        );
    }

    #[test]
    fn ranges_both_and_open_ends() {
        assert_eq!(
            pairs(|p| push_range(p, "birthdate", "1970..1980", Some(&SearchParamType::Date))),
            [
                ("birthdate".to_owned(), "ge1970".to_owned()),
                ("birthdate".to_owned(), "le1980".to_owned())
            ]
        );
        assert_eq!(
            pairs(|p| push_range(p, "birthdate", "1970-01-01..", None)),
            [("birthdate".to_owned(), "ge1970-01-01".to_owned())]
        );
        let mut p = SearchParams::new();
        assert!(push_range(&mut p, "family", "a..b", Some(&SearchParamType::String)).is_err());
    }
}
