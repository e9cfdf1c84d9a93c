//! Cross-module encoding tests: tables for every prefix, range bound kind, escaping case and
//! raw parameter, plus property tests that encoding then parsing gives the values back.

mod escaping;
mod lists_modifiers;
mod parsing;
mod prefixes_ranges;
mod prop;

use super::*;

fn pairs_of(params: &SearchParams) -> Vec<(String, String)> {
    params.pairs().expect("valid parameters")
}

fn one(name: &str, value: impl SearchValue) -> Vec<(String, String)> {
    let mut params = SearchParams::new();
    params.push(name, value);
    pairs_of(&params)
}

fn p(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

fn err_of(name: &str, value: impl SearchValue) -> SearchError {
    let mut params = SearchParams::new();
    params.push(name, value);
    let err = params.pairs().expect_err("invalid value");
    assert_eq!(params.to_query_string(), Err(err.clone()));
    err
}
