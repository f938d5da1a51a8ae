//! Where the webhook and the routing rules come from: `DELIBIRD_WEBHOOK_URL` (the URL itself),
//! `DELIBIRD_WEBHOOK_SECRET` (where it is kept, read as the rules file's webhooks are: one
//! [`Kept`] parser) and `DELIBIRD_RULES`.

use super::error::{ConfigProblem, Shared};
use super::{OrgLookup, RulesConfig, Webhook};
use crate::chat;
use crate::kept::{Kept, KeptError};
use crate::rules::{Context, RuleSet};

/// The webhook `DELIBIRD_WEBHOOK_URL` or `DELIBIRD_WEBHOOK_SECRET` names, when `webhook` reads
/// them; with rules (`rules_var`) it may be absent.
pub(super) fn webhook_source(
    var: &dyn Fn(&str) -> Option<String>,
    fail: &dyn Fn(&'static str, ConfigProblem),
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
            fail("DELIBIRD_WEBHOOK_URL", ConfigProblem::BothWebhooks);
            None
        }
        (Some(url), None) => match chat::webhook(&url, allow_loopback) {
            Ok(url) => Some(Kept::Url(url)),
            Err(error) => {
                fail("DELIBIRD_WEBHOOK_URL", ConfigProblem::Webhook(error));
                None
            }
        },
        (None, Some(secret)) => match secret_source(&secret) {
            Ok(source) => Some(source),
            Err(source) => {
                fail("DELIBIRD_WEBHOOK_SECRET", ConfigProblem::NotASecretSource { source });
                None
            }
        },
        (None, None) if webhook == Webhook::Required && rules_var.is_none() => {
            fail("DELIBIRD_WEBHOOK_URL", ConfigProblem::NoWebhook);
            None
        }
        (None, None) => None,
    }
}

/// The routing rules `DELIBIRD_RULES` names: a file read and compiled now (knowing whether the
/// environment's webhook is set and which account tags are looked up), or an SSM parameter.
pub(super) fn rules(
    rules_var: Option<String>,
    fail: &dyn Fn(&'static str, ConfigProblem),
    organizations: Option<&OrgLookup>,
    source: Option<&Kept>,
) -> Option<RulesConfig> {
    rules_var.and_then(|text| {
        let text = text.trim();
        if let Some(name) = text.strip_prefix("ssm:") {
            if name.starts_with('/') && name.len() > 1 {
                return Some(RulesConfig::Ssm(name.to_owned()));
            }
            fail("DELIBIRD_RULES", ConfigProblem::NotARulesSource);
            return None;
        }
        let file = match std::fs::read_to_string(text) {
            Ok(file) => file,
            Err(error) => {
                fail("DELIBIRD_RULES", ConfigProblem::Unreadable { path: text.to_owned(), source: Shared::new(error) });
                return None;
            }
        };
        let tags = organizations.as_ref().map_or(&[][..], |lookup| &lookup.settings.tag_keys[..]);
        let context = Context { default_webhook: source.is_some(), account_tags: Some(tags) };
        match RuleSet::parse(&file, &context) {
            Ok(rules) => Some(RulesConfig::Loaded(rules)),
            Err(errors) => {
                for source in errors.0 {
                    fail("DELIBIRD_RULES", ConfigProblem::Rules { file: text.to_owned(), source: Box::new(source) });
                }
                None
            }
        }
    })
}

/// `DELIBIRD_WEBHOOK_SECRET`: an SSM parameter or a Secrets Manager secret; else what is wrong
/// with the text as a place a URL is kept, when it is not simply another kind of place.
fn secret_source(text: &str) -> Result<Kept, Option<KeptError>> {
    match Kept::parse(text, &chat::ENDPOINT, false) {
        Ok(kept) if kept.is_aws() => Ok(kept),
        Ok(_) => Err(None),
        Err(error) => Err(Some(error)),
    }
}
