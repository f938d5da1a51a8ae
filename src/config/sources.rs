//! Where the webhook and the routing rules come from: `DELIBIRD_WEBHOOK_URL` (the URL itself),
//! `DELIBIRD_WEBHOOK_SECRET` (where it is kept, read as the rules file's webhooks are: one
//! [`Kept`] parser) and `DELIBIRD_RULES`.

use super::{OrgLookup, RulesConfig, Webhook};
use crate::chat;
use crate::kept::Kept;
use crate::rules::{Context, RuleSet};

/// The webhook `DELIBIRD_WEBHOOK_URL` or `DELIBIRD_WEBHOOK_SECRET` names, when `webhook` reads
/// them; with rules (`rules_var`) it may be absent.
pub(super) fn webhook_source(
    var: &dyn Fn(&str) -> Option<String>,
    fail: &dyn Fn(&'static str, String),
    webhook: Webhook,
    allow_loopback: bool,
    rules_var: Option<&String>,
) -> Option<Kept> {
    let webhook_vars = if webhook == Webhook::Ignored {
        (None, None)
    } else {
        (var("DELIBIRD_WEBHOOK_URL"), var("DELIBIRD_WEBHOOK_SECRET"))
    };
    match webhook_vars {
        (Some(_), Some(_)) => {
            fail("DELIBIRD_WEBHOOK_URL", "set only one of DELIBIRD_WEBHOOK_URL and DELIBIRD_WEBHOOK_SECRET".into());
            None
        }
        (Some(url), None) => match chat::webhook(&url, allow_loopback) {
            Ok(url) => Some(Kept::Url(url)),
            Err(error) => {
                fail("DELIBIRD_WEBHOOK_URL", error.to_string());
                None
            }
        },
        (None, Some(secret)) => match secret_source(&secret) {
            Some(source) => Some(source),
            None => {
                fail("DELIBIRD_WEBHOOK_SECRET", "expected ssm:/parameter/name or a Secrets Manager secret ARN".into());
                None
            }
        },
        (None, None) if webhook == Webhook::Required && rules_var.is_none() => {
            fail("DELIBIRD_WEBHOOK_URL", "required (or DELIBIRD_WEBHOOK_SECRET, or DELIBIRD_RULES)".into());
            None
        }
        (None, None) => None,
    }
}

/// The routing rules `DELIBIRD_RULES` names: a file read and compiled now (knowing whether the
/// environment's webhook is set and which account tags are looked up), or an SSM parameter.
pub(super) fn rules(
    rules_var: Option<String>,
    fail: &dyn Fn(&'static str, String),
    organizations: Option<&OrgLookup>,
    source: Option<&Kept>,
) -> Option<RulesConfig> {
    rules_var.and_then(|text| {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("ssm:") {
            if name.starts_with('/') && name.len() > 1 {
                return Some(RulesConfig::Ssm(name.to_owned()));
            }
            fail("DELIBIRD_RULES", "expected a file's path or ssm:/parameter/name".into());
            return None;
        }
        let file = match std::fs::read_to_string(text) {
            Ok(file) => file,
            Err(error) => {
                fail("DELIBIRD_RULES", format!("cannot read {text}: {error}"));
                return None;
            }
        };
        let tags = organizations.as_ref().map_or(&[][..], |lookup| &lookup.settings.tag_keys[..]);
        let context = Context { default_webhook: source.is_some(), account_tags: Some(tags) };
        match RuleSet::parse(&file, &context) {
            Ok(rules) => Some(RulesConfig::Loaded(rules)),
            Err(errors) => {
                for error in errors.0 {
                    fail("DELIBIRD_RULES", format!("{text}: {error}"));
                }
                None
            }
        }
    })
}

/// `DELIBIRD_WEBHOOK_SECRET`: an SSM parameter or a Secrets Manager secret.
fn secret_source(text: &str) -> Option<Kept> {
    Kept::parse(text, &chat::ENDPOINT, false).ok().filter(Kept::is_aws)
}
