//! Health's date format, read leniently: `Fri, 27 Jan 2023 06:02:51 GMT`, single-digit days
//! (`Thu, 2 Jun 2022 …`) and weekdays that do not match the date (AWS's own samples) all parse.
//! Text that still does not parse is kept as it came, never rejected.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// A time from an event: parsed when possible, else the raw text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTime {
    /// A time delibird could read.
    At(DateTime<Utc>),
    /// Text that is not a date delibird knows, shown to people as it came.
    Unparsed(String),
}

impl EventTime {
    /// Reads Health's RFC-1123-like dates and ISO-8601, dropping any weekday unchecked.
    pub fn parse(text: &str) -> Self {
        let trimmed = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(trimmed) {
            return Self::At(at.with_timezone(&Utc));
        }
        let without_weekday = trimmed.split_once(", ").map_or(trimmed, |(_, rest)| rest);
        if let Some(at) = parse_health(without_weekday) {
            return Self::At(at);
        }
        ["%d %b %Y %H:%M:%S GMT", "%d %b %Y %H:%M:%S UTC", "%d %b %Y %H:%M:%S %z"]
            .iter()
            .find_map(|format| parse_naive_or_offset(without_weekday, format))
            .map_or_else(|| Self::Unparsed(text.to_owned()), Self::At)
    }

    /// The parsed time, if any.
    pub fn at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::At(at) => Some(*at),
            Self::Unparsed(_) => None,
        }
    }
}

/// `27 Jan 2023 06:02:51 GMT` (or `UTC`), the form of nearly every Health time, read without
/// chrono's format-string interpreter: a page of 1,000 entities holds 1,000 of them, and this is
/// several times faster. Anything else, even a variant chrono accepts, is `None` and goes to the
/// general formats, so the result never differs from theirs.
fn parse_health(text: &str) -> Option<DateTime<Utc>> {
    fn number<T: std::str::FromStr>(digits: &str, widths: std::ops::RangeInclusive<usize>) -> Option<T> {
        let plain = widths.contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        plain.then(|| digits.parse().ok()).flatten()
    }
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut parts = text.split(' ');
    let (day, month, year, time, zone) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !matches!(zone, "GMT" | "UTC") {
        return None;
    }
    let month = MONTHS.iter().position(|name| name.eq_ignore_ascii_case(month))?;
    let mut clock = time.split(':');
    let (hour, minute, second) = (clock.next()?, clock.next()?, clock.next()?);
    if clock.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(number(year, 4..=4)?, u32::try_from(month + 1).ok()?, number(day, 1..=2)?)?;
    let at = date.and_hms_opt(number(hour, 2..=2)?, number(minute, 2..=2)?, number(second, 2..=2)?)?;
    Some(at.and_utc())
}

fn parse_naive_or_offset(text: &str, format: &str) -> Option<DateTime<Utc>> {
    if format.ends_with("%z") {
        return DateTime::parse_from_str(text, format).ok().map(|at| at.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, format).ok().map(|naive| naive.and_utc())
}

impl fmt::Display for EventTime {
    /// `Thu, 26 Jan 2023 13:19 UTC`, with the weekday computed from the date, or the raw text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Written field by field: chrono's `format` interprets its format string on every
            // call, and a card shows a time for every entity.
            Self::At(at) if !(0..=9999).contains(&at.year()) => write!(f, "{}", at.format("%a, %-d %b %Y %H:%M UTC")),
            Self::At(at) => {
                const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
                const MONTHS: [&str; 12] =
                    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
                let weekday = WEEKDAYS[at.weekday().num_days_from_monday() as usize];
                let month = MONTHS[at.month0() as usize];
                write!(f, "{weekday}, {} {month} {:04} {:02}:{:02} UTC", at.day(), at.year(), at.hour(), at.minute())
            }
            Self::Unparsed(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        EventTime::parse(text).at().map(|t| t.to_rfc3339()).unwrap_or_default()
    }

    #[test]
    fn reads_the_usual_health_format() {
        assert_eq!(at("Fri, 27 Jan 2023 06:02:51 GMT"), "2023-01-27T06:02:51+00:00");
    }

    #[test]
    fn reads_single_digit_days() {
        assert_eq!(at("Thu, 2 Jun 2022 00:02:24 GMT"), "2022-06-02T00:02:24+00:00");
    }

    #[test]
    fn ignores_a_weekday_that_does_not_match_the_date() {
        assert_eq!(at("Thu, 27 Jan 2026 13:44:13 GMT"), "2026-01-27T13:44:13+00:00");
    }

    #[test]
    fn displays_as_chrono_formats_it() {
        let years = [-44, 0, 99, 2023, 9999, 12345].map(|year| chrono::NaiveDate::from_ymd_opt(year, 3, 1));
        let parsed = ["2023-01-27T09:01:22Z", "1 Mar 2024 00:00:00 GMT"].map(|text| EventTime::parse(text).at());
        let times = years.into_iter().flatten().map(|date| date.and_hms_opt(7, 5, 0).map(|at| at.and_utc()));
        for at in times.chain(parsed) {
            let at = at.expect("a valid time");
            assert_eq!(EventTime::At(at).to_string(), at.format("%a, %-d %b %Y %H:%M UTC").to_string(), "{at:?}");
        }
        assert_eq!(EventTime::parse("2023-01-27T09:01:22Z").to_string(), "Fri, 27 Jan 2023 09:01 UTC");
    }

    #[test]
    fn the_fast_path_reads_what_the_general_formats_read() {
        let samples = [
            "27 Jan 2023 06:02:51 GMT",
            "2 Jun 2022 00:02:24 UTC",
            "29 feb 2024 23:59:59 GMT",
            "29 Feb 2023 10:00:00 GMT",
            "31 Apr 2024 10:00:00 GMT",
            "27 Jan 2023 24:00:00 GMT",
            "27 Jan 2023 06:02:60 GMT",
            "27 Jan 2023 6:02:51 GMT",
            "027 Jan 2023 06:02:51 GMT",
            "+2 Jun 2022 00:02:24 GMT",
            "27 January 2023 06:02:51 GMT",
            "27 Jan 2023 06:02:51 PST",
            "27 Jan 2023 06:02:51 GMT extra",
        ];
        for text in samples {
            let general = ["%d %b %Y %H:%M:%S GMT", "%d %b %Y %H:%M:%S UTC"]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok().map(|naive| naive.and_utc()));
            if let Some(fast) = parse_health(text) {
                assert_eq!(Some(fast), general, "{text}");
            }
        }
        assert!(parse_health("27 Jan 2023 06:02:51 GMT").is_some());
    }

    #[test]
    fn reads_iso_8601() {
        assert_eq!(at("2023-01-27T09:01:22Z"), "2023-01-27T09:01:22+00:00");
    }

    #[test]
    fn keeps_text_it_cannot_read() {
        assert_eq!(EventTime::parse("next Tuesday"), EventTime::Unparsed("next Tuesday".into()));
    }

    #[test]
    fn displays_with_the_true_weekday() {
        assert_eq!(EventTime::parse("Thu, 27 Jan 2026 13:44:13 GMT").to_string(), "Tue, 27 Jan 2026 13:44 UTC");
    }
}
