//! A card laid out as a Google Chat Card V2 message at one [`Budget`]: sections as Chat sections,
//! rows as decorated texts with Material icons, prose as a text paragraph folded after a dozen
//! lines, lists cut with a visible "+N more", the link as a button. Pure, no I/O.

use std::fmt::Write as _;

use super::markup::{self, html};
use super::wire::{
    Button, ButtonList, Card as ChatCard, CardHeader, CardWithId, DecoratedText, Icon, KnownIcon, Message, Section,
    TextParagraph, Thread, Widget,
};
use crate::card::model::{Body, Card, Fold, Glyph, ListKind, Row};
use crate::card::{Severity, text};

/// How much of a card a message shows. [`super::render_body`] tries each of [`BUDGETS`] in turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Characters of description.
    pub description: usize,
    /// Affected entities listed.
    pub entities: usize,
    /// Rows of the details section.
    pub details: usize,
    /// Validation problems listed on a degraded card.
    pub problems: usize,
    /// Characters of any one value (an entity, an account name, a tag list).
    pub value: usize,
    /// Accounts of a roll-up listed.
    pub accounts: usize,
    /// Whether each account's details (OU, resources) are listed, or its name only.
    pub account_details: bool,
}

/// From the full card down to one that fits whatever the event holds. A roll-up names every
/// account it can: its details go before its names do.
pub const BUDGETS: [Budget; 4] = [
    Budget {
        description: 8_000,
        entities: 40,
        details: 30,
        problems: 10,
        value: 300,
        accounts: 2_000,
        account_details: true,
    },
    Budget {
        description: 3_000,
        entities: 15,
        details: 12,
        problems: 5,
        value: 160,
        accounts: 2_000,
        account_details: false,
    },
    Budget {
        description: 800,
        entities: 5,
        details: 4,
        problems: 3,
        value: 100,
        accounts: 400,
        account_details: false,
    },
    Budget { description: 200, entities: 1, details: 0, problems: 1, value: 60, accounts: 60, account_details: false },
];

/// Lines of description a card shows before Chat's "show more": a long description would push
/// the affected resources and the link far down the conversation.
const DESCRIPTION_LINES: u32 = 12;

/// Characters in one line of card text, about, at Chat's usual card width.
const LINE_CHARS: usize = 70;

/// Longest `fallbackText` delibird writes: a notification line, far below Chat's limit.
const MAX_FALLBACK_CHARS: usize = 400;

/// The message for `card` at `budget`.
pub fn compose(card: &Card, budget: &Budget) -> Message {
    let sections = card.sections.iter().filter_map(|section| {
        let widgets = widgets(&section.body, budget);
        if widgets.is_empty() {
            return None;
        }
        let header = section.header.clone();
        Some(match section.fold {
            Fold::Open => Section::new(header, widgets),
            Fold::After(visible) => Section::collapsible(header.unwrap_or_default(), widgets, visible),
        })
    });
    Message {
        text: markup::mentions(&card.mentions),
        fallback_text: text::plain(&format!("{} — {}", card.title, card.subtitle), MAX_FALLBACK_CHARS),
        cards_v2: vec![CardWithId {
            card_id: card.id.to_owned(),
            card: ChatCard {
                header: CardHeader { title: card.title.clone(), subtitle: Some(card.subtitle.clone()) },
                sections: sections.collect(),
            },
        }],
        thread: Thread { thread_key: card.thread.clone() },
    }
}

/// A section's widgets at `budget`; none when the budget leaves nothing of it.
fn widgets(body: &Body, budget: &Budget) -> Vec<Widget> {
    match body {
        Body::Rows(rows) => rows.iter().map(|row| Widget::DecoratedText(decorated(row, budget))).collect(),
        Body::List { kind, rows, more } => {
            let shown = match kind {
                ListKind::Entities => budget.entities,
                ListKind::Details => budget.details,
            };
            let mut widgets: Vec<Widget> =
                rows.iter().take(shown).map(|row| Widget::DecoratedText(decorated(row, budget))).collect();
            let hidden = rows.len().saturating_sub(shown);
            if let Some(more) = more.filter(|_| hidden > 0) {
                let text = format!("<i>+{hidden} more — {}</i>", markup::escape(more));
                widgets.push(Widget::TextParagraph(TextParagraph::new(text)));
            }
            widgets
        }
        Body::Prose(prose) => {
            let text = markup::paragraph(prose, budget.description);
            if text.is_empty() {
                return Vec::new();
            }
            let max_lines = (markup::lines(&text, LINE_CHARS) > DESCRIPTION_LINES).then_some(DESCRIPTION_LINES);
            vec![Widget::TextParagraph(TextParagraph { max_lines, ..TextParagraph::new(text) })]
        }
        Body::Bullets { lead, items } => {
            let mut text = html(lead, budget.value);
            for item in items.iter().take(budget.problems) {
                let _ = write!(text, "<br>• {}", markup::line(item, budget.value));
            }
            if items.len() > budget.problems {
                let _ = write!(text, "<br><i>+{} more</i>", items.len() - budget.problems);
            }
            vec![Widget::TextParagraph(TextParagraph::new(text))]
        }
        Body::Accounts(lines) => {
            let mut text = String::new();
            for line in lines.iter().take(budget.accounts) {
                if !text.is_empty() {
                    text.push_str("<br>");
                }
                text.push_str(&html(&line.name, budget.value));
                if let Some(detail) = line.detail.as_ref().filter(|_| budget.account_details) {
                    let _ = write!(text, " · {}", html(detail, budget.value));
                }
            }
            let hidden = lines.len().saturating_sub(budget.accounts);
            if hidden > 0 {
                let _ = write!(text, "<br><i>+{hidden} more account{}</i>", if hidden == 1 { "" } else { "s" });
            }
            if text.is_empty() {
                return Vec::new();
            }
            let max_lines = (markup::lines(&text, LINE_CHARS) > DESCRIPTION_LINES).then_some(DESCRIPTION_LINES);
            vec![Widget::TextParagraph(TextParagraph { max_lines, ..TextParagraph::new(text) })]
        }
        Body::Items { items, hidden } => {
            let mut widgets: Vec<Widget> = items
                .iter()
                .map(|item| {
                    let shown = decorated(&item.row, budget);
                    Widget::DecoratedText(match &item.link {
                        Some(url) => shown.opening(url.clone()),
                        None => shown,
                    })
                })
                .collect();
            if *hidden > 0 {
                widgets.push(Widget::TextParagraph(TextParagraph::new(format!("<i>+{hidden} more</i>"))));
            }
            widgets
        }
        Body::Link { label, url } => {
            let button = Button::link(label, Icon::material("open_in_new"), url.clone());
            vec![Widget::ButtonList(ButtonList { buttons: vec![button] })]
        }
    }
}

/// A row as a decorated text: label above, value, note below, the glyph's icon.
fn decorated(row: &Row, budget: &Budget) -> DecoratedText {
    let label = html(&row.label, budget.value);
    let value = html(&row.value, budget.value);
    let note = row.note.as_ref().map(|note| html(note, budget.value));
    let shown = match row.glyph {
        Some(glyph) => DecoratedText::labelled(&label, value, icon(glyph)),
        None => DecoratedText::row(&label, value),
    };
    shown.with_bottom_label(note)
}

/// The Material Symbol (or built-in icon) for a glyph.
pub fn icon(glyph: Glyph) -> Icon {
    match glyph {
        Glyph::Severity(severity) => Icon::material(severity_icon(severity)),
        Glyph::Resolved | Glyph::Unimpaired => Icon::material("check_circle"),
        Glyph::Account => Icon::KnownIcon(KnownIcon::Person),
        Glyph::Region => Icon::KnownIcon(KnownIcon::MapPin),
        Glyph::Service => Icon::material("cloud"),
        Glyph::Time => Icon::KnownIcon(KnownIcon::Clock),
        Glyph::Pages => Icon::KnownIcon(KnownIcon::Description),
        Glyph::Impaired => Icon::material("error"),
        Glyph::Pending => Icon::material("schedule"),
        Glyph::Unknown => Icon::material("help"),
        Glyph::Resource => Icon::material("dns"),
    }
}

/// The Material Symbols icon for a severity.
fn severity_icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::High => "report",
        Severity::Critical => "error",
    }
}
