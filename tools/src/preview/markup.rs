//! Card text as safe HTML. Chat reads card text as a small HTML subset (`b i u s font[color]
//! a[href] br time code pre ul ol li`); the preview shows that subset as Chat would and escapes
//! everything else, so a hostile body shows its markup as text instead of running it. Tags are
//! re-written, never copied: attributes other than a checked `color` and an `https` `href` are
//! dropped. Pure, no I/O.

/// Tags of Chat's subset that hold text; `br` is the one void tag.
const CONTAINERS: &[&str] = &["b", "i", "u", "s", "font", "a", "time", "code", "pre", "ul", "ol", "li"];

/// Escapes text for HTML content and double-quoted attribute values: the five characters the
/// card's own text escaping covers, so the preview uses that one.
pub use delibird::chat::markup::escape;

/// Chat's HTML subset → HTML that is safe to put in a page: the subset's tags re-written with
/// only checked attributes, well nested and closed; every other `<`, `>` and stray `&` escaped;
/// newlines as `<br>`.
pub fn chat_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    // Open tags, each with the closing markup the preview wrote for it.
    let mut open: Vec<(String, &'static str)> = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => match Tag::parse(rest) {
                Some((tag, len)) => {
                    write_tag(&tag, &rest[..len], &mut open, &mut html);
                    rest = &rest[len..];
                }
                None => {
                    html.push_str("&lt;");
                    rest = &rest[1..];
                }
            },
            '&' => {
                let len = entity_len(rest);
                if len > 0 {
                    html.push_str(&rest[..len]);
                    rest = &rest[len..];
                } else {
                    html.push_str("&amp;");
                    rest = &rest[1..];
                }
            }
            '\n' => {
                html.push_str("<br>");
                rest = &rest[1..];
            }
            c => {
                match c {
                    '>' => html.push_str("&gt;"),
                    '"' => html.push_str("&quot;"),
                    '\'' => html.push_str("&#39;"),
                    c if c.is_control() && c != '\t' => {}
                    c => html.push(c),
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    while let Some((_, close)) = open.pop() {
        html.push_str(close);
    }
    html
}

fn write_tag(tag: &Tag<'_>, source: &str, open: &mut Vec<(String, &'static str)>, html: &mut String) {
    let name = tag.name.to_ascii_lowercase();
    if name == "br" {
        html.push_str("<br>");
        return;
    }
    if !CONTAINERS.contains(&name.as_str()) {
        html.push_str(&escape(source));
        return;
    }
    if tag.closing {
        match open.iter().rposition(|(opened, _)| *opened == name) {
            Some(at) => {
                for (_, close) in open.drain(at..).rev() {
                    html.push_str(close);
                }
            }
            None => html.push_str(&escape(source)),
        }
        return;
    }
    let close = match name.as_str() {
        "font" => {
            match tag.attribute("color").filter(|colour| is_colour(colour)) {
                Some(colour) => {
                    html.push_str("<font color=\"");
                    html.push_str(&escape(&colour));
                    html.push_str("\">");
                }
                None => html.push_str("<font>"),
            }
            "</font>"
        }
        "a" => match tag.attribute("href").map(|href| href.trim().to_owned()).filter(|href| is_https(href)) {
            Some(href) => {
                html.push_str("<a href=\"");
                html.push_str(&escape(&href));
                html.push_str("\" target=\"_blank\" rel=\"noopener noreferrer\">");
                "</a>"
            }
            None => {
                html.push_str("<span class=\"link-removed\" title=\"link removed: only https links are shown\">");
                "</span>"
            }
        },
        "b" => element(html, "b"),
        "i" => element(html, "i"),
        "u" => element(html, "u"),
        "s" => element(html, "s"),
        "time" => element(html, "time"),
        "code" => element(html, "code"),
        "pre" => element(html, "pre"),
        "ul" => element(html, "ul"),
        "ol" => element(html, "ol"),
        _ => element(html, "li"),
    };
    open.push((name, close));
}

/// Writes `<name>` and returns `</name>`.
fn element(html: &mut String, name: &'static str) -> &'static str {
    html.push('<');
    html.push_str(name);
    html.push('>');
    match name {
        "b" => "</b>",
        "i" => "</i>",
        "u" => "</u>",
        "s" => "</s>",
        "time" => "</time>",
        "code" => "</code>",
        "pre" => "</pre>",
        "ul" => "</ul>",
        "ol" => "</ol>",
        _ => "</li>",
    }
}

/// `#RGB`, `#RRGGBB` or a colour name of letters only.
fn is_colour(text: &str) -> bool {
    match text.strip_prefix('#') {
        Some(hex) => matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => (1..=20).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphabetic()),
    }
}

/// An `https://` URL with no whitespace or control characters.
pub fn is_https(url: &str) -> bool {
    url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
        && url.len() > 8
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The length of a character reference at the start of `text` (`&amp;`, `&#39;`, `&#x1F600;`),
/// or 0. References are passed through: a browser turns them into text, never into markup.
fn entity_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let body_ok = |body: &[u8]| match body {
        [b'#', b'x' | b'X', hex @ ..] => (1..=6).contains(&hex.len()) && hex.iter().all(u8::is_ascii_hexdigit),
        [b'#', digits @ ..] => (1..=7).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit),
        [first, rest @ ..] => {
            first.is_ascii_alphabetic() && rest.len() < 32 && rest.iter().all(u8::is_ascii_alphanumeric)
        }
        [] => false,
    };
    match bytes.iter().take(40).position(|&b| b == b';') {
        Some(end) if end > 1 && body_ok(&bytes[1..end]) => end + 1,
        _ => 0,
    }
}

/// One tag as written: `<font color="#FF0000">`, `</b>`, `<br/>`.
struct Tag<'a> {
    name: &'a str,
    closing: bool,
    attributes: Vec<(&'a str, &'a str)>,
}

impl<'a> Tag<'a> {
    /// The tag at the start of `text` and its length in bytes, or `None` when `<` opens no tag.
    fn parse(text: &'a str) -> Option<(Self, usize)> {
        let bytes = text.as_bytes();
        let mut at = 1;
        let closing = bytes.get(at) == Some(&b'/');
        if closing {
            at += 1;
        }
        let name_start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_alphanumeric) {
            at += 1;
        }
        if at == name_start || !bytes[name_start].is_ascii_alphabetic() {
            return None;
        }
        let name = &text[name_start..at];
        let mut attributes = Vec::new();
        loop {
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            match bytes.get(at)? {
                b'>' => return Some((Self { name, closing, attributes }, at + 1)),
                b'/' if bytes.get(at + 1) == Some(&b'>') => {
                    return Some((Self { name, closing, attributes }, at + 2));
                }
                _ => {}
            }
            let key_start = at;
            while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/')) {
                at += 1;
            }
            if at == key_start {
                // A lone `/` inside the tag.
                at += 1;
                continue;
            }
            let key = &text[key_start..at];
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            let mut value = "";
            if bytes.get(at) == Some(&b'=') {
                at += 1;
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
                match bytes.get(at)? {
                    quote @ (b'"' | b'\'') => {
                        let end = at + 1 + text[at + 1..].find(char::from(*quote))?;
                        value = &text[at + 1..end];
                        at = end + 1;
                    }
                    _ => {
                        let start = at;
                        while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>') {
                            at += 1;
                        }
                        value = &text[start..at];
                    }
                }
            }
            attributes.push((key, value));
        }
    }

    /// An attribute's value with the character references a URL or colour may carry decoded.
    fn attribute(&self, name: &str) -> Option<String> {
        let (_, value) = self.attributes.iter().find(|(key, _)| key.eq_ignore_ascii_case(name))?;
        Some(
            value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_subset() {
        assert_eq!(
            chat_html("<b>bold</b> <i>i</i> <u>u</u> <s>s</s> <code>c</code><br>x"),
            "<b>bold</b> <i>i</i> <u>u</u> <s>s</s> <code>c</code><br>x"
        );
    }

    #[test]
    fn keeps_a_checked_font_colour() {
        assert_eq!(
            chat_html("<font color=\"#E8710A\"><b>High</b></font>"),
            "<font color=\"#E8710A\"><b>High</b></font>"
        );
    }

    #[test]
    fn escapes_tags_outside_the_subset() {
        assert_eq!(chat_html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(chat_html("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
    }

    #[test]
    fn drops_every_attribute_but_colour_and_href() {
        assert_eq!(chat_html("<b onclick=\"alert(1)\">x</b>"), "<b>x</b>");
        assert_eq!(chat_html("<font color=\"red\" onmouseover=\"alert(1)\">x</font>"), "<font color=\"red\">x</font>");
    }

    #[test]
    fn drops_a_colour_that_is_not_one() {
        assert_eq!(chat_html("<font color=\"red;background:url(x)\">x</font>"), "<font>x</font>");
    }

    #[test]
    fn keeps_only_https_links() {
        assert_eq!(
            chat_html("<a href=\"https://example.com/?a=1&amp;b=2\">x</a>"),
            "<a href=\"https://example.com/?a=1&amp;b=2\" target=\"_blank\" rel=\"noopener noreferrer\">x</a>"
        );
        for href in ["javascript:alert(1)", "http://example.com", "data:text/html,x", " java\tscript:x"] {
            let html = chat_html(&format!("<a href=\"{href}\">x</a>"));
            assert!(html.starts_with("<span class=\"link-removed\""), "{href}: {html}");
            assert!(!html.contains("href"), "{href}: {html}");
        }
    }

    #[test]
    fn a_quote_in_a_link_cannot_end_the_attribute() {
        let html = chat_html("<a href=\"https://x&quot;onmouseover=&quot;alert(1)\">x</a>");
        assert_eq!(
            html,
            "<a href=\"https://x&quot;onmouseover=&quot;alert(1)\" target=\"_blank\" rel=\"noopener noreferrer\">x</a>"
        );
        let spaced = chat_html("<a href=\"https://x&quot; onmouseover=&quot;alert(1)\">x</a>");
        assert!(spaced.starts_with("<span class=\"link-removed\""), "{spaced}");
    }

    #[test]
    fn closes_what_is_left_open_and_escapes_stray_closings() {
        assert_eq!(chat_html("<b><i>x</b> y</i>"), "<b><i>x</i></b> y&lt;/i&gt;");
        assert_eq!(chat_html("<pre>x"), "<pre>x</pre>");
    }

    #[test]
    fn passes_character_references_and_escapes_stray_ampersands() {
        assert_eq!(chat_html("&lt;b&gt; &amp; &#39; &#x1F600; & a&b"), "&lt;b&gt; &amp; &#39; &#x1F600; &amp; a&amp;b");
    }

    #[test]
    fn text_that_only_looks_like_a_tag_is_escaped() {
        assert_eq!(chat_html("a < b > c <3 <"), "a &lt; b &gt; c &lt;3 &lt;");
        assert_eq!(chat_html("<a href=\"unterminated>x"), "&lt;a href=&quot;unterminated&gt;x");
    }

    #[test]
    fn newlines_become_breaks() {
        assert_eq!(chat_html("a\nb"), "a<br>b");
    }
}
