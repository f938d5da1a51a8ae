//! Reading one variable at a time: [`Reader`] looks each one up (a blank value is unset), turns
//! it into a typed value or a default, and keeps every problem it meets so that all of them are
//! reported together.

use std::cell::RefCell;
use std::time::Duration;

use super::error::{ConfigError, ConfigProblem};

/// How many characters of a wrong value a message shows: enough to recognise it, never a whole
/// secret pasted into the wrong variable.
const SHOWN_CHARS: usize = 20;

/// The variables being read and the problems found so far.
pub(super) struct Reader<'a> {
    var: &'a dyn Fn(&str) -> Option<String>,
    errors: RefCell<Vec<ConfigError>>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(var: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { var, errors: RefCell::new(Vec::new()) }
    }

    /// The variable's value, `None` when unset or blank.
    pub(super) fn var(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|value| !value.trim().is_empty())
    }

    /// The variable's value as set, blank included (`None` only when unset): for variables whose
    /// blank value means "off" rather than "the default".
    pub(super) fn raw(&self, name: &str) -> Option<String> {
        (self.var)(name)
    }

    /// Records a problem with `variable`.
    pub(super) fn fail(&self, variable: &'static str, kind: ConfigProblem) {
        self.errors.borrow_mut().push(ConfigError { variable, kind });
    }

    /// Every problem found, in the order found.
    pub(super) fn into_errors(self) -> Vec<ConfigError> {
        self.errors.into_inner()
    }

    /// A switch: `1`/`true` or `0`/`false`; `default` when unset or wrong.
    pub(super) fn switch(&self, name: &'static str, default: bool) -> bool {
        match self.var(name).as_deref().map(str::trim) {
            None => default,
            Some("1" | "true") => true,
            Some("0" | "false") => false,
            Some(other) => {
                self.fail(name, ConfigProblem::NotASwitch { found: shown(other) });
                default
            }
        }
    }

    /// One of `words`; `None` when unset or wrong.
    pub(super) fn choice(&self, name: &'static str, words: &'static [&'static str]) -> Option<&'static str> {
        let value = self.var(name)?;
        let found = words.iter().find(|word| **word == value.trim()).copied();
        if found.is_none() {
            self.fail(name, ConfigProblem::NotOneOf { expected: words, found: shown(&value) });
        }
        found
    }

    /// A whole number within `min..=max`; `None` when unset or wrong.
    pub(super) fn number(&self, name: &'static str, min: u64, max: u64) -> Option<u64> {
        let text = self.var(name)?;
        let Ok(value) = text.trim().parse::<u64>() else {
            self.fail(name, ConfigProblem::NotANumber { found: shown(&text) });
            return None;
        };
        if (min..=max).contains(&value) {
            Some(value)
        } else {
            self.fail(name, ConfigProblem::OutOfRange { min, max, found: value });
            None
        }
    }

    /// Milliseconds from 1 to `max`; `default` when unset or wrong.
    pub(super) fn millis(&self, name: &'static str, default: Duration, max: u64) -> Duration {
        self.number(name, 1, max).map_or(default, Duration::from_millis)
    }

    /// A comma-separated list, each item trimmed, empty items dropped.
    pub(super) fn list(&self, name: &str) -> Vec<String> {
        self.var(name)
            .map(|items| items.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The value trimmed, `None` when unset.
    pub(super) fn text(&self, name: &str) -> Option<String> {
        self.var(name).map(|value| value.trim().to_owned())
    }
}

/// The first [`SHOWN_CHARS`] characters of a wrong value.
pub(super) fn shown(value: &str) -> String {
    value.chars().take(SHOWN_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading<T>(value: &str, read: impl FnOnce(&Reader<'_>) -> T) -> (T, Vec<ConfigProblem>) {
        let value = value.to_owned();
        let var = move |_: &str| Some(value.clone());
        let reader = Reader::new(&var);
        let read = read(&reader);
        (read, reader.into_errors().into_iter().map(|error| error.kind).collect())
    }

    #[test]
    fn numbers_are_whole_and_within_their_range() {
        assert_eq!(reading(" 7 ", |r| r.number("N", 1, 10)), (Some(7), vec![]));
        assert_eq!(
            reading("0", |r| r.number("N", 1, 20)),
            (None, vec![ConfigProblem::OutOfRange { min: 1, max: 20, found: 0 }])
        );
        let long = "soon-ish, give or take a while";
        assert_eq!(
            reading(long, |r| r.number("N", 1, 20)),
            (None, vec![ConfigProblem::NotANumber { found: "soon-ish, give or ta".into() }])
        );
    }

    #[test]
    fn switches_and_choices_name_what_they_take() {
        assert_eq!(reading("0", |r| r.switch("S", true)), (false, vec![]));
        assert_eq!(
            reading("maybe", |r| r.switch("S", true)),
            (true, vec![ConfigProblem::NotASwitch { found: "maybe".into() }])
        );
        let (found, problems) = reading("ldap", |r| r.choice("C", &["organizations", "static"]));
        assert_eq!(found, None);
        assert_eq!(problems[0].to_string(), "expected organizations or static, found \"ldap\"");
    }

    #[test]
    fn a_blank_value_is_unset() {
        assert_eq!(
            reading("  ", |r| (r.var("X"), r.number("N", 1, 2), r.switch("S", true))),
            ((None, None, true), vec![])
        );
    }
}
