//! How urgent an event is, from the event itself (status, category, actionability, abuse and risk
//! events) and from configurable keyword lists matched against the event type and description,
//! as the original delibird did. Pure, no I/O.

use crate::health::{Actionability, Category, HealthEvent, Status};

/// How urgent an event is, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing to do, or resolved.
    Info,
    /// Worth knowing; may need action later.
    Warning,
    /// Something is broken or action is required.
    High,
    /// Security or data at stake: act now.
    Critical,
}

impl Severity {
    /// The word shown on the card.
    pub fn label(self) -> &'static str {
        match self {
            Self::Info => "Info",
            Self::Warning => "Warning",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    /// The colour of the severity on the card, as `#RRGGBB` (Google's palette).
    pub fn colour(self) -> &'static str {
        match self {
            Self::Info => "#1A73E8",
            Self::Warning => "#F9AB00",
            Self::High => "#E8710A",
            Self::Critical => "#D93025",
        }
    }

    /// The mark before the title, visible in notifications too.
    pub fn emoji(self) -> &'static str {
        match self {
            Self::Info => "🔵",
            Self::Warning => "🟡",
            Self::High => "🟠",
            Self::Critical => "🔴",
        }
    }
}

/// Keyword lists that raise an event's severity when found, case-insensitively and with `_` read
/// as a space, in its event type code or description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityRules {
    /// Raise to critical.
    pub critical: Vec<String>,
    /// Raise to at least high.
    pub high: Vec<String>,
    /// Raise to at least warning.
    pub warning: Vec<String>,
}

impl Default for SeverityRules {
    /// Conservative defaults: words that mean the same in every service's events.
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|w| normalise(w)).collect();
        Self {
            critical: words(&["ABUSE", "COMPROMISED", "CREDENTIALS EXPOSED", "VOLUME LOST", "DATA LOSS"]),
            high: words(&["OUTAGE", "RETIREMENT", "DEGRADED", "HARDWARE FAILURE", "IMPAIRED", "TERMINATION"]),
            warning: words(&["MAINTENANCE", "SCHEDULED", "DEPRECATION", "END OF LIFE", "END OF SUPPORT", "LIFECYCLE"]),
        }
    }
}

impl SeverityRules {
    /// Rules from comma-separated keyword lists; `None` keeps a list's default.
    pub fn from_lists(critical: Option<&str>, high: Option<&str>, warning: Option<&str>) -> Self {
        let defaults = Self::default();
        let list = |text: Option<&str>, default: Vec<String>| {
            text.map_or(default, |text| text.split(',').map(normalise).filter(|word| !word.is_empty()).collect())
        };
        Self {
            critical: list(critical, defaults.critical),
            high: list(high, defaults.high),
            warning: list(warning, defaults.warning),
        }
    }
}

/// Upper case, `_` and runs of whitespace as one space: `volume_lost` and `Volume lost` match.
/// One pass into one string.
fn normalise(text: &str) -> String {
    searchable(text, false)
}

/// Whether a character's upper case may hold ASCII letters (`ß` → `SS`, `ı` → `I`, `ﬁ` → `FI`):
/// only characters below U+2000 and the Latin ligatures can; a unit test checks every character.
fn may_upper_case_to_ascii(c: char) -> bool {
    c < '\u{2000}' || ('\u{FB00}'..='\u{FB06}').contains(&c)
}

/// [`normalise`]d text to search for keywords in. When every keyword is ASCII, a character whose
/// upper case is not ASCII can never be part of a match, so it is kept as it is instead of being
/// upper-cased: the same matches, and Korean or Japanese descriptions (thousands of characters)
/// skip Unicode's case tables.
fn searchable(text: &str, ascii_keywords: bool) -> String {
    match ascii_keywords.then(|| searchable_for_ascii(text)).flatten() {
        Some(searchable) => searchable,
        None => searchable_by_char(text, ascii_keywords),
    }
}

/// [`searchable`], a character at a time.
fn searchable_by_char(text: &str, ascii_keywords: bool) -> String {
    let mut normalised = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c == '_' || c.is_whitespace() {
            gap = true;
            continue;
        }
        if gap && !normalised.is_empty() {
            normalised.push(' ');
        }
        gap = false;
        if c.is_ascii() {
            normalised.push(c.to_ascii_uppercase());
        } else if ascii_keywords && !may_upper_case_to_ascii(c) {
            normalised.push(c);
        } else {
            normalised.extend(c.to_uppercase());
        }
    }
    normalised
}

/// [`searchable`] for ASCII keywords, compacting a copy of the text in place: it only ever
/// shrinks, so each byte is read and written once. `None` when the text holds a character whose
/// upper case may be ASCII (`ß` → `SS` can grow), for the general path.
fn searchable_for_ascii(text: &str) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    let (mut read, mut write, mut gap) = (0, 0, false);
    while let Some(&byte) = bytes.get(read) {
        let (width, is_gap) = if byte.is_ascii() {
            (1, byte == b'_' || char::from(byte).is_whitespace())
        } else {
            let c = text.get(read..)?.chars().next()?;
            if may_upper_case_to_ascii(c) {
                return None;
            }
            (c.len_utf8(), c.is_whitespace())
        };
        if !is_gap {
            // A gap skipped at least one byte, so the space fits before `read`.
            if gap && write > 0 {
                bytes[write] = b' ';
                write += 1;
            }
            if width == 1 {
                bytes[write] = byte.to_ascii_uppercase();
            } else {
                bytes.copy_within(read..read + width, write);
            }
            write += width;
        }
        gap = is_gap;
        read += width;
    }
    bytes.truncate(write);
    String::from_utf8(bytes).ok()
}

/// The severity of an event. A closed event is always `Info`: it is resolved.
pub fn assess(event: &HealthEvent, description: Option<&str>, rules: &SeverityRules) -> Severity {
    if event.status == Some(Status::Closed) {
        return Severity::Info;
    }
    assess_as_open(event, description, rules)
}

/// The severity an event has while it is open, whatever its status: what routing reads, so that
/// the resolution of a critical event goes where the critical event went.
pub fn assess_as_open(event: &HealthEvent, description: Option<&str>, rules: &SeverityRules) -> Severity {
    let ascii = [&rules.critical, &rules.high, &rules.warning].into_iter().flatten().all(|word| word.is_ascii());
    let searchable = |text: &str| searchable(text, ascii);
    let haystack = format!("{} {}", searchable(&event.type_code), description.map(searchable).unwrap_or_default());
    let found = |words: &[String]| words.iter().any(|word| haystack.contains(word.as_str()));
    let keywords = if found(&rules.critical) {
        Severity::Critical
    } else if found(&rules.high) {
        Severity::High
    } else if found(&rules.warning) {
        Severity::Warning
    } else {
        Severity::Info
    };
    intrinsic(event).max(keywords)
}

/// Severity from the event's own fields, before keywords.
fn intrinsic(event: &HealthEvent) -> Severity {
    let abuse_or_risk = event.detail_type.as_deref().is_some_and(|t| t.contains("Abuse"))
        || matches!(event.service.as_deref(), Some("ABUSE" | "RISK"));
    if abuse_or_risk {
        return Severity::Critical;
    }
    let from_actionability = match &event.actionability {
        Some(Actionability::ActionRequired) => Severity::High,
        Some(Actionability::ActionMayBeRequired) => Severity::Warning,
        Some(Actionability::Informational | Actionability::Other(_)) | None => Severity::Info,
    };
    let from_category = match &event.category {
        Some(Category::Issue) => Severity::High,
        Some(Category::Investigation | Category::ScheduledChange | Category::Other(_)) => Severity::Warning,
        Some(Category::AccountNotification) | None => Severity::Info,
    };
    from_actionability.max(from_category)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{may_upper_case_to_ascii, normalise, searchable, searchable_by_char, searchable_for_ascii};

    fn plain(text: &str) -> String {
        text.to_uppercase().replace('_', " ").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    proptest! {
        #[test]
        fn searchable_text_finds_what_the_plain_definition_finds(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("volume"), Just("_"), Just(" "), Just("\u{3000}"), Just("lost"), Just("ß"), Just("ﬁ"),
                    Just("ı"), Just("한국"), Just("Ｘ"), Just("x"), Just("\n"), Just("ǆ"),
                ],
                0..16,
            )
        ) {
            let text = pieces.concat();
            prop_assert_eq!(searchable(&text, false), plain(&text));
            let fast = searchable(&text, true);
            if let Some(compacted) = searchable_for_ascii(&text) {
                prop_assert_eq!(compacted, searchable_by_char(&text, true));
            }
            for keyword in ["VOLUME LOST", "SS", "FI X", "I", "X", "LOST VOLUME", "SSX"] {
                prop_assert_eq!(fast.contains(keyword), plain(&text).contains(keyword), "{}", keyword);
            }
        }
    }

    #[test]
    fn normalising_in_one_pass_reads_text_as_the_plain_definition_does() {
        for text in [
            "volume_lost",
            "  Volume \t lost__now_ ",
            "straße_ß",
            "한국어 _버전\n end",
            "",
            "___",
            "ǆ x",
            "aﬁ b\u{3000}c",
        ] {
            assert_eq!(normalise(text), plain(text), "{text:?}");
        }
    }

    #[test]
    fn only_the_characters_said_to_may_upper_case_to_ascii() {
        let upper_case_holds_ascii = |c: char| c.to_uppercase().any(|upper| upper.is_ascii());
        let wrong: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|&c| !c.is_ascii() && upper_case_holds_ascii(c) && !may_upper_case_to_ascii(c))
            .collect();
        assert_eq!(wrong, Vec::<char>::new());
        assert!(may_upper_case_to_ascii('ß') && may_upper_case_to_ascii('ﬁ'));
    }

    #[test]
    fn searching_for_ascii_keywords_finds_what_normalised_text_holds() {
        for text in ["ſcheduled ﬁx", "straße", "예정된 MAINTENANCE 작업", "ǅ 一 ＡＢＣ", "ıMPAIRED"] {
            let (full, fast) = (normalise(text), searchable(text, true));
            for keyword in ["SCHEDULED FIX", "STRASSE", "MAINTENANCE", "IMPAIRED", "ABC", "X"] {
                assert_eq!(full.contains(keyword), fast.contains(keyword), "{text:?} {keyword:?}");
            }
        }
    }
}
