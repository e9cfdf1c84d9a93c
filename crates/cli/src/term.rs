//! Text from a spec or a server, made safe to print on a terminal.

/// Replaces control characters (newlines, escape sequences) with `�` and keeps the rest, so spec
/// text can neither break a table row nor send terminal escape codes.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(super::clean("a\nb\u{1b}[31mc"), "a\u{FFFD}b\u{FFFD}[31mc");
        assert_eq!(super::clean("ñandú \"q\""), "ñandú \"q\"");
    }
}
