//! Making event text safe and short for Chat's HTML subset: control and direction-override
//! characters removed, `& < > " '` escaped, newlines (real or the two characters `\n`) as `<br>`,
//! and lengths capped with a visible mark. Pure functions, no I/O.

/// Characters that change text direction or hide text: removed so an event cannot disguise a
/// value (e.g. an ARN shown backwards).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Removes control characters (keeping newlines and tabs) and direction overrides.
pub fn clean(text: &str) -> String {
    text.chars().filter(|&c| (!c.is_control() || c == '\n' || c == '\t') && !is_direction_control(c)).collect()
}

/// Escapes the characters Chat's HTML subset gives meaning to.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// At most `max` characters of `text`, and how many were left out.
pub fn cut(text: &str, max: usize) -> (&str, usize) {
    match text.char_indices().nth(max) {
        None => (text, 0),
        Some((end, _)) => (&text[..end], text[end..].chars().count()),
    }
}

/// One line of event text for a label or a decorated text: cleaned, newlines as spaces, capped at
/// `max` characters with `…`, escaped.
pub fn line(text: &str, max: usize) -> String {
    let flat = clean(&text.replace("\\n", " ")).replace(['\n', '\t'], " ");
    let (kept, left_out) = cut(flat.trim(), max);
    if left_out == 0 { escape(kept) } else { format!("{}…", escape(kept)) }
}

/// Plain text (for `fallbackText` and the header, which are not HTML): cleaned, on one line,
/// capped at `max` characters with `…`.
pub fn plain(text: &str, max: usize) -> String {
    let flat = clean(&text.replace("\\n", " ")).replace(['\n', '\t'], " ");
    let (kept, left_out) = cut(flat.trim(), max);
    if left_out == 0 { kept.to_owned() } else { format!("{kept}…") }
}

/// A multi-line description as Chat HTML: newlines as `<br>` (at most two in a row), capped at
/// `max` characters with a visible `… +N more characters` mark. Real events escaped twice carry
/// `\n` and `\"` as two characters; both are read as what they stand for.
pub fn paragraph(text: &str, max: usize) -> String {
    let unescaped = text.replace("\r\n", "\n").replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\\"", "\"");
    let normalised = clean(&unescaped);
    let (kept, left_out) = cut(normalised.trim(), max);
    let mut html = String::with_capacity(kept.len() + 32);
    let mut breaks = 0;
    for line in kept.split('\n') {
        if !html.is_empty() || breaks > 0 {
            if breaks < 2 {
                html.push_str("<br>");
            }
            breaks += 1;
        }
        let line = line.trim_end();
        if !line.is_empty() {
            html.push_str(&escape(line));
            breaks = 0;
        }
    }
    if left_out > 0 {
        html.push_str(&format!("… <i>+{left_out} more characters</i>"));
    }
    html
}

/// About how many lines Chat HTML takes at `width` characters a line: each `<br>` ends one, and
/// a long line wraps. Tags count as text, which only overestimates.
pub fn lines(html: &str, width: usize) -> u32 {
    let width = width.max(1);
    let count: usize = html.split("<br>").map(|line| line.chars().count().div_ceil(width).max(1)).sum();
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_from_events() {
        assert_eq!(escape(r#"<a href="x">&amp;</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;");
    }

    #[test]
    fn turns_real_and_escaped_newlines_into_breaks() {
        assert_eq!(paragraph("one\ntwo\\nthree", 100), "one<br>two<br>three");
    }

    #[test]
    fn turns_escaped_quotes_into_quotes() {
        assert_eq!(paragraph(r#"the \"Affected resources\" tab"#, 100), "the &quot;Affected resources&quot; tab");
    }

    #[test]
    fn keeps_at_most_one_blank_line() {
        assert_eq!(paragraph("one\n\n\n\ntwo", 100), "one<br><br>two");
    }

    #[test]
    fn marks_how_much_a_long_paragraph_lost() {
        assert_eq!(paragraph("abcdef", 4), "abcd… <i>+2 more characters</i>");
    }

    #[test]
    fn removes_controls_and_direction_overrides_but_keeps_newlines() {
        assert_eq!(clean("a\u{0}b\u{202E}c\nd\u{7}"), "abc\nd");
    }

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(cut("한국어버전", 2), ("한국", 3));
    }

    #[test]
    fn counts_breaks_and_wrapped_lines() {
        assert_eq!(lines("one<br><br>two", 70), 3);
        assert_eq!(lines(&"x".repeat(141), 70), 3);
    }

    #[test]
    fn line_caps_and_escapes() {
        assert_eq!(line("a <b>\nc", 5), "a &lt;b&gt;…");
    }
}
