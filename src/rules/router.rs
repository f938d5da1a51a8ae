//! The rules with their webhooks resolved: each distinct webhook URL is one [`Space`] with its
//! own [`Pacer`] (Chat allows one message per second per space), and [`Router::route`] turns the
//! webhook names an event matched into spaces.
//!
//! [`resolve_webhooks`] fetches every URL the rules name, once, at start: from the process's
//! environment (read through a function, so tests inject it), SSM or Secrets Manager. Errors
//! name the webhook and where it is kept, never the URL.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::{DEFAULT_WEBHOOK, Kept, RuleSet};
use crate::config::WebhookSource;
use crate::dedup::Notification;
use crate::logging::chain;
use crate::secret::resolve_with;
use crate::webhook::{Pacer, WebhookUrl};

/// One Google Chat space: a webhook URL and the pacer of its requests.
#[derive(Debug)]
pub struct Space {
    /// Its name in logs: the webhook's name in the rules file (the first in order, when several
    /// names share one URL; `default` when one of them is the environment's webhook).
    pub name: String,
    /// Where cards go.
    pub url: WebhookUrl,
    /// Spaces the requests to it.
    pub pacer: Pacer,
}

impl Space {
    /// The update as remembered for this space: `key@name#fingerprint`, so that an event routed
    /// to several spaces is posted once in each. The environment's webhook (`default`) keeps the
    /// ids it had without rules, so turning rules on does not post anything there again.
    pub fn notification(&self, notification: &Notification) -> Notification {
        if self.name == DEFAULT_WEBHOOK { notification.clone() } else { notification.at(&self.name) }
    }
}

/// Rules and the spaces they send to.
#[derive(Debug)]
pub struct Router {
    rules: RuleSet,
    spaces: Vec<Space>,
    index: BTreeMap<String, usize>,
    reads_accounts: bool,
}

/// Where one event goes.
#[derive(Debug)]
pub struct Route<'a> {
    /// The names of the rules it matched, in order.
    pub rules: Vec<&'a str>,
    /// The spaces it goes to, each once; empty: dropped.
    pub spaces: Vec<&'a Space>,
    /// True when no rule matched.
    pub unmatched: bool,
}

/// A webhook whose URL could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook {webhook:?}: {problem}")]
pub struct ResolveError {
    /// The webhook's name.
    pub webhook: String,
    /// What went wrong, naming where the URL is kept and never the URL.
    pub problem: String,
}

/// Every webhook whose URL could not be had (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ResolveErrors(pub Vec<ResolveError>);

impl fmt::Display for ResolveErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&shown.join("; "))
    }
}

impl Router {
    /// The rules with a URL for each webhook they name (`urls`, from [`resolve_webhooks`]), each
    /// distinct URL paced `interval` apart.
    pub fn new(rules: RuleSet, urls: &BTreeMap<String, WebhookUrl>, interval: Duration) -> Result<Self, ResolveErrors> {
        let missing: Vec<ResolveError> = rules
            .webhooks
            .keys()
            .filter(|name| !urls.contains_key(*name))
            .map(|name| ResolveError { webhook: name.clone(), problem: "no URL".into() })
            .collect();
        if !missing.is_empty() {
            return Err(ResolveErrors(missing));
        }
        let mut spaces: Vec<Space> = Vec::new();
        let mut index = BTreeMap::new();
        // `default` first, so that it names the space it shares with others.
        let names = rules
            .webhooks
            .keys()
            .filter(|n| *n == DEFAULT_WEBHOOK)
            .chain(rules.webhooks.keys().filter(|n| *n != DEFAULT_WEBHOOK));
        for name in names {
            let url = &urls[name];
            let at = match spaces.iter().position(|space| &space.url == url) {
                Some(at) => at,
                None => {
                    spaces.push(Space { name: name.clone(), url: url.clone(), pacer: Pacer::new(interval) });
                    spaces.len() - 1
                }
            };
            index.insert(name.clone(), at);
        }
        let reads_accounts = rules.reads_accounts();
        Ok(Self { rules, spaces, index, reads_accounts })
    }

    /// The rules `view` matches and the spaces it goes to.
    pub fn route(&self, view: &Value) -> Route<'_> {
        let matched = self.rules.route(view);
        let mut spaces: Vec<&Space> = Vec::new();
        for name in &matched.webhooks {
            let space = &self.spaces[self.index[*name]];
            if !spaces.iter().any(|s| std::ptr::eq(*s, space)) {
                spaces.push(space);
            }
        }
        Route { rules: matched.rules, spaces, unmatched: matched.unmatched }
    }

    /// The compiled rules.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Every space, once each.
    pub fn spaces(&self) -> &[Space] {
        &self.spaces
    }

    /// True when some rule reads `delibird.account.…`: events are enriched before routing.
    pub fn reads_accounts(&self) -> bool {
        self.reads_accounts
    }
}

/// Fetches the URL of every webhook `rules` names, all at once: `default` is `default_url` (the
/// environment's webhook, already resolved), `env:VAR` is read through `env`, SSM parameters and
/// Secrets Manager secrets through `sdk` (needed only when [`RuleSet::needs_aws`]).
pub async fn resolve_webhooks(
    rules: &RuleSet,
    default_url: Option<&WebhookUrl>,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    sdk: Option<&aws_config::SdkConfig>,
    allow_loopback: bool,
) -> Result<BTreeMap<String, WebhookUrl>, ResolveErrors> {
    let fetches = rules.webhooks.iter().map(|(name, kept)| async move {
        let fail = |problem: String| ResolveError { webhook: name.clone(), problem };
        let fetch = async |source: WebhookSource| match sdk {
            None => Err("no AWS configuration to read it with".to_owned()),
            Some(sdk) => resolve_with(&source, allow_loopback, sdk).await.map_err(|error| chain(&error)),
        };
        let url = match kept {
            Kept::Default => default_url.cloned().ok_or_else(|| fail("DELIBIRD_WEBHOOK_URL is not set".into())),
            Kept::Env(var) => match env(var).filter(|value| !value.trim().is_empty()) {
                None => Err(fail(format!("environment variable {var} is not set"))),
                Some(text) => WebhookUrl::parse(&text, allow_loopback).map_err(|error| fail(format!("{var}: {error}"))),
            },
            Kept::Ssm(parameter) => fetch(WebhookSource::Ssm(parameter.clone())).await.map_err(fail),
            Kept::SecretsManager(arn) => fetch(WebhookSource::SecretsManager(arn.clone())).await.map_err(fail),
        };
        (name.clone(), url)
    });
    let mut urls = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, url) in futures::future::join_all(fetches).await {
        match url {
            Ok(url) => {
                urls.insert(name, url);
            }
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() { Ok(urls) } else { Err(ResolveErrors(errors)) }
}
