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

    /// The Material Symbols icon for the severity.
    pub fn icon(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::High => "report",
            Self::Critical => "error",
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
/// One pass into one string: it runs over the whole description of every card.
fn normalise(text: &str) -> String {
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
        } else {
            normalised.extend(c.to_uppercase());
        }
    }
    normalised
}

/// The severity of an event. A closed event is always `Info`: it is resolved.
pub fn assess(event: &HealthEvent, description: Option<&str>, rules: &SeverityRules) -> Severity {
    if event.status == Some(Status::Closed) {
        return Severity::Info;
    }
    let haystack = format!("{} {}", normalise(&event.type_code), description.map(normalise).unwrap_or_default());
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
    use super::normalise;

    #[test]
    fn normalising_in_one_pass_reads_text_as_the_plain_definition_does() {
        let plain = |text: &str| text.to_uppercase().replace('_', " ").split_whitespace().collect::<Vec<_>>().join(" ");
        for text in ["volume_lost", "  Volume \t lost__now_ ", "straße_ß", "한국어 _버전\n end", "", "___", "ǆ x"]
        {
            assert_eq!(normalise(text), plain(text), "{text:?}");
        }
    }
}
