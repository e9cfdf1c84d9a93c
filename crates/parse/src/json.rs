//! Bounded JSON parsing: a nesting pre-scan, then serde_json.
//!
//! serde_json refuses documents nested deeper than 128 levels on its own, so a 10,000-deep
//! document cannot overflow the stack. The pre-scan runs first anyway so the limit is ours
//! ([`crate::Limits::max_depth`]), the error says where, and no partial tree is ever built.

use crate::error::{line_col, Error};
use serde_json::Value;

/// Parses `input` as one JSON value, refusing nesting deeper than `max_depth`.
pub(crate) fn parse(input: &[u8], max_depth: usize) -> Result<Value, Error> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    check_depth(input, max_depth)?;
    // serde_json says column 0 (and for empty input line 0) for "before the first character".
    serde_json::from_slice(input).map_err(|e| Error::Json {
        line: e.line().max(1),
        column: e.column().max(1),
        message: strip_position(&e.to_string()),
    })
}

/// serde_json's message ends in " at line L column C"; the error variant carries those already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Counts `[`/`{` nesting outside strings; fails at the first byte that crosses the limit.
fn check_depth(input: &[u8], max_depth: usize) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in input.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    let (line, column) = line_col(input, i);
                    return Err(Error::TooDeep {
                        limit: max_depth,
                        line,
                        column,
                    });
                }
            }
            // Unbalanced closers are serde_json's to report, with its own position.
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_only_structure_outside_strings() {
        assert!(parse(br#"{"a":"[[[[[[[[[[[[[[[[[[["}"#, 2).is_ok());
        assert!(parse(br#"{"a":"\"[[[[\\"}"#, 2).is_ok());
        assert!(matches!(
            parse(b"[[[1]]]", 2),
            Err(Error::TooDeep {
                limit: 2,
                line: 1,
                column: 3
            })
        ));
        assert!(parse(b"[[1]]", 2).is_ok());
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse(b"{\n  \"a\": 1,\n  \"b\": [}\n}", 64).unwrap_err();
        match err {
            Error::Json {
                line,
                column,
                message,
            } => {
                assert_eq!((line, column), (3, 9));
                assert!(!message.contains("at line"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert!(parse(b"\xEF\xBB\xBF{}", 4).is_ok());
    }
}
