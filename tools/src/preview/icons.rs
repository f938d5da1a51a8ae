//! Card icons without the network: the Material Symbols delibird uses (and other common ones) and
//! Chat's built-in `knownIcon`s as inline SVG paths drawn on Material's 24×24 grid. Anything else
//! (an unknown name, an `iconUrl` the preview may not fetch) is a visible stand-in, never nothing.

use serde_json::Value;

use super::markup::escape;

/// Material Symbols by name, as SVG path data.
const MATERIAL: &[(&str, &str)] = &[
    ("info", "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm1 15h-2v-6h2v6zm0-8h-2V7h2v2z"),
    ("warning", "M1 21h22L12 2 1 21zm12-3h-2v-2h2v2zm0-4h-2v-4h2v4z"),
    (
        "report",
        "M15.73 3H8.27L3 8.27v7.46L8.27 21h7.46L21 15.73V8.27L15.73 3zM12 17.3c-.72 0-1.3-.58-1.3-1.3s.58-1.3 \
         1.3-1.3 1.3.58 1.3 1.3-.58 1.3-1.3 1.3zm1-4.3h-2V7h2v6z",
    ),
    ("error", "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm1 15h-2v-2h2v2zm0-4h-2V7h2v6z"),
    (
        "check_circle",
        "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm-2 15l-5-5 1.41-1.41L10 14.17l7.59-7.59L19 \
         8l-9 9z",
    ),
    (
        "schedule",
        "M11.99 2C6.47 2 2 6.48 2 12s4.47 10 9.99 10C17.52 22 22 17.52 22 12S17.52 2 11.99 2zM12 20c-4.42 0-8-3.58-8-8s3.58-8 \
         8-8 8 3.58 8 8-3.58 8-8 8zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67z",
    ),
    (
        "help",
        "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm1 17h-2v-2h2v2zm2.07-7.75l-.9.92C13.45 12.9 13 \
         13.5 13 15h-2v-.5c0-1.1.45-2.1 1.17-2.83l1.24-1.26c.37-.36.59-.86.59-1.41 0-1.1-.9-2-2-2s-2 .9-2 2H8c0-2.21 \
         1.79-4 4-4s4 1.79 4 4c0 .88-.36 1.68-.93 2.25z",
    ),
    (
        "dns",
        "M20 13H4c-.55 0-1 .45-1 1v6c0 .55.45 1 1 1h16c.55 0 1-.45 1-1v-6c0-.55-.45-1-1-1zM7 19c-1.1 0-2-.9-2-2s.9-2 2-2 2 \
         .9 2 2-.9 2-2 2zM20 3H4c-.55 0-1 .45-1 1v6c0 .55.45 1 1 1h16c.55 0 1-.45 1-1V4c0-.55-.45-1-1-1zM7 9c-1.1 0-2-.9-2-2s.9-2 \
         2-2 2 .9 2 2-.9 2-2 2z",
    ),
    (
        "cloud",
        "M19.35 10.04C18.67 6.59 15.64 4 12 4 9.11 4 6.6 5.64 5.35 8.04 2.34 8.36 0 10.91 0 14c0 3.31 2.69 6 6 6h13c2.76 0 \
         5-2.24 5-5 0-2.64-2.05-4.78-4.65-4.96z",
    ),
    (
        "open_in_new",
        "M19 19H5V5h7V3H5c-1.11 0-2 .9-2 2v14c0 1.1.89 2 2 2h14c1.1 0 2-.9 2-2v-7h-2v7zM14 3v2h3.59l-9.83 9.83 1.41 1.41L19 \
         6.41V10h2V3h-7z",
    ),
    ("person", PERSON),
    ("place", MAP_PIN),
    ("location_on", MAP_PIN),
    ("description", DESCRIPTION),
    ("event", EVENT),
    ("star", STAR),
    ("email", EMAIL),
    ("mail", EMAIL),
    (
        "link",
        "M3.9 12c0-1.71 1.39-3.1 3.1-3.1h4V7H7c-2.76 0-5 2.24-5 5s2.24 5 5 5h4v-1.9H7c-1.71 0-3.1-1.39-3.1-3.1zM8 13h8v-2H8v2zm9-6h-4v1.9h4c1.71 0 3.1 1.39 3.1 3.1s-1.39 3.1-3.1 3.1h-4V17h4c2.76 0 5-2.24 5-5s-2.24-5-5-5z",
    ),
    (
        "public",
        "M12 2C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm-1 17.93c-3.95-.49-7-3.85-7-7.93 0-.62.08-1.21.21-1.79L9 15v1c0 1.1.9 2 2 2v1.93zm6.9-2.54c-.26-.81-1-1.39-1.9-1.39h-1v-3c0-.55-.45-1-1-1H8v-2h2c.55 0 1-.45 1-1V7h2c1.1 0 2-.9 2-2v-.41c2.93 1.19 5 4.06 5 7.41 0 2.08-.8 3.97-2.1 5.39z",
    ),
    (
        "label",
        "M17.63 5.84C17.27 5.33 16.67 5 16 5L5 5.01C3.9 5.01 3 5.9 3 7v10c0 1.1.9 1.99 2 1.99L16 19c.67 0 1.27-.33 1.63-.84L22 12l-4.37-6.16z",
    ),
    (
        "notifications",
        "M12 22c1.1 0 2-.9 2-2h-4c0 1.1.89 2 2 2zm6-6v-5c0-3.07-1.64-5.64-4.5-6.32V4c0-.83-.67-1.5-1.5-1.5s-1.5.67-1.5 1.5v.68C7.63 5.36 6 7.92 6 11v5l-2 2v1h16v-1l-2-2z",
    ),
    (
        "lock",
        "M18 8h-1V6c0-2.76-2.24-5-5-5S7 3.24 7 6v2H6c-1.1 0-2 .9-2 2v10c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V10c0-1.1-.9-2-2-2zm-6 9c-1.1 0-2-.9-2-2s.9-2 2-2 2 .9 2 2-.9 2-2 2zm3.1-9H8.9V6c0-1.71 1.39-3.1 3.1-3.1 1.71 0 3.1 1.39 3.1 3.1v2z",
    ),
    ("check", "M9 16.17L4.83 12l-1.42 1.41L9 19 21 7l-1.41-1.41z"),
    ("close", "M19 6.41L17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z"),
];

const PERSON: &str =
    "M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z";
const MAP_PIN: &str = "M12 2C8.13 2 5 5.13 5 9c0 5.25 7 13 7 13s7-7.75 7-13c0-3.87-3.13-7-7-7zm0 9.5c-1.38 0-2.5-1.12-2.5-2.5s1.12-2.5 2.5-2.5 2.5 1.12 2.5 2.5-1.12 2.5-2.5 2.5z";
const DESCRIPTION: &str = "M14 2H6c-1.1 0-1.99.9-1.99 2L4 20c0 1.1.89 2 1.99 2H18c1.1 0 2-.9 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z";
const CLOCK: &str = "M11.99 2C6.47 2 2 6.48 2 12s4.47 10 9.99 10C17.52 22 22 17.52 22 12S17.52 2 11.99 2zM12 20c-4.42 0-8-3.58-8-8s3.58-8 8-8 8 3.58 8 8-3.58 8-8 8zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67z";
const EVENT: &str = "M17 12h-5v5h5v-5zM16 1v2H8V1H6v2H5c-1.11 0-1.99.9-1.99 2L3 19c0 1.1.89 2 2 2h14c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2h-1V1h-2zm3 18H5V8h14v11z";
const STAR: &str = "M12 17.27L18.18 21l-1.64-7.03L22 9.24l-7.19-.61L12 2 9.19 8.63 2 9.24l5.46 4.73L5.82 21z";
const EMAIL: &str =
    "M20 4H4c-1.1 0-1.99.9-1.99 2L2 18c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V6c0-1.1-.9-2-2-2zm0 4l-8 5-8-5V6l8 5 8-5v2z";
const GROUP: &str = "M16 11c1.66 0 2.99-1.34 2.99-3S17.66 5 16 5c-1.66 0-3 1.34-3 3s1.34 3 3 3zm-8 0c1.66 0 2.99-1.34 2.99-3S9.66 5 8 5C6.34 5 5 6.34 5 8s1.34 3 3 3zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5c0-2.33-4.67-3.5-7-3.5zm8 0c-.29 0-.62.02-.97.05 1.16.84 1.97 1.97 1.97 3.45V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z";
const PHONE: &str = "M6.62 10.79c1.44 2.83 3.76 5.14 6.59 6.59l2.2-2.2c.27-.27.67-.36 1.02-.24 1.12.37 2.33.57 3.57.57.55 0 1 .45 1 1V20c0 .55-.45 1-1 1-9.39 0-17-7.61-17-17 0-.55.45-1 1-1h3.5c.55 0 1 .45 1 1 0 1.25.2 2.45.57 3.57.11.35.03.74-.25 1.02l-2.2 2.2z";

/// Chat's built-in icons: an SVG path, or a glyph for those Material has no plain path here.
const KNOWN: &[(&str, Shape)] = &[
    ("AIRPLANE", Shape::Glyph("✈")),
    ("BOOKMARK", Shape::Path("M17 3H7c-1.1 0-1.99.9-1.99 2L5 21l7-3 7 3V5c0-1.1-.9-2-2-2z")),
    ("BUS", Shape::Glyph("🚌")),
    ("CAR", Shape::Glyph("🚗")),
    ("CLOCK", Shape::Path(CLOCK)),
    ("CONFIRMATION_NUMBER_ICON", Shape::Glyph("🎫")),
    ("DESCRIPTION", Shape::Path(DESCRIPTION)),
    ("DOLLAR", Shape::Glyph("$")),
    ("EMAIL", Shape::Path(EMAIL)),
    ("EVENT_SEAT", Shape::Glyph("💺")),
    ("FLIGHT_ARRIVAL", Shape::Glyph("🛬")),
    ("FLIGHT_DEPARTURE", Shape::Glyph("🛫")),
    ("HOTEL", Shape::Glyph("🏨")),
    ("HOTEL_ROOM_TYPE", Shape::Glyph("🛏")),
    ("INVITE", Shape::Path(EMAIL)),
    ("MAP_PIN", Shape::Path(MAP_PIN)),
    ("MEMBERSHIP", Shape::Glyph("🪪")),
    ("MULTIPLE_PEOPLE", Shape::Path(GROUP)),
    ("PERSON", Shape::Path(PERSON)),
    ("PHONE", Shape::Path(PHONE)),
    ("RESTAURANT_ICON", Shape::Glyph("🍴")),
    ("SHOPPING_CART", Shape::Glyph("🛒")),
    ("STAR", Shape::Path(STAR)),
    ("STORE", Shape::Glyph("🏬")),
    ("TICKET", Shape::Glyph("🎟")),
    ("TRAIN", Shape::Glyph("🚆")),
    ("VIDEO_CAMERA", Shape::Glyph("📹")),
    ("VIDEO_PLAY", Shape::Glyph("▶")),
];

#[derive(Debug, Clone, Copy)]
enum Shape {
    Path(&'static str),
    Glyph(&'static str),
}

/// True when the preview draws the Material Symbol `name`.
pub fn knows_material(name: &str) -> bool {
    MATERIAL.iter().any(|(known, _)| *known == name)
}

/// An `Icon` object (`knownIcon`, `materialIcon {name}`, `iconUrl`) as HTML.
pub fn icon(icon: &Value) -> String {
    if let Some(name) = icon.get("knownIcon").and_then(Value::as_str) {
        return match KNOWN.iter().find(|(known, _)| *known == name) {
            Some((_, Shape::Path(path))) => svg(path, name),
            Some((_, Shape::Glyph(glyph))) => {
                format!("<span class=\"icon glyph\" title=\"{}\">{glyph}</span>", escape(name))
            }
            None => unknown(&format!("unknown knownIcon {name}")),
        };
    }
    if let Some(material) = icon.get("materialIcon") {
        let name = material.get("name").and_then(Value::as_str).unwrap_or_default();
        return match MATERIAL.iter().find(|(known, _)| *known == name) {
            Some((_, path)) => svg(path, name),
            None => unknown(&format!("Material Symbol not drawn by the preview: {name}")),
        };
    }
    if let Some(url) = icon.get("iconUrl").and_then(Value::as_str) {
        let alt = icon.get("altText").and_then(Value::as_str).unwrap_or("icon");
        return format!(
            "<span class=\"icon standin\" title=\"{}: {} (not loaded: the preview works offline)\">▣</span>",
            escape(alt),
            escape(url)
        );
    }
    unknown("an icon of no kind the preview knows")
}

fn svg(path: &str, name: &str) -> String {
    format!(
        "<svg class=\"icon\" viewBox=\"0 0 24 24\" aria-hidden=\"true\"><title>{}</title><path d=\"{path}\"/></svg>",
        escape(name)
    )
}

fn unknown(why: &str) -> String {
    format!("<span class=\"icon placeholder\" data-placeholder=\"icon\" title=\"{}\">?</span>", escape(why))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn draws_known_and_material_icons() {
        assert!(icon(&json!({"knownIcon": "CLOCK"})).starts_with("<svg"));
        assert!(icon(&json!({"materialIcon": {"name": "warning"}})).starts_with("<svg"));
        assert!(icon(&json!({"knownIcon": "TRAIN"})).contains("glyph"));
    }

    #[test]
    fn an_unknown_icon_is_a_visible_placeholder() {
        let html = icon(&json!({"materialIcon": {"name": "<b>nope</b>"}}));
        assert!(html.contains("data-placeholder"), "{html}");
        assert!(html.contains("&lt;b&gt;nope"), "{html}");
        assert!(icon(&json!({"knownIcon": "UFO"})).contains("data-placeholder"));
    }

    #[test]
    fn an_icon_url_is_not_loaded() {
        let html = icon(&json!({"iconUrl": "https://example.com/x.png\" onerror=\"alert(1)"}));
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&quot; onerror=&quot;"), "{html}");
    }
}
