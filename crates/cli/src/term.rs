//! Text from a spec or a server, made safe to print on a terminal.

/// Replaces control characters (newlines, escape sequences) and bidirectional overrides with `�`
/// and keeps the rest, so spec text can neither break a table row, send terminal escape codes,
/// nor reorder what is shown.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Bidirectional formatting characters, which make a terminal show text in another order than
/// it is stored (the "Trojan Source" trick).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(super::clean("a\nb\u{1b}[31mc"), "a\u{FFFD}b\u{FFFD}[31mc");
        assert_eq!(super::clean("ñandú \"q\""), "ñandú \"q\"");
        assert_eq!(super::clean("\u{202E}evil\u{2066}"), "\u{FFFD}evil\u{FFFD}");
    }
}
