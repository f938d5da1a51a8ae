//! Google Chat's HTML subset: escaping event text, one-line values and multi-line descriptions
//! as Chat shows them, and a card's [`Text`] in Chat's tags (`<b>`, `<i>`, `<code>`, `<font
//! color>`). Built on the channel-neutral hygiene of [`crate::card::text`]. Pure, no I/O.

use std::fmt::Write as _;

use crate::card::model::{Mention, Style, Text, Width};
use crate::card::text::{cut, flattened, unescaped};

/// Escapes the characters Chat's HTML subset gives meaning to.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    escape_into(&mut escaped, text);
    escaped
}

/// [`escape`], appended to `out`.
pub fn escape_into(out: &mut String, text: &str) {
    let mut plain = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[plain..at]);
        out.push_str(entity);
        plain = at + 1;
    }
    out.push_str(&text[plain..]);
}

/// One line of event text for a label or a decorated text: cleaned, newlines as spaces, capped at
/// `max` characters with `…`, escaped.
pub fn line(text: &str, max: usize) -> String {
    let flat = flattened(text);
    let (kept, left_out) = cut(flat.trim(), max);
    let mut html = String::with_capacity(kept.len() + 8);
    escape_into(&mut html, kept);
    if left_out > 0 {
        html.push('…');
    }
    html
}

/// A multi-line description as Chat HTML: newlines as `<br>` (at most two in a row), capped at
/// `max` characters with a visible `… +N more characters` mark. Real events escaped twice carry
/// `\n` and `\"` as two characters; both are read as what they stand for.
pub fn paragraph(text: &str, max: usize) -> String {
    let normalised = unescaped(text);
    let (kept, left_out) = cut(normalised.trim(), max);
    let mut html = String::with_capacity(kept.len() + kept.len() / 8 + 32);
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
            escape_into(&mut html, line);
            breaks = 0;
        }
    }
    if left_out > 0 {
        let _ = write!(html, "… <i>+{left_out} more characters</i>");
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

/// A card's text in Chat's HTML: each run escaped and cut at its width (`value` characters for
/// [`Width::Value`]), in its tag.
pub fn html(text: &Text, value: usize) -> String {
    let mut html = String::new();
    for span in &text.0 {
        let words = match span.width {
            Width::Whole => escape(&span.text),
            Width::At(max) => line(&span.text, max),
            Width::Value => line(&span.text, value),
        };
        match span.style {
            Style::Plain => html.push_str(&words),
            Style::Strong => {
                let _ = write!(html, "<b>{words}</b>");
            }
            Style::Aside => {
                let _ = write!(html, "<i>{words}</i>");
            }
            Style::Code => {
                let _ = write!(html, "<code>{words}</code>");
            }
            Style::Marked(severity) => {
                let _ = write!(html, "<font color=\"{}\"><b>{words}</b></font>", severity.colour());
            }
        }
    }
    html
}

/// A message's text calling on `mentions` in Chat's mention syntax (`<users/all>`,
/// `<users/123456789>`), or none when there are none. The ids were checked to be digits when the
/// rules were read; anything else is left out rather than sent.
pub fn mentions(mentions: &[Mention]) -> Option<String> {
    let shown: Vec<String> = mentions
        .iter()
        .filter_map(|mention| match mention {
            Mention::All => Some("<users/all>".to_owned()),
            Mention::User(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                Some(format!("<users/{id}>"))
            }
            Mention::User(_) => None,
        })
        .collect();
    (!shown.is_empty()).then(|| shown.join(" "))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::card::Severity;
    use crate::card::text::tests::{reference, tricky_text};

    fn escaped(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&#39;".to_owned(),
                c => c.to_string(),
            })
            .collect()
    }

    proptest! {
        #[test]
        fn one_pass_functions_agree_with_their_definitions(text in tricky_text(), max in 0usize..30) {
            let (kept, left_out) = reference::flat_cut(&text, max);
            let line_reference = if left_out == 0 { escaped(&kept) } else { format!("{}…", escaped(&kept)) };
            prop_assert_eq!(line(&text, max), line_reference);
            prop_assert_eq!(escape(&text), escaped(&text));
        }
    }

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
    fn counts_breaks_and_wrapped_lines() {
        assert_eq!(lines("one<br><br>two", 70), 3);
        assert_eq!(lines(&"x".repeat(141), 70), 3);
    }

    #[test]
    fn line_caps_and_escapes() {
        assert_eq!(line("a <b>\nc", 5), "a &lt;b&gt;…");
    }

    #[test]
    fn a_card_text_is_escaped_run_by_run_in_its_tags() {
        let text = Text(Vec::new())
            .then(Style::Marked(Severity::High), "High", Width::Whole)
            .and(" · <Open>")
            .then(Style::Code, "AWS_<X>_TOO_LONG", Width::At(8))
            .then(Style::Strong, "name", Width::Value);
        assert_eq!(
            html(&text, 2),
            "<font color=\"#E8710A\"><b>High</b></font> · &lt;Open&gt;<code>AWS_&lt;X&gt;_…</code><b>na…</b>"
        );
    }

    #[test]
    fn mentions_are_chats_syntax_and_an_id_that_is_not_digits_is_left_out() {
        let mentions = [Mention::All, Mention::User("42".into()), Mention::User("<b>".into())];
        assert_eq!(super::mentions(&mentions).as_deref(), Some("<users/all> <users/42>"));
        assert_eq!(super::mentions(&[]), None);
        assert_eq!(super::mentions(&[Mention::User(String::new())]), None);
    }
}
