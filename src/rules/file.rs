//! Reading a rules file: TOML → [`RuleSet`], every problem reported at once with its line and
//! rule ([`RulesError`]). No I/O here: the text comes from the caller.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::error::{RulesError, RulesErrors, RulesProblem};
use super::sql::Condition;
use super::{Context, DEFAULT_WEBHOOK, Kept, MAX_MENTIONS, MAX_NAME_CHARS, Mention, Rule, RuleSet, Unmatched, kept};
use crate::problems::Problems;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    default: Option<Spanned<String>>,
    #[serde(default)]
    drop_unmatched: bool,
    #[serde(default)]
    webhooks: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    #[serde(rename = "where")]
    condition: Spanned<String>,
    webhooks: Vec<String>,
    #[serde(default)]
    stop: bool,
    #[serde(default)]
    mention: Vec<Spanned<String>>,
    #[serde(default)]
    digest_only: bool,
}

/// One rules file being read: its text, what it holds, and the problems found so far.
struct Reading<'a> {
    text: &'a str,
    raw: RawFile,
    context: &'a Context<'a>,
    errors: Vec<RulesError>,
}

impl RuleSet {
    /// Reads and compiles a rules file, reporting every problem at once.
    pub fn parse(text: &str, context: &Context<'_>) -> Result<Self, RulesErrors> {
        let raw: RawFile = toml::from_str(text).map_err(|error| {
            Problems::one(RulesError {
                line: error.span().map(|span| line_of(text, span.start)),
                rule: None,
                kind: RulesProblem::NotARulesFile { message: without_quoted_values(error.message().trim()) },
            })
        })?;
        let mut reading = Reading { text, raw, context, errors: Vec::new() };
        let webhooks = reading.webhooks();
        let rules = reading.rules(&webhooks);
        let unmatched = reading.unmatched(&webhooks);
        Problems::or_ok(reading.errors, Self { webhooks, default_webhook: context.default_webhook, rules, unmatched })
    }
}

impl Reading<'_> {
    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }

    fn fail(&mut self, line: Option<usize>, rule: Option<&str>, kind: RulesProblem) {
        self.errors.push(RulesError { line, rule: rule.map(str::to_owned), kind });
    }

    /// `[webhooks]` (the environment's `default` is known from the context, not listed).
    fn webhooks(&mut self) -> BTreeMap<String, Kept> {
        let mut webhooks = BTreeMap::new();
        let raw: Vec<(String, usize, String)> = self
            .raw
            .webhooks
            .iter()
            .map(|(name, value)| (name.get_ref().clone(), name.span().start, value.get_ref().clone()))
            .collect();
        for (name, at, value) in raw {
            let line = Some(self.line(at));
            let kind = if name == DEFAULT_WEBHOOK {
                RulesProblem::ReservedName
            } else if !valid_name(&name) {
                RulesProblem::BadName { name: name.chars().take(MAX_NAME_CHARS).collect() }
            } else {
                match kept(&value) {
                    Ok(kept) => {
                        webhooks.insert(name, kept);
                        continue;
                    }
                    Err(problem) => RulesProblem::BadSource { name, problem },
                }
            };
            self.fail(line, None, kind);
        }
        webhooks
    }

    /// Whether `name` is a webhook of the file or the environment.
    fn known(&self, name: &str, webhooks: &BTreeMap<String, Kept>) -> bool {
        self.raw.webhooks.keys().any(|k| k.get_ref() == name)
            || webhooks.contains_key(name)
            || (name == DEFAULT_WEBHOOK && self.context.default_webhook)
    }

    /// Every `[[rule]]`, compiled.
    fn rules(&mut self, webhooks: &BTreeMap<String, Kept>) -> Vec<Rule> {
        let mut rules = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let raw_rules = std::mem::take(&mut self.raw.rules);
        for raw in &raw_rules {
            let name = raw.name.get_ref().trim().to_owned();
            let line = Some(self.line(raw.name.span().start));
            if name.is_empty() {
                self.fail(line, None, RulesProblem::NoName);
            } else if seen.contains(&name) {
                self.fail(line, Some(&name), RulesProblem::DuplicateName);
            }
            seen.push(name.clone());
            for webhook in &raw.webhooks {
                if !self.known(webhook, webhooks) {
                    let kind = RulesProblem::UnknownWebhook { name: webhook.clone(), by_default: false };
                    self.fail(line, Some(&name), kind);
                }
            }
            let condition = match Condition::compile(raw.condition.get_ref()) {
                Ok(condition) => condition,
                Err(error) => {
                    let line = self.condition_line(&raw.condition, error.position.line);
                    self.fail(Some(line), Some(&name), RulesProblem::Condition(error));
                    continue;
                }
            };
            self.check_tags(&condition, line, &name);
            let mentions = self.mentions(raw, line, &name);
            let webhooks = dedup(&raw.webhooks);
            rules.push(Rule { name, condition, webhooks, stop: raw.stop, mentions, digest_only: raw.digest_only });
        }
        rules
    }

    /// A rule's `mention` list: `all`, or numeric user ids (`users/ID` or the digits), each once.
    fn mentions(&mut self, raw: &RawRule, line: Option<usize>, rule: &str) -> Vec<Mention> {
        if raw.mention.is_empty() {
            return Vec::new();
        }
        if raw.webhooks.is_empty() {
            self.fail(line, Some(rule), RulesProblem::MentionNowhere);
        }
        if raw.mention.len() > MAX_MENTIONS {
            self.fail(line, Some(rule), RulesProblem::TooManyMentions { count: raw.mention.len() });
        }
        let mut mentions: Vec<Mention> = Vec::new();
        for value in &raw.mention {
            match mention(value.get_ref()) {
                Some(mention) if !mentions.contains(&mention) => mentions.push(mention),
                Some(_) => {}
                None => {
                    let shown = value.get_ref().chars().take(40).flat_map(char::escape_debug).collect::<String>();
                    self.fail(Some(self.line(value.span().start)), Some(rule), RulesProblem::BadMention { shown });
                }
            }
        }
        mentions
    }

    /// The line of the file that line `within` of a `where` string is on: where the string
    /// starts, plus the lines before it (a multi-line string starts on the next line).
    fn condition_line(&self, condition: &Spanned<String>, within: u64) -> usize {
        let start = condition.span().start;
        let text = self.text;
        let multi_line = text.get(start..).is_some_and(|s| s.starts_with("\"\"\"") || s.starts_with("'''"));
        let first = self.line(start) + usize::from(multi_line && text[start + 3..].starts_with('\n'));
        first + usize::try_from(within.saturating_sub(1)).unwrap_or(0)
    }

    /// A rule reading an account tag that `DELIBIRD_ACCOUNT_TAGS` does not look up would never
    /// see it.
    fn check_tags(&mut self, condition: &Condition, line: Option<usize>, rule: &str) {
        let Some(tags) = self.context.account_tags else { return };
        for field in condition.fields() {
            if let Some(key) = field.strip_prefix("delibird.account.tags.")
                && !tags.iter().any(|t| t == key)
            {
                let kind = RulesProblem::UnreadTag { key: key.to_owned(), field: field.clone() };
                self.fail(line, Some(rule), kind);
            }
        }
    }

    /// Where events no rule matched go.
    fn unmatched(&mut self, webhooks: &BTreeMap<String, Kept>) -> Unmatched {
        let default = self.raw.default.as_ref().map(|name| (name.get_ref().clone(), name.span().start));
        match (default, self.raw.drop_unmatched) {
            (Some((_, at)), true) => {
                self.fail(Some(self.line(at)), None, RulesProblem::DefaultAndDrop);
                Unmatched::Drop
            }
            (Some((name, at)), false) => {
                if !self.known(&name, webhooks) {
                    let kind = RulesProblem::UnknownWebhook { name: name.clone(), by_default: true };
                    self.fail(Some(self.line(at)), None, kind);
                }
                Unmatched::Webhook(name)
            }
            (None, true) => Unmatched::Drop,
            (None, false) if self.context.default_webhook => Unmatched::Webhook(DEFAULT_WEBHOOK.to_owned()),
            (None, false) => {
                self.fail(None, None, RulesProblem::NowhereToGo);
                Unmatched::Drop
            }
        }
    }
}

/// `all` / `users/all`, or a numeric user id with or without `users/`.
fn mention(value: &str) -> Option<Mention> {
    let id = value.trim();
    let id = id.strip_prefix("users/").unwrap_or(id);
    if id.eq_ignore_ascii_case("all") {
        Some(Mention::All)
    } else if (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) {
        Some(Mention::User(id.to_owned()))
    } else {
        None
    }
}

/// The line (from 1) that byte `offset` of `text` is on.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1)
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_CHARS).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn dedup(names: &[String]) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for name in names {
        if !unique.contains(name) {
            unique.push(name.clone());
        }
    }
    unique
}

/// A TOML error message with every double-quoted value replaced by `"…"`: serde quotes the
/// values it could not use, and a value in a rules file may be a webhook URL.
fn without_quoted_values(message: &str) -> String {
    let mut shown = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('"', false) => {
                shown.push_str("\"…");
                quoted = true;
            }
            ('"', true) => {
                shown.push('"');
                quoted = false;
            }
            (c, false) => shown.push(c),
            (_, true) => {}
        }
    }
    shown
}
