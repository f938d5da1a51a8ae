//! The Google Chat webhook body delibird sends: a `Message` with one Card V2, typed after Google's
//! Chat API discovery document (`GoogleAppsCardV1*`). Serialize-only; only the parts delibird uses.

use serde::Serialize;

/// A webhook request body (`Message` resource).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Text above the card: the mentions a routing rule asks for (`<users/all>`), when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Plain text shown in notifications and by clients that cannot show cards.
    pub fallback_text: String,
    /// The cards; delibird sends exactly one.
    pub cards_v2: Vec<CardWithId>,
    /// The thread every update of one event lands in.
    pub thread: Thread,
}

/// `thread { threadKey }`: honoured only with `messageReplyOption` in the webhook URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    /// The stable key of the event's thread.
    pub thread_key: String,
}

/// A card and its id within the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardWithId {
    /// Unique within the message.
    pub card_id: String,
    /// The card.
    pub card: Card,
}

/// `GoogleAppsCardV1Card`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// The fixed-height header.
    pub header: CardHeader,
    /// The body, top to bottom.
    pub sections: Vec<Section>,
}

/// `GoogleAppsCardV1CardHeader`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardHeader {
    /// Required; cut by Chat when too long for the header.
    pub title: String,
    /// The line under the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
}

/// `GoogleAppsCardV1Section`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    /// Text above the section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// At least one widget.
    pub widgets: Vec<Widget>,
    /// Whether the section folds behind "show more".
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub collapsible: bool,
    /// How many widgets stay visible when folded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncollapsible_widgets_count: Option<u32>,
}

impl Section {
    /// An always-open section.
    pub fn new(header: Option<String>, widgets: Vec<Widget>) -> Self {
        Self { header, widgets, collapsible: false, uncollapsible_widgets_count: None }
    }

    /// A section folded after its first `visible` widgets.
    pub fn collapsible(header: String, widgets: Vec<Widget>, visible: u32) -> Self {
        Self { header: Some(header), widgets, collapsible: true, uncollapsible_widgets_count: Some(visible) }
    }
}

/// `GoogleAppsCardV1Widget`: exactly one kind per widget.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Widget {
    /// Formatted text.
    TextParagraph(TextParagraph),
    /// A line of text with labels and an icon.
    DecoratedText(DecoratedText),
    /// A row of buttons.
    ButtonList(ButtonList),
}

/// `GoogleAppsCardV1TextParagraph`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TextParagraph {
    /// Chat's HTML subset.
    pub text: String,
    /// Lines shown before Chat's own "show more"; all when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<u32>,
}

impl TextParagraph {
    /// Text shown whole.
    pub fn new(text: String) -> Self {
        Self { text, max_lines: None }
    }
}

/// `GoogleAppsCardV1DecoratedText`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecoratedText {
    /// Small text above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_label: Option<String>,
    /// Required main text, Chat's HTML subset.
    pub text: String,
    /// Small text below.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottom_label: Option<String>,
    /// Icon on the left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_icon: Option<Icon>,
    /// Wrap long text rather than cutting it.
    pub wrap_text: bool,
    /// What a click on it does: open a link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_click: Option<OnClick>,
}

impl DecoratedText {
    /// A wrapped line with a label above and an icon. Chat rejects an empty `text`, so blank
    /// text is shown as `—`.
    pub fn labelled(top_label: &str, text: String, icon: Icon) -> Self {
        Self { start_icon: Some(icon), ..Self::row(top_label, text) }
    }

    /// A wrapped line with a label above and no icon; blank text is shown as `—`.
    pub fn row(top_label: &str, text: String) -> Self {
        let text = if text.trim().is_empty() { "—".to_owned() } else { text };
        Self {
            top_label: Some(top_label.to_owned()),
            text,
            bottom_label: None,
            start_icon: None,
            wrap_text: true,
            on_click: None,
        }
    }

    /// The same line with a label below.
    #[must_use]
    pub fn with_bottom_label(mut self, bottom_label: Option<String>) -> Self {
        self.bottom_label = bottom_label;
        self
    }

    /// The same line, opening `url` (https) when clicked.
    #[must_use]
    pub fn opening(mut self, url: String) -> Self {
        self.on_click = Some(OnClick { open_link: OpenLink { url } });
        self
    }
}

/// `GoogleAppsCardV1Icon`: a built-in icon or a Material Symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Icon {
    /// One of Chat's few built-in icons.
    KnownIcon(KnownIcon),
    /// Any Material Symbols icon, by name.
    MaterialIcon(MaterialIcon),
}

impl Icon {
    /// A Material Symbol by name (`warning`, `error`, `schedule`, …).
    pub fn material(name: &'static str) -> Self {
        Self::MaterialIcon(MaterialIcon { name })
    }
}

/// The built-in icons delibird uses (Chat documents 28; these are among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KnownIcon {
    /// A clock.
    Clock,
    /// A map pin.
    MapPin,
    /// A person.
    Person,
    /// A document.
    Description,
}

/// `GoogleAppsCardV1MaterialIcon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialIcon {
    /// A Material Symbols name; an unknown one renders nothing, so only fixed names are used.
    pub name: &'static str,
}

/// `GoogleAppsCardV1ButtonList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ButtonList {
    /// The buttons, left to right.
    pub buttons: Vec<Button>,
}

/// `GoogleAppsCardV1Button` that opens a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Button {
    /// The label.
    pub text: String,
    /// Icon before the label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Icon>,
    /// What a click does.
    pub on_click: OnClick,
}

impl Button {
    /// A button that opens `url` (which must be https).
    pub fn link(text: &str, icon: Icon, url: String) -> Self {
        Self { text: text.to_owned(), icon: Some(icon), on_click: OnClick { open_link: OpenLink { url } } }
    }
}

/// `GoogleAppsCardV1OnClick`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnClick {
    /// Open a URL.
    pub open_link: OpenLink,
}

/// `GoogleAppsCardV1OpenLink`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenLink {
    /// The https URL.
    pub url: String,
}
