//! Search values written as text, as in a FHIR query (`ge1970-01-01`, `lt1960,gt1990`,
//! `http://loinc.org|1234-5`), parsed by their parameter's type: the one reading of such text
//! that the CLI's `NAME=VALUE` arguments and the MCP server's raw pairs share.

use super::{Date, Number, Quantity, SearchError, SearchParams, Str, Token};

/// The search parameter types whose values have a grammar of their own (FHIR type codes
/// `date`, `number`, `quantity`, `string`, `token`). The other types (`reference`, `uri`,
/// `composite`, `special`) are sent as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextGrammar {
    /// `date`: prefixed dates, date-times and instants, OR-ed with `,`.
    Date,
    /// `number`: prefixed decimals.
    Number,
    /// `quantity`: prefixed `value|system|code`.
    Quantity,
    /// `string`: the text, escaped.
    String,
    /// `token`: `system|code`, `code`, `|code` or `system|`.
    Token,
}

impl TextGrammar {
    /// The grammar of a FHIR search parameter type code (`"date"`, ...), if it has one.
    pub fn of_type(code: &str) -> Option<Self> {
        match code {
            "date" => Some(Self::Date),
            "number" => Some(Self::Number),
            "quantity" => Some(Self::Quantity),
            "string" => Some(Self::String),
            "token" => Some(Self::Token),
            _ => None,
        }
    }

    /// Whether a name's modifier keeps the value in this grammar: none, `:exact` and
    /// `:contains` on strings, `:not` on tokens. Others (`:missing`, `:text`, `:above`, a
    /// chain's type) change what the value is, so it goes as written.
    fn applies_with(self, modifier: Option<&str>) -> bool {
        matches!(
            (self, modifier),
            (_, None) | (Self::String, Some("exact" | "contains")) | (Self::Token, Some("not"))
        )
    }
}

impl SearchParams {
    /// Adds `name=value` with the value written as in a FHIR query, parsed by `grammar` when
    /// the name's modifier keeps the value in that grammar; otherwise (no grammar, or a
    /// modifier such as `:missing`) exactly as written, like [`raw`](Self::raw).
    ///
    /// # Errors
    ///
    /// The value does not parse in its grammar (an unknown prefix, a bad date, ...); the error
    /// names the parameter and nothing is added.
    ///
    /// ```
    /// use fhirforge_runtime::search::{SearchParams, TextGrammar};
    ///
    /// let mut params = SearchParams::new();
    /// params.push_text("birthdate", "ge1970-01-01", Some(TextGrammar::Date))?;
    /// params.push_text("birthdate:missing", "true", Some(TextGrammar::Date))?;
    /// assert!(params.push_text("birthdate", "ge19x", Some(TextGrammar::Date)).is_err());
    /// assert_eq!(params.pairs()?.len(), 2);
    /// # Ok::<(), fhirforge_runtime::search::SearchError>(())
    /// ```
    pub fn push_text(
        &mut self,
        name: &str,
        value: &str,
        grammar: Option<TextGrammar>,
    ) -> Result<(), SearchError> {
        let modifier = name.split_once(':').map(|(_, m)| m);
        let with_name = |e: SearchError| e.with_parameter(name);
        match grammar.filter(|g| g.applies_with(modifier)) {
            Some(TextGrammar::Date) => {
                self.push(name, Date::parse_prefixed(value).map_err(with_name)?)
            }
            Some(TextGrammar::Number) => {
                self.push(name, Number::parse_prefixed(value).map_err(with_name)?)
            }
            Some(TextGrammar::Quantity) => {
                self.push(name, Quantity::parse_prefixed(value).map_err(with_name)?)
            }
            Some(TextGrammar::String) => self.push(name, Str::parse(value).map_err(with_name)?),
            Some(TextGrammar::Token) => self.push(name, Token::parse(value).map_err(with_name)?),
            None => self.raw(name, value),
        }
        Ok(())
    }

    /// Adds a range written `LOW..HIGH` (either end may be empty; `<` before an end makes it
    /// exclusive), read by `grammar`: `date`, `number` or `quantity`. With no grammar (the
    /// parameter's type is unknown) it is read as a date, else a number, else a quantity.
    ///
    /// # Errors
    ///
    /// The text is not a range of that type (the error of the last reading tried), or the
    /// grammar has no order (`string`, `token`); the error names the parameter and nothing is
    /// added.
    ///
    /// ```
    /// use fhirforge_runtime::search::{SearchParams, TextGrammar};
    ///
    /// let mut params = SearchParams::new();
    /// params.push_range_text("birthdate", "1970-01-01..<1980-01-01", Some(TextGrammar::Date))?;
    /// assert_eq!(params.to_query_string()?, "birthdate=ge1970-01-01&birthdate=lt1980-01-01");
    /// # Ok::<(), fhirforge_runtime::search::SearchError>(())
    /// ```
    pub fn push_range_text(
        &mut self,
        name: &str,
        text: &str,
        grammar: Option<TextGrammar>,
    ) -> Result<(), SearchError> {
        let with_name = |e: SearchError| e.with_parameter(name);
        match grammar {
            Some(TextGrammar::Date) => self.push(name, Date::parse_range(text).map_err(with_name)?),
            Some(TextGrammar::Number) => {
                self.push(name, Number::parse_range(text).map_err(with_name)?)
            }
            Some(TextGrammar::Quantity) => {
                self.push(name, Quantity::parse_range(text).map_err(with_name)?)
            }
            Some(TextGrammar::String | TextGrammar::Token) => {
                return Err(SearchError::new(
                    name,
                    "only date, number and quantity parameters take a range",
                ))
            }
            None => {
                if let Ok(d) = Date::parse_range(text) {
                    self.push(name, d);
                } else if let Ok(n) = Number::parse_range(text) {
                    self.push(name, n);
                } else {
                    self.push(name, Quantity::parse_range(text).map_err(with_name)?);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(
        f: impl FnOnce(&mut SearchParams) -> Result<(), SearchError>,
    ) -> Vec<(String, String)> {
        let mut p = SearchParams::new();
        f(&mut p).expect("valid");
        p.pairs().expect("pairs")
    }

    fn pair(n: &str, v: &str) -> (String, String) {
        (n.to_owned(), v.to_owned())
    }

    #[test]
    fn each_grammar_parses_and_re_encodes() {
        let cases = [
            (
                "birthdate",
                "ge1970-01-01,lt1960",
                TextGrammar::Date,
                "ge1970-01-01,lt1960",
            ),
            ("length", "gt5.40", TextGrammar::Number, "gt5.40"),
            (
                "value-quantity",
                "le5.4|http://unitsofmeasure.org|mg",
                TextGrammar::Quantity,
                "le5.4|http://unitsofmeasure.org|mg",
            ),
            ("family:exact", "Smith", TextGrammar::String, "Smith"),
            (
                "code:not",
                "http://loinc.org|1234-5",
                TextGrammar::Token,
                "http://loinc.org|1234-5",
            ),
        ];
        for (name, text, grammar, wire) in cases {
            assert_eq!(
                pairs(|p| p.push_text(name, text, Some(grammar))),
                [pair(name, wire)],
                "{name}={text}"
            );
        }
    }

    #[test]
    fn modifiers_that_change_the_value_and_unknown_types_go_as_written() {
        assert_eq!(
            pairs(|p| p.push_text("birthdate:missing", "true", Some(TextGrammar::Date))),
            [pair("birthdate:missing", "true")]
        );
        assert_eq!(
            pairs(|p| p.push_text("code:text", "ge10", Some(TextGrammar::Token))),
            [pair("code:text", "ge10")]
        );
        assert_eq!(
            pairs(|p| p.push_text("subject", "Patient/1", None)),
            [pair("subject", "Patient/1")]
        );
    }

    #[test]
    fn an_invalid_value_names_its_parameter_and_adds_nothing() {
        let mut p = SearchParams::new();
        let e = p
            .push_text("birthdate", "xx1970", Some(TextGrammar::Date))
            .expect_err("unknown prefix");
        assert_eq!(e.parameter(), "birthdate");
        assert!(p.pairs().expect("nothing recorded").is_empty());
    }

    #[test]
    fn ranges_by_grammar_and_by_trying_each_ordered_type() {
        assert_eq!(
            pairs(|p| p.push_range_text("birthdate", "1970..<1980", Some(TextGrammar::Date))),
            [pair("birthdate", "ge1970"), pair("birthdate", "lt1980")]
        );
        assert_eq!(
            pairs(|p| p.push_range_text("probability", "0.5..", None)),
            [pair("probability", "ge0.5")]
        );
        let mut p = SearchParams::new();
        let e = p
            .push_range_text("family", "a..b", Some(TextGrammar::String))
            .expect_err("no order");
        assert_eq!(e.parameter(), "family");
        let e = p
            .push_range_text("birthdate", "19x..", Some(TextGrammar::Date))
            .expect_err("bad date");
        assert_eq!(e.parameter(), "birthdate");
        assert!(p.pairs().expect("nothing recorded").is_empty());
    }

    #[test]
    fn type_codes_map_to_grammars() {
        assert_eq!(TextGrammar::of_type("date"), Some(TextGrammar::Date));
        assert_eq!(TextGrammar::of_type("token"), Some(TextGrammar::Token));
        assert_eq!(TextGrammar::of_type("reference"), None);
        assert_eq!(TextGrammar::of_type("Date"), None);
    }
}
