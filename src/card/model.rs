//! What a card says, in no chat service's format: a title and subtitle, sections of rows, prose,
//! lists and a link, and text made of plain runs with the little emphasis cards use. A channel
//! ([`crate::channel::Channel`]) lays this out in its own wire format and markup, within its own
//! limits; the budgets that cut long lists and values are the channel's too. No I/O here.

use super::Severity;

/// One message's card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// What kind of card it is, stable across updates (a channel may use it as an id).
    pub id: &'static str,
    /// The headline, plain text: "🟠 EC2 instance retirement scheduled".
    pub title: String,
    /// The line under it, plain text: "Open issue · us-east-1 · payments-prod (111122223333)".
    pub subtitle: String,
    /// How urgent it is.
    pub severity: Severity,
    /// The conversation every update of the same notification belongs in.
    pub thread: String,
    /// The body, top to bottom.
    pub sections: Vec<Section>,
    /// Who the message calls on (a routing rule's `mention`), each once; empty for most cards.
    pub mentions: Vec<Mention>,
}

/// Someone a message calls on, so that the chat service notifies them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mention {
    /// Everyone in the space.
    All,
    /// One person, by the chat service's numeric user id.
    User(String),
}

/// A part of the card, with an optional heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Plain text above it.
    pub header: Option<String>,
    /// Whether it starts folded, showing only its first items.
    pub fold: Fold,
    /// What it holds.
    pub body: Body,
}

/// Whether a section starts folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Always open.
    Open,
    /// Folded behind "show more" after this many items.
    After(u32),
}

/// What a section holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Rows of facts, all shown.
    Rows(Vec<Row>),
    /// Rows of which a channel shows as many as its budget of `kind` allows, then "+N more"
    /// followed by `more` when given.
    List {
        /// Which budget cuts the list.
        kind: ListKind,
        /// Every row.
        rows: Vec<Row>,
        /// What the reader can do about the rows left out.
        more: Option<&'static str>,
    },
    /// Free text as the event wrote it (a description): paragraphs, escaped newlines and all.
    Prose(String),
    /// A lead sentence and a bulleted list under it, cut by the channel's budget of problems.
    Bullets {
        /// The sentence.
        lead: Text,
        /// The items, event text.
        items: Vec<String>,
    },
    /// The accounts an event was raised in (a roll-up): a channel lists as many as its budget
    /// allows — with their details, or by name only when there are many — then "+N more accounts".
    Accounts(Vec<AccountLine>),
    /// Rows that each open a link when clicked (a digest's items), all shown, then a line saying
    /// how many more there are when `hidden` is not zero.
    Items {
        /// The rows shown.
        items: Vec<Item>,
        /// Items left out.
        hidden: usize,
    },
    /// A button that opens a link.
    Link {
        /// The button's words.
        label: &'static str,
        /// The https URL.
        url: String,
    },
}

/// A row that opens a link when clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What it says.
    pub row: Row,
    /// The https URL it opens, when there is one.
    pub link: Option<String>,
}

/// One account of a roll-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLine {
    /// Its name and id: "payments-prod (111122223333)".
    pub name: Text,
    /// What the event is for it (its OU path, its resources and their statuses), shown when
    /// there is room.
    pub detail: Option<Text>,
}

/// Which of a channel's budgets cuts a [`Body::List`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Affected resources.
    Entities,
    /// The details rows.
    Details,
}

/// One fact: a label, its value, a note under it and a glyph beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The small text above.
    pub label: Text,
    /// The fact.
    pub value: Text,
    /// The small text below.
    pub note: Option<Text>,
    /// What the glyph beside it means, if it has one.
    pub glyph: Option<Glyph>,
}

impl Row {
    /// A row with a label, a value and a glyph.
    pub fn new(label: impl Into<Text>, value: impl Into<Text>, glyph: Glyph) -> Self {
        Self { label: label.into(), value: value.into(), note: None, glyph: Some(glyph) }
    }

    /// A row with a label and a value only.
    pub fn bare(label: impl Into<Text>, value: impl Into<Text>) -> Self {
        Self { label: label.into(), value: value.into(), note: None, glyph: None }
    }

    /// The same row with a note under it.
    #[must_use]
    pub fn noted(mut self, note: Option<Text>) -> Self {
        self.note = note;
        self
    }
}

/// What the glyph beside a row stands for; a channel picks its own icon for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyph {
    /// The event's severity.
    Severity(Severity),
    /// Resolved, or a resource no longer affected.
    Resolved,
    /// An account.
    Account,
    /// A Region.
    Region,
    /// An AWS service.
    Service,
    /// A time.
    Time,
    /// Pages of a paginated event.
    Pages,
    /// A resource affected now.
    Impaired,
    /// A resource not affected.
    Unimpaired,
    /// A resource affected later, or not known yet.
    Pending,
    /// A resource whose state AWS does not know, or gave in words delibird does not know.
    Unknown,
    /// A resource with no state given.
    Resource,
}

/// Text of a card: runs with the little emphasis cards use. A channel escapes every run for its
/// markup and cuts each at its [`Width`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub Vec<Span>);

/// One run of [`Text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// How it is shown.
    pub style: Style,
    /// The words, plain.
    pub text: String,
    /// How much of it is shown.
    pub width: Width,
}

/// How a run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As it is.
    Plain,
    /// Stronger.
    Strong,
    /// Set apart, as an aside ("+3 more").
    Aside,
    /// As code (a type code).
    Code,
    /// Strong, in the colour of a severity.
    Marked(Severity),
}

/// How much of a run is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// Words delibird wrote: shown whole and as they are (separators keep their spaces).
    Whole,
    /// Event text on one line, cut at this many characters.
    At(usize),
    /// Event text on one line, cut at the channel's budget for one value (an entity, a name).
    Value,
}

impl Text {
    /// Words delibird wrote, shown whole.
    pub fn words(text: impl Into<String>) -> Self {
        Self(vec![Span { style: Style::Plain, text: text.into(), width: Width::Whole }])
    }

    /// Event text cut at `width`.
    pub fn event(text: impl Into<String>, width: Width) -> Self {
        Self(vec![Span { style: Style::Plain, text: text.into(), width }])
    }

    /// This text followed by a run.
    #[must_use]
    pub fn then(mut self, style: Style, text: impl Into<String>, width: Width) -> Self {
        self.0.push(Span { style, text: text.into(), width });
        self
    }

    /// This text followed by words delibird wrote.
    #[must_use]
    pub fn and(self, text: impl Into<String>) -> Self {
        self.then(Style::Plain, text, Width::Whole)
    }

    /// This text followed by `other`.
    #[must_use]
    pub fn append(mut self, other: Text) -> Self {
        self.0.extend(other.0);
        self
    }

    /// Texts joined with `separator` between them (words delibird wrote).
    pub fn join(parts: impl IntoIterator<Item = Text>, separator: &str) -> Option<Self> {
        parts.into_iter().reduce(|joined, part| joined.and(separator).append(part))
    }

    /// True when it holds no run.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Text {
    fn from(words: &str) -> Self {
        Self::words(words)
    }
}

impl From<String> for Text {
    fn from(words: String) -> Self {
        Self::words(words)
    }
}
