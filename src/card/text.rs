//! Making event text safe and short, for any channel: control and direction-override characters
//! removed, text flattened to one line or its escaped newlines read as newlines, and lengths
//! capped with a visible mark. A channel escapes what comes out for its own markup
//! ([`crate::chat::markup`] for Google Chat). Pure functions, no I/O.
//!
//! Every card runs most of its text through here (each entity row several times), so each
//! function reads its input once into at most one intermediate string; the unit tests (with the
//! markup's) hold each to the plain chain of `replace`s that defines it.

use std::borrow::Cow;

/// Characters that change text direction or hide text: removed so an event cannot disguise a
/// value (e.g. an ARN shown backwards).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether a byte may start a character that is `\` or that [`clean`] removes or `line`
/// flattens: C0 controls and DEL, and the lead bytes of C1 controls (C2), U+061C (D8) and the
/// direction marks and overrides (E2). Scanning bytes for these is much cheaper than decoding
/// every character.
pub(crate) fn may_change(byte: u8) -> bool {
    byte < 0x20 || matches!(byte, b'\\' | 0x7F | 0xC2 | 0xD8 | 0xE2)
}

/// True for a character [`clean`] removes.
pub(crate) fn is_removed(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_direction_control(c)
}

/// Removes control characters (keeping newlines and tabs) and direction overrides.
pub fn clean(text: &str) -> String {
    text.chars().filter(|&c| !is_removed(c)).collect()
}

/// At most `max` characters of `text`, and how many were left out.
pub fn cut(text: &str, max: usize) -> (&str, usize) {
    if text.len() <= max {
        return (text, 0);
    }
    match text.char_indices().nth(max) {
        None => (text, 0),
        Some((end, _)) => (&text[..end], text[end..].chars().count()),
    }
}

/// Event text on one line: the two characters `\n`, real newlines and tabs as spaces; controls
/// and direction overrides removed. Borrowed when there is nothing to change, as for most values.
pub(crate) fn flattened(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(may_change) {
        return Cow::Borrowed(text);
    }
    let mut flat = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'n') => {
                chars.next();
                flat.push(' ');
            }
            '\n' | '\t' => flat.push(' '),
            c if is_removed(c) => {}
            c => flat.push(c),
        }
    }
    Cow::Owned(flat)
}

/// Plain text (for `fallbackText` and the header, which are not HTML): cleaned, on one line,
/// capped at `max` characters with `…`.
pub fn plain(text: &str, max: usize) -> String {
    let flat = flattened(text);
    let (kept, left_out) = cut(flat.trim(), max);
    if left_out == 0 { kept.to_owned() } else { format!("{kept}…") }
}

/// A description with the escapes of events escaped twice read as what they stand for (`\n`,
/// `\r\n` and `\"` as two or four characters), carriage returns dropped, and cleaned.
pub(crate) fn unescaped(text: &str) -> String {
    let mut unescaped = String::with_capacity(text.len());
    // Runs of ordinary characters are copied whole; only a byte that may change is decoded.
    let (mut at, mut ordinary) = (0, 0);
    while at < text.len() {
        if !may_change(text.as_bytes()[at]) {
            at += 1;
            continue;
        }
        let rest = text.get(at..).unwrap_or_default();
        let Some(c) = rest.chars().next() else { break };
        let (replacement, taken) = match c {
            '\\' if rest.starts_with("\\r\\n") => (Some('\n'), 4),
            '\\' if rest.starts_with("\\n") => (Some('\n'), 2),
            '\\' if rest.starts_with("\\\"") => (Some('"'), 2),
            c if is_removed(c) => (None, c.len_utf8()),
            c => {
                at += c.len_utf8();
                continue;
            }
        };
        unescaped.push_str(&text[ordinary..at]);
        unescaped.extend(replacement);
        at += taken;
        ordinary = at;
    }
    unescaped.push_str(&text[ordinary..]);
    unescaped
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain definitions, as chains of `replace`s: the one-pass functions must agree.
    pub(crate) mod reference {
        use super::super::{clean, cut};

        /// Event text on one line, capped, not escaped.
        pub(crate) fn flat_cut(text: &str, max: usize) -> (String, usize) {
            let flat = clean(&text.replace("\\n", " ")).replace(['\n', '\t'], " ");
            let (kept, left_out) = cut(flat.trim(), max);
            (kept.to_owned(), left_out)
        }

        pub(crate) fn plain(text: &str, max: usize) -> String {
            let (kept, left_out) = flat_cut(text, max);
            if left_out == 0 { kept } else { format!("{kept}…") }
        }

        pub(crate) fn unescaped(text: &str) -> String {
            let replaced =
                text.replace("\r\n", "\n").replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\\"", "\"");
            clean(&replaced)
        }
    }

    /// Text made of the characters the functions treat specially, and a few ordinary ones.
    pub(crate) fn tricky_text() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            Just("\\"),
            Just("n"),
            Just("r"),
            Just("\""),
            Just("\\n"),
            Just("\\r\\n"),
            Just("\r"),
            Just("\n"),
            Just("\t"),
            Just(" "),
            Just("\u{a0}"),
            Just("\u{0}"),
            Just("\u{202e}"),
            Just("&<>'"),
            Just("한"),
            Just("x"),
        ];
        proptest::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
    }

    #[test]
    fn every_character_that_changes_starts_with_a_byte_said_to_change() {
        let changes = |c: char| is_removed(c) || matches!(c, '\\' | '\n' | '\t');
        let missed: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|&c| changes(c) && !may_change(c.to_string().as_bytes()[0]))
            .collect();
        assert_eq!(missed, Vec::<char>::new());
    }

    proptest! {
        #[test]
        fn one_pass_functions_agree_with_their_definitions(text in tricky_text(), max in 0usize..30) {
            prop_assert_eq!(plain(&text, max), reference::plain(&text, max));
            prop_assert_eq!(unescaped(&text), reference::unescaped(&text));
        }
    }

    #[test]
    fn removes_controls_and_direction_overrides_but_keeps_newlines() {
        assert_eq!(clean("a\u{0}b\u{202E}c\nd\u{7}"), "abc\nd");
    }

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(cut("한국어버전", 2), ("한국", 3));
    }
}
