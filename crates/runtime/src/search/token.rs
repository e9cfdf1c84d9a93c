//! `token` search values: `code`, `system|code`, `|code`, `system|` and the token modifiers.

use super::escape::{escape, split_unescaped, unescape};
use super::plain::{plain_common, Plain};
use super::SearchError;

/// A `token` search value.
///
/// | Constructor | Sent as |
/// |---|---|
/// | `Token::code("c")` | `c` (any system) |
/// | `Token::system_code("s", "c")` | `s\|c` |
/// | `Token::no_system("c")` | `\|c` (no system) |
/// | `Token::system("s")` | `s\|` (any code in `s`) |
/// | `.not()`, `.above()`, `.below()` | name gains `:not`, `:above`, `:below` |
/// | `Token::text("t")` | `name:text=t` |
/// | `Token::in_value_set(url)`, `Token::not_in_value_set(url)` | `name:in=url`, `name:not-in=url` |
/// | `Token::of_type("s", "c", "v")` | `name:of-type=s\|c\|v` |
/// | `Token::missing(true)` | `name:missing=true` |
///
/// System, code and text are FHIR-escaped; the `|` the encoder places is not.
///
/// ```
/// use fhirforge_runtime::search::{SearchParams, Token};
/// let mut params = SearchParams::new();
/// params.push("code", Token::system_code("http://loinc.org", "8867-4").or(Token::code("x,y")));
/// params.push("gender", Token::code("male").not());
/// params.push("identifier", Token::of_type("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "446053"));
/// assert_eq!(
///     params.pairs().unwrap(),
///     [
///         ("code", r"http://loinc.org|8867-4,x\,y"),
///         ("gender:not", "male"),
///         ("identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053"),
///     ]
///     .map(|(n, v)| (n.to_owned(), v.to_owned()))
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    inner: Plain,
}

fn non_empty(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(format!("the token {what} must not be empty"))
    } else {
        Ok(())
    }
}

impl Token {
    fn build(modifier: Option<&str>, value: Result<String, String>) -> Self {
        Token {
            inner: match value {
                Ok(v) => Plain::one(modifier, v),
                Err(reason) => Plain::invalid(reason),
            },
        }
    }

    /// A code in any system: `code`.
    pub fn code(code: impl AsRef<str>) -> Self {
        let code = code.as_ref();
        Token::build(None, non_empty("code", code).map(|()| escape(code)))
    }

    /// A code in a system: `system|code`.
    pub fn system_code(system: impl AsRef<str>, code: impl AsRef<str>) -> Self {
        let (system, code) = (system.as_ref(), code.as_ref());
        Token::build(
            None,
            non_empty("system", system)
                .and_then(|()| non_empty("code", code))
                .map(|()| format!("{}|{}", escape(system), escape(code))),
        )
    }

    /// A code with no system: `|code`.
    pub fn no_system(code: impl AsRef<str>) -> Self {
        let code = code.as_ref();
        Token::build(
            None,
            non_empty("code", code).map(|()| format!("|{}", escape(code))),
        )
    }

    /// Any code in a system: `system|`.
    pub fn system(system: impl AsRef<str>) -> Self {
        let system = system.as_ref();
        Token::build(
            None,
            non_empty("system", system).map(|()| format!("{}|", escape(system))),
        )
    }

    /// Free-text search on the coding's display or the concept's text: `name:text=text`.
    pub fn text(text: impl AsRef<str>) -> Self {
        let text = text.as_ref();
        Token::build(Some("text"), non_empty("text", text).map(|()| escape(text)))
    }

    /// Codes in a value set: `name:in=url`.
    pub fn in_value_set(value_set: impl AsRef<str>) -> Self {
        let url = value_set.as_ref();
        Token::build(
            Some("in"),
            non_empty("value set", url).map(|()| escape(url)),
        )
    }

    /// Codes not in a value set: `name:not-in=url`.
    pub fn not_in_value_set(value_set: impl AsRef<str>) -> Self {
        let url = value_set.as_ref();
        Token::build(
            Some("not-in"),
            non_empty("value set", url).map(|()| escape(url)),
        )
    }

    /// An identifier of a given type: `name:of-type=system|code|value`.
    pub fn of_type(system: impl AsRef<str>, code: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        let (system, code, value) = (system.as_ref(), code.as_ref(), value.as_ref());
        Token::build(
            Some("of-type"),
            non_empty("type system", system)
                .and_then(|()| non_empty("type code", code))
                .and_then(|()| non_empty("identifier value", value))
                .map(|()| format!("{}|{}|{}", escape(system), escape(code), escape(value))),
        )
    }

    /// Negation: `name:not=...`. Only on a value without another modifier.
    #[must_use]
    #[allow(
        clippy::should_implement_trait,
        reason = "named after the FHIR `:not` modifier; `!token` would read as boolean logic"
    )]
    pub fn not(self) -> Self {
        Token {
            inner: self.inner.set_modifier("not"),
        }
    }

    /// Subsumption, codes above this one in the hierarchy: `name:above=...`.
    #[must_use]
    pub fn above(self) -> Self {
        Token {
            inner: self.inner.set_modifier("above"),
        }
    }

    /// Subsumption, codes below this one in the hierarchy: `name:below=...`.
    #[must_use]
    pub fn below(self) -> Self {
        Token {
            inner: self.inner.set_modifier("below"),
        }
    }

    /// The modifier this value puts on the name (`not`, `text`, `of-type`, ...), if any.
    pub fn modifier(&self) -> Option<&str> {
        self.inner.modifier()
    }

    /// Parses CLI text in the plain token forms, OR-ed with unescaped `,`: `code`,
    /// `system|code`, `|code`, `system|`. Escaped characters (`\|`, `\,`, ...) are part of the
    /// system or code. Modifiers come from the parameter name and are not parsed here.
    ///
    /// # Errors
    ///
    /// An empty alternative, a lone `|`, or more than one unescaped `|`.
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        let values = split_unescaped(text, ',')
            .into_iter()
            .map(|alt| match split_unescaped(alt, '|').as_slice() {
                [""] => Err(SearchError::value("empty token in the list")),
                [code] => Ok(Token::code(unescape(code))),
                ["", ""] => Err(SearchError::value("`|` alone is not a token")),
                ["", code] => Ok(Token::no_system(unescape(code))),
                [system, ""] => Ok(Token::system(unescape(system))),
                [system, code] => Ok(Token::system_code(unescape(system), unescape(code))),
                _ => Err(SearchError::value(format!(
                    "{alt:?} has more than one unescaped `|` (escape it as `\\|`)"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Token::any_of(values))
    }

    /// The single plain value, for [`Reference::identifier`](super::Reference::identifier).
    pub(crate) fn plain_value(&self) -> Result<String, String> {
        self.inner.single("token")
    }

    pub(crate) fn inner(&self) -> &Plain {
        &self.inner
    }
}

plain_common!(Token);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchValue;

    fn enc(t: &Token) -> (String, String) {
        let mut pairs = t.encode("code").unwrap();
        assert_eq!(pairs.len(), 1);
        pairs.remove(0)
    }

    #[test]
    fn token_forms() {
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        for (token, expected) in [
            (Token::code("abc"), s("code", "abc")),
            (Token::system_code("http://s", "c"), s("code", "http://s|c")),
            (Token::no_system("c"), s("code", "|c")),
            (Token::system("http://s"), s("code", "http://s|")),
            (Token::code("a|b"), s("code", r"a\|b")),
            (Token::system_code("s,1", "c$2"), s("code", r"s\,1|c\$2")),
            (Token::code("c").not(), s("code:not", "c")),
            (Token::system_code("s", "c").above(), s("code:above", "s|c")),
            (Token::system_code("s", "c").below(), s("code:below", "s|c")),
            (Token::text("head ache"), s("code:text", "head ache")),
            (Token::in_value_set("http://vs"), s("code:in", "http://vs")),
            (
                Token::not_in_value_set("http://vs"),
                s("code:not-in", "http://vs"),
            ),
            (
                Token::of_type("s", "MR", "1|2"),
                s("code:of-type", r"s|MR|1\|2"),
            ),
            (Token::missing(true), s("code:missing", "true")),
            (Token::missing(false), s("code:missing", "false")),
            (
                Token::code("a").or(Token::no_system("b")),
                s("code", "a,|b"),
            ),
            (
                Token::code("a").not().or(Token::code("b").not()),
                s("code:not", "a,b"),
            ),
        ] {
            assert_eq!(enc(&token), expected, "{token:?}");
        }
    }

    #[test]
    fn token_errors() {
        for (token, needle) in [
            (Token::code(""), "must not be empty"),
            (Token::system_code("", "c"), "must not be empty"),
            (Token::system("s").not().not(), "already has the modifier"),
            (Token::text("t").not(), "already has the modifier"),
            (
                Token::code("a").or(Token::code("b").not()),
                "share one modifier",
            ),
            (
                Token::missing(true).or(Token::code("b")),
                "`:missing` cannot be OR-ed",
            ),
            (Token::any_of(Vec::<Token>::new()), "at least one value"),
        ] {
            let err = token.encode("code").expect_err(needle);
            assert_eq!(err.parameter(), "code");
            assert!(err.reason().contains(needle), "{err}");
        }
    }

    #[test]
    fn parse_round_trips() {
        for text in ["a", "s|c", "|c", "s|", r"a\|b", r"s\,1|c\$2,x,|y"] {
            let token = Token::parse(text).unwrap();
            assert_eq!(enc(&token).1, text);
        }
        for bad in ["", "|", "a,", "a|b|c"] {
            assert!(Token::parse(bad).is_err(), "{bad}");
        }
    }
}
