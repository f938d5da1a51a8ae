//! Times as the rule language compares them: every time field's text (Health's
//! `Sat, 30 Nov 2019 01:00:00 GMT`, EventBridge's and delibird's ISO 8601) and every date a rule
//! writes (`'2019-11-30'`) become one form, ISO 8601 UTC to the second
//! (`2019-11-30T01:00:00Z`), whose text order is time order. No I/O here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::health::EventTime;

/// The one form times are compared in.
const FORM: &str = "%Y-%m-%dT%H:%M:%SZ";

/// The instant `text` names, in the compared form: Health's dates, ISO 8601 with any offset, and
/// a plain date (its midnight UTC) or date and time without a zone (UTC). `None` for anything else.
pub(crate) fn instant(text: &str) -> Option<String> {
    at(text.trim()).map(|at| at.format(FORM).to_string())
}

fn at(text: &str) -> Option<DateTime<Utc>> {
    if let Some(at) = EventTime::parse(text).at() {
        return Some(at);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|midnight| midnight.and_utc());
    }
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%SZ"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_a_time_comes_in_reads_as_one_instant() {
        for text in [
            "Sat, 30 Nov 2019 01:00:00 GMT",
            "30 Nov 2019 01:00:00 GMT",
            "Thu, 30 Nov 2019 01:00:00 GMT",
            "2019-11-30T01:00:00Z",
            "2019-11-30T02:00:00+01:00",
            "2019-11-30T01:00:00",
            "2019-11-30 01:00",
        ] {
            assert_eq!(instant(text).as_deref(), Some("2019-11-30T01:00:00Z"), "{text}");
        }
        assert_eq!(instant("2019-11-30").as_deref(), Some("2019-11-30T00:00:00Z"));
        assert_eq!(instant(" Mon, 2 Jun 2022 00:02:24 GMT ").as_deref(), Some("2022-06-02T00:02:24Z"));
    }

    #[test]
    fn text_that_is_no_time_is_none() {
        for text in ["", "soon", "2019", "2019-13-01", "30/11/2019"] {
            assert_eq!(instant(text), None, "{text}");
        }
    }
}
