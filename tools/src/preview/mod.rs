//! A static HTML page that shows webhook bodies as Google Chat shows them, to look at cards before
//! they ship.
//!
//! [`page`] takes webhook *bodies* (`{fallbackText, cardsV2: [{cardId, card}], thread}`, what
//! Chat receives), so it previews any sender's cards, not only delibird's. It draws the card
//! header, sections and their headers, collapsible sections with a working "Show more" / "Show
//! less", decorated texts with labels and icons, text paragraphs in Chat's HTML subset, buttons,
//! chips, columns, dividers, images (as offline stand-ins), and messages grouped by
//! `thread.threadKey`. What it cannot draw (a widget it does not know, an icon it has no drawing
//! of) is a visible placeholder carrying `data-placeholder`, never dropped.
//!
//! The page is self-contained and offline: no scripts (collapsing is CSS, a checkbox per
//! section), no fonts, images or styles from the network, and a Content-Security-Policy that
//! forbids them. Card text passes through [`markup::chat_html`], which keeps only Chat's subset:
//! a hostile body shows its markup as text. Pure, no I/O.

pub mod icons;
pub mod markup;

use std::fmt::Write as _;

use serde_json::{Map, Value};

use delibird::chat::limits::{MAX_MESSAGE_BYTES, MAX_WIDGETS_PER_CARD};
use markup::{chat_html, escape, is_https};

/// What the page allows itself: inline styles, `data:` images, nothing else, and no scripts.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// The page's style sheet.
const STYLE: &str = include_str!("page.css");

/// Message members the page shows or, for metadata Chat fills in itself, knowingly leaves out.
const MESSAGE_KEYS: &[&str] =
    &["text", "cardsV2", "fallbackText", "thread", "name", "sender", "createTime", "clientAssignedMessageId"];

/// Card members the page shows or, for members Chat does not show in messages, leaves out.
const CARD_KEYS: &[&str] =
    &["header", "sections", "name", "cardActions", "displayStyle", "sectionDividerStyle", "peekCardHeader"];

/// The whole page: one block per thread, in order of first appearance, each holding its messages
/// in the order given. Each body comes with a label saying where it came from.
pub fn page(bodies: &[(String, Value)]) -> String {
    let threads = threads(bodies);
    let cards: usize = bodies.iter().map(|(_, body)| cards_of(body).len()).sum();
    let mut html = String::with_capacity(8_192 + bodies.len() * 8_192);
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Google Chat preview: {} message{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>",
        bodies.len(),
        plural(bodies.len()),
    );
    let _ = writeln!(
        html,
        "<header class=\"page-header\"><h1>Google Chat preview</h1><p><span class=\"counts\" \
         data-messages=\"{}\" data-cards=\"{cards}\" data-threads=\"{}\">{} message{} with {cards} card{} in {} \
         thread{}</span> · drawn offline: fonts, Material icons and images are stand-ins for Chat's own</p></header>\n\
         <main>",
        bodies.len(),
        threads.len(),
        bodies.len(),
        plural(bodies.len()),
        plural(cards),
        threads.len(),
        plural(threads.len()),
    );
    let mut ids = 0;
    for (key, members) in &threads {
        let _ = write!(html, "<section class=\"thread\"><div class=\"thread-key\">");
        match key {
            Some(key) => {
                let _ = write!(
                    html,
                    "Thread <code>{}</code> · {} message{}",
                    escape(key),
                    members.len(),
                    plural(members.len())
                );
            }
            None => html.push_str("No <code>thread.threadKey</code>: a thread of its own"),
        }
        html.push_str("</div>\n");
        for (position, &index) in members.iter().enumerate() {
            let (label, body) = &bodies[index];
            message(&mut html, label, body, position > 0, &mut ids);
        }
        html.push_str("</section>\n");
    }
    if bodies.is_empty() {
        html.push_str("<p class=\"empty\">No webhook bodies to show.</p>\n");
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Bodies grouped by `thread.threadKey`, in order of first appearance; bodies without one each
/// stand alone.
fn threads(bodies: &[(String, Value)]) -> Vec<(Option<String>, Vec<usize>)> {
    let mut threads: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (index, (_, body)) in bodies.iter().enumerate() {
        let key = body.pointer("/thread/threadKey").and_then(Value::as_str).map(str::to_owned);
        match threads.iter_mut().find(|(known, _)| key.is_some() && *known == key) {
            Some((_, members)) => members.push(index),
            None => threads.push((key, vec![index])),
        }
    }
    threads
}

fn cards_of(body: &Value) -> &[Value] {
    body.get("cardsV2").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn message(html: &mut String, label: &str, body: &Value, reply: bool, ids: &mut usize) {
    let bytes = serde_json::to_vec(body).map_or(0, |b| b.len());
    let widgets: usize = cards_of(body).iter().map(widget_count).max().unwrap_or(0);
    let over = if bytes > MAX_MESSAGE_BYTES || widgets > MAX_WIDGETS_PER_CARD { " over" } else { "" };
    let _ = writeln!(
        html,
        "<article class=\"message{}\" data-label=\"{}\">\n<div class=\"avatar\" aria-hidden=\"true\">{}</div>\n\
         <div class=\"message-body\">\n<div class=\"sender\"><span class=\"name\">Incoming webhook</span> \
         <span class=\"badge\">App</span> <span class=\"label\">{}</span> <span class=\"size{over}\">{} widgets · {} bytes</span></div>",
        if reply { " reply" } else { "" },
        escape(label),
        icons::icon(&serde_json::json!({"materialIcon": {"name": "notifications"}})),
        escape(label),
        widgets,
        bytes,
    );
    let Some(object) = body.as_object() else {
        placeholder(html, "message", "This is not a webhook body: a JSON object is expected.");
        html.push_str("</div>\n</article>\n");
        return;
    };
    if let Some(fallback) = object.get("fallbackText").and_then(Value::as_str) {
        let _ = writeln!(
            html,
            "<div class=\"fallback\" title=\"fallbackText: what notifications show\">🔔 {}</div>",
            escape(fallback)
        );
    }
    if let Some(text) = object.get("text").and_then(Value::as_str) {
        let _ = writeln!(html, "<div class=\"message-text\">{}</div>", mentions(&escape(text)).replace('\n', "<br>"));
    }
    for item in cards_of(body) {
        match item.get("card") {
            Some(card_value) if card_value.is_object() => {
                let id = item.get("cardId").and_then(Value::as_str).unwrap_or_default();
                card(html, id, card_value, ids);
            }
            _ => placeholder(html, "card", "A cardsV2 entry without a card object."),
        }
    }
    if object.contains_key("cards") {
        placeholder(html, "cards", "cards (Card V1, deprecated) is not previewed.");
    }
    unknown_members(html, object, MESSAGE_KEYS, "message");
    let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
    let _ = writeln!(
        html,
        "<details class=\"json\"><summary>Webhook body</summary><pre>{}</pre></details>\n</div>\n</article>",
        escape(&pretty)
    );
}

/// A visible note for every member the preview does not show.
fn unknown_members(html: &mut String, object: &Map<String, Value>, known: &[&str], of: &str) {
    for key in object.keys().filter(|key| !known.contains(&key.as_str())) {
        placeholder(html, "member", &format!("The {of} member {key} is not previewed."));
    }
}

fn placeholder(html: &mut String, kind: &str, why: &str) {
    let _ = writeln!(html, "<div class=\"placeholder\" data-placeholder=\"{kind}\">{}</div>", escape(why));
}

fn widget_count(item: &Value) -> usize {
    let sections = item.pointer("/card/sections").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    sections.iter().map(|s| s.get("widgets").and_then(Value::as_array).map_or(0, Vec::len)).sum()
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn card(html: &mut String, id: &str, card: &Value, ids: &mut usize) {
    let dividers = str_of(card, "sectionDividerStyle") != Some("NO_DIVIDER");
    let _ = writeln!(
        html,
        "<div class=\"card{}\" data-card-id=\"{}\">",
        if dividers { "" } else { " no-dividers" },
        escape(id)
    );
    if let Some(header) = card.get("header") {
        card_header(html, header);
    }
    for section_value in card.get("sections").and_then(Value::as_array).into_iter().flatten() {
        section(html, section_value, ids);
    }
    if let Some(object) = card.as_object() {
        unknown_members(html, object, CARD_KEYS, "card");
    }
    html.push_str("</div>\n");
}

fn card_header(html: &mut String, header: &Value) {
    html.push_str("<div class=\"card-header\">");
    if let Some(url) = str_of(header, "imageUrl") {
        let alt = str_of(header, "imageAltText").unwrap_or_default();
        let shape = if str_of(header, "imageType") == Some("CIRCLE") { " circle" } else { "" };
        let initial: String =
            alt.chars().find(|c| c.is_alphanumeric()).map_or("🖼".into(), |c| c.to_uppercase().collect());
        let _ = write!(
            html,
            "<span class=\"header-image standin{shape}\" title=\"{}: {} (not loaded: the preview works offline)\">{}</span>",
            escape(alt),
            escape(url),
            escape(&initial)
        );
    }
    let title = str_of(header, "title").unwrap_or_default();
    let _ = write!(html, "<div class=\"header-text\"><div class=\"card-title\">{}</div>", escape(title));
    if let Some(subtitle) = str_of(header, "subtitle") {
        let _ = write!(html, "<div class=\"card-subtitle\">{}</div>", escape(subtitle));
    }
    html.push_str("</div></div>\n");
}

fn section(html: &mut String, section: &Value, ids: &mut usize) {
    let widgets = section.get("widgets").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    let collapsible = section.get("collapsible").and_then(Value::as_bool).unwrap_or(false);
    let visible = section
        .get("uncollapsibleWidgetsCount")
        .and_then(Value::as_u64)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
        .min(widgets.len());
    let folds = collapsible && visible < widgets.len();
    let _ = writeln!(
        html,
        "<div class=\"section{}\"{}>",
        if folds { " collapsible" } else { "" },
        if folds { format!(" data-hidden-widgets=\"{}\"", widgets.len() - visible) } else { String::new() }
    );
    if let Some(header) = str_of(section, "header") {
        let _ = writeln!(html, "<div class=\"section-header\">{}</div>", chat_html(header));
    }
    if widgets.is_empty() {
        placeholder(html, "section", "A section without widgets (Chat rejects it).");
    }
    let shown = if folds { &widgets[..visible] } else { widgets };
    for widget_value in shown {
        widget(html, widget_value, ids);
    }
    if folds {
        *ids += 1;
        let id = format!("toggle-{ids}");
        let _ = writeln!(html, "<input type=\"checkbox\" class=\"toggle\" id=\"{id}\">\n<div class=\"more\">");
        for widget_value in &widgets[visible..] {
            widget(html, widget_value, ids);
        }
        let _ = writeln!(
            html,
            "</div>\n<label class=\"show-more\" for=\"{id}\"><span class=\"closed\">Show more</span>\
             <span class=\"open\">Show less</span><span class=\"chevron\" aria-hidden=\"true\"></span></label>"
        );
    }
    html.push_str("</div>\n");
}

/// One widget; modifier members (`horizontalAlignment`) aside, a widget holds exactly one kind.
fn widget(html: &mut String, widget: &Value, ids: &mut usize) {
    let Some(object) = widget.as_object() else {
        placeholder(html, "widget", "A widget that is not a JSON object.");
        return;
    };
    let kinds: Vec<(&String, &Value)> = object.iter().filter(|(key, _)| *key != "horizontalAlignment").collect();
    if kinds.is_empty() {
        placeholder(html, "widget", "An empty widget.");
    }
    for (kind, value) in kinds {
        match kind.as_str() {
            "textParagraph" => text_paragraph(html, value, ids),
            "decoratedText" => decorated_text(html, value),
            "buttonList" => button_list(html, value),
            "chipList" => chip_list(html, value),
            "columns" => columns(html, value, ids),
            "divider" => html.push_str("<hr class=\"widget divider\">\n"),
            "image" => image(html, value),
            "grid" => grid(html, value),
            other => {
                let _ = writeln!(
                    html,
                    "<div class=\"widget placeholder\" data-placeholder=\"widget\">Widget not previewed: <code>{}</code></div>",
                    escape(other)
                );
            }
        }
    }
}

fn text_paragraph(html: &mut String, paragraph: &Value, ids: &mut usize) {
    let text = chat_html(str_of(paragraph, "text").unwrap_or_default());
    match paragraph.get("maxLines").and_then(Value::as_u64).filter(|n| *n > 0) {
        Some(lines) => {
            *ids += 1;
            let _ = writeln!(
                html,
                "<div class=\"widget text-paragraph clamped\"><input type=\"checkbox\" class=\"toggle\" id=\"toggle-{ids}\">\
                 <div class=\"clamp\" style=\"--lines: {}\">{text}</div><label class=\"show-more\" for=\"toggle-{ids}\">\
                 <span class=\"closed\">Show more</span><span class=\"open\">Show less</span></label></div>",
                lines.min(1_000)
            );
        }
        None => {
            let _ = writeln!(html, "<div class=\"widget text-paragraph\">{text}</div>");
        }
    }
}

fn decorated_text(html: &mut String, decorated: &Value) {
    html.push_str("<div class=\"widget decorated-text\">");
    if let Some(icon) = decorated.get("startIcon").or_else(|| decorated.get("icon")) {
        let _ = write!(html, "<div class=\"start-icon\">{}</div>", icons::icon(icon));
    }
    html.push_str("<div class=\"content\">");
    let label = |key: &str, text_key: &str| {
        str_of(decorated, key).or_else(|| decorated.get(text_key).and_then(|t| str_of(t, "text")))
    };
    if let Some(top) = label("topLabel", "topLabelText") {
        let _ = write!(html, "<div class=\"top-label\">{}</div>", chat_html(top));
    }
    let wrap = decorated.get("wrapText").and_then(Value::as_bool).unwrap_or(false);
    let text = label("text", "contentText").unwrap_or_default();
    let _ = write!(html, "<div class=\"text{}\">{}</div>", if wrap { "" } else { " nowrap" }, chat_html(text));
    if let Some(bottom) = label("bottomLabel", "bottomLabelText") {
        let _ = write!(html, "<div class=\"bottom-label\">{}</div>", chat_html(bottom));
    }
    html.push_str("</div>");
    if let Some(button_value) = decorated.get("button") {
        html.push_str("<div class=\"end\">");
        button(html, button_value);
        html.push_str("</div>");
    } else if let Some(switch) = decorated.get("switchControl") {
        let on = switch.get("selected").and_then(Value::as_bool).unwrap_or(false);
        let _ = write!(
            html,
            "<div class=\"end\"><span class=\"switch{}\" title=\"switch control\"></span></div>",
            if on { " on" } else { "" }
        );
    } else if let Some(icon) = decorated.get("endIcon") {
        let _ = write!(html, "<div class=\"end\">{}</div>", icons::icon(icon));
    }
    html.push_str("</div>\n");
}

fn button_list(html: &mut String, list: &Value) {
    html.push_str("<div class=\"widget button-list\">");
    for button_value in list.get("buttons").and_then(Value::as_array).into_iter().flatten() {
        button(html, button_value);
    }
    html.push_str("</div>\n");
}

/// The `https` link a click opens, if that is what it does.
fn link(on_click: Option<&Value>) -> Result<Option<&str>, &'static str> {
    let Some(on_click) = on_click else { return Ok(None) };
    match on_click.pointer("/openLink/url").and_then(Value::as_str) {
        Some(url) if is_https(url) => Ok(Some(url)),
        Some(_) => Err("link not shown: Chat opens https links only"),
        None => Err("runs an action of a Chat app"),
    }
}

fn button(html: &mut String, button: &Value) {
    let kind = match str_of(button, "type") {
        Some("OUTLINED") => "outlined",
        Some("FILLED_TONAL") => "tonal",
        Some("BORDERLESS") => "borderless",
        _ => "filled",
    };
    let colour = button.get("color").map(|c| {
        let channel = |name: &str| {
            let value = c.get(name).and_then(Value::as_f64).unwrap_or(0.0).clamp(0.0, 1.0);
            (value * 255.0).round() as u8
        };
        format!(
            " style=\"background-color: rgb({}, {}, {}); border-color: transparent\"",
            channel("red"),
            channel("green"),
            channel("blue")
        )
    });
    let disabled = button.get("disabled").and_then(Value::as_bool).unwrap_or(false);
    let mut inner = String::new();
    if let Some(icon) = button.get("icon") {
        inner.push_str(&icons::icon(icon));
    }
    inner.push_str(&escape(str_of(button, "text").unwrap_or_default()));
    let class = format!("button {kind}{}", if disabled { " disabled" } else { "" });
    let colour = colour.unwrap_or_default();
    match link(button.get("onClick")) {
        Ok(Some(url)) if !disabled => {
            let _ = write!(
                html,
                "<a class=\"{class}\"{colour} href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">{inner}</a>",
                escape(url)
            );
        }
        Ok(_) => {
            let _ = write!(html, "<span class=\"{class}\"{colour}>{inner}</span>");
        }
        Err(why) => {
            let _ = write!(html, "<span class=\"{class}\"{colour} title=\"{why}\">{inner}</span>");
        }
    }
}

fn chip_list(html: &mut String, list: &Value) {
    html.push_str("<div class=\"widget chip-list\">");
    for chip in list.get("chips").and_then(Value::as_array).into_iter().flatten() {
        let mut inner = String::new();
        if let Some(icon) = chip.get("icon") {
            inner.push_str(&icons::icon(icon));
        }
        inner.push_str(&escape(str_of(chip, "label").unwrap_or_default()));
        match link(chip.get("onClick")) {
            Ok(Some(url)) => {
                let _ = write!(
                    html,
                    "<a class=\"chip\" href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">{inner}</a>",
                    escape(url)
                );
            }
            Ok(None) => {
                let _ = write!(html, "<span class=\"chip\">{inner}</span>");
            }
            Err(why) => {
                let _ = write!(html, "<span class=\"chip\" title=\"{why}\">{inner}</span>");
            }
        }
    }
    html.push_str("</div>\n");
}

fn columns(html: &mut String, columns: &Value, ids: &mut usize) {
    html.push_str("<div class=\"widget columns\">");
    for column in columns.get("columnItems").and_then(Value::as_array).into_iter().flatten() {
        html.push_str("<div class=\"column\">");
        for widget_value in column.get("widgets").and_then(Value::as_array).into_iter().flatten() {
            widget(html, widget_value, ids);
        }
        html.push_str("</div>");
    }
    html.push_str("</div>\n");
}

fn image(html: &mut String, image: &Value) {
    let url = str_of(image, "imageUrl").unwrap_or_default();
    let alt = str_of(image, "altText").unwrap_or("image");
    let _ = writeln!(
        html,
        "<div class=\"widget image standin\" title=\"{} (not loaded: the preview works offline)\">🖼 {}</div>",
        escape(url),
        escape(alt)
    );
}

fn grid(html: &mut String, grid: &Value) {
    let columns = grid.get("columnCount").and_then(Value::as_u64).unwrap_or(2).clamp(1, 6);
    html.push_str("<div class=\"widget grid\">");
    if let Some(title) = str_of(grid, "title") {
        let _ = write!(html, "<div class=\"grid-title\">{}</div>", escape(title));
    }
    let _ = write!(html, "<div class=\"grid-items\" style=\"--columns: {columns}\">");
    for item in grid.get("items").and_then(Value::as_array).into_iter().flatten() {
        html.push_str("<div class=\"grid-item\"><div class=\"image standin\">🖼</div>");
        for (key, class) in [("title", "grid-item-title"), ("subtitle", "grid-item-subtitle")] {
            if let Some(text) = str_of(item, key) {
                let _ = write!(html, "<div class=\"{class}\">{}</div>", escape(text));
            }
        }
        html.push_str("</div>");
    }
    html.push_str("</div></div>\n");
}

/// Chat's mention syntax in escaped message text (`&lt;users/all&gt;`) drawn as Chat draws it: a
/// chip, `@all` or `@user 1234…`.
fn mentions(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find("&lt;users/") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "&lt;users/".len()..];
        match after.find("&gt;") {
            Some(end) if end <= 40 && after[..end].chars().all(|c| c.is_ascii_alphanumeric()) => {
                let who = &after[..end];
                let label = if who == "all" { "@all".to_owned() } else { format!("@user {who}") };
                let _ = write!(out, "<span class=\"mention\" title=\"users/{who}\">{label}</span>");
                rest = &after[end + "&gt;".len()..];
            }
            _ => {
                out.push_str("&lt;users/");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(sections: Value) -> Value {
        json!({
            "fallbackText": "fallback",
            "cardsV2": [{"cardId": "c", "card": {"header": {"title": "Title", "subtitle": "Sub"}, "sections": sections}}],
            "thread": {"threadKey": "k"}
        })
    }

    #[test]
    fn groups_messages_by_thread_key_in_order_of_first_appearance() {
        let mut a = body(json!([{"widgets": [{"divider": {}}]}]));
        let mut b = a.clone();
        b["thread"]["threadKey"] = json!("other");
        a["cardsV2"][0]["card"]["header"]["title"] = json!("first");
        let mut c = a.clone();
        c["cardsV2"][0]["card"]["header"]["title"] = json!("reply");
        let html = page(&[("a".into(), a), ("b".into(), b), ("c".into(), c)]);
        assert_eq!(html.matches("<section class=\"thread\">").count(), 2);
        let first = html.find(">first<").unwrap();
        let reply = html.find(">reply<").unwrap();
        let other = html.find("Thread <code>other</code>").unwrap();
        assert!(first < reply && reply < other, "the reply is grouped with its thread");
        assert_eq!(html.matches("class=\"message reply\"").count(), 1);
    }

    #[test]
    fn a_collapsible_section_hides_what_is_past_its_visible_count() {
        let widgets: Vec<Value> = (0..5).map(|i| json!({"textParagraph": {"text": format!("w{i}")}})).collect();
        let html = page(&[(
            "x".into(),
            body(json!([{"header": "H", "collapsible": true, "uncollapsibleWidgetsCount": 2, "widgets": widgets}])),
        )]);
        assert!(html.contains("data-hidden-widgets=\"3\""), "{html}");
        let more = &html[html.find("<div class=\"more\">").unwrap()..];
        assert!(!more.contains(">w1<") && more.contains(">w2<") && more.contains(">w4<"));
        assert!(html.contains("Show more") && html.contains("Show less"));
    }

    #[test]
    fn unknown_widgets_and_members_are_visible_placeholders() {
        let mut message = body(json!([{"widgets": [{"textInput": {"name": "x"}}, {}]}]));
        message["accessoryWidgets"] = json!([]);
        let html = page(&[("x".into(), message)]);
        assert!(html.contains("Widget not previewed: <code>textInput</code>"), "{html}");
        assert!(html.contains("An empty widget."));
        assert!(html.contains("The message member accessoryWidgets is not previewed."));
    }

    #[test]
    fn the_page_forbids_scripts_and_the_network() {
        let html = page(&[]);
        assert!(html.contains(CONTENT_SECURITY_POLICY));
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://"), "the page itself links nowhere");
    }
}
