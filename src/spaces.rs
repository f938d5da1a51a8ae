//! Where cards go: the chat spaces, each a webhook URL with its own [`Pacer`] (a space takes one
//! message per interval), and which of them an event goes to — the one default space, or those
//! the routing rules ([`crate::rules`]) name. Resolving a webhook from where it is kept
//! ([`Kept`]: the environment, SSM, Secrets Manager) is done here, once, at start.

use crate::card::Mention;
use std::collections::BTreeMap;
use std::time::Duration;

use either::Either;
use serde_json::Value;

use crate::channel::Channel;
use crate::dedup::ThreadId;
use crate::fingerprint::fnv1a;
use crate::kept::{Kept, WebhookUrl, WebhookUrlError};
use crate::problems::Problems;
use crate::rules::{DEFAULT_WEBHOOK, RuleSet, Unmatched};
use crate::secret::{self, SecretError};
use crate::webhook::Pacer;

/// One chat space: a webhook URL and the pacer of its requests.
#[derive(Debug)]
pub struct Space {
    /// Its name in logs: `default` for the webhook of `DELIBIRD_WEBHOOK_URL` or
    /// `DELIBIRD_WEBHOOK_SECRET`, else its name in the rules file (the first in order, when several
    /// names share one URL).
    pub name: String,
    /// Where cards go.
    pub url: WebhookUrl,
    /// Spaces the requests to it.
    pub pacer: Pacer,
}

impl Space {
    /// A space posted to at most once per `interval`.
    pub fn new(name: impl Into<String>, url: WebhookUrl, interval: Duration) -> Self {
        Self { name: name.into(), url, pacer: Pacer::new(interval) }
    }

    /// A thread of this space, for the store: an event routed to several spaces is posted once
    /// in each. The default space is named `default` with or without rules, so turning rules on
    /// does not post anything there again.
    pub fn thread(&self, key: &str) -> ThreadId {
        ThreadId { space: self.name.clone(), key: key.to_owned() }
    }

    /// The key of the space's shared send slots: a hash of the webhook's path, which names the
    /// chat space (never its query, which holds the token), so that two names for one space share
    /// its rate.
    pub fn pace_key(&self) -> String {
        format!("{:016x}", fnv1a(self.url.url().path().as_bytes()))
    }
}

/// Every space delibird posts to, and how an event finds its own.
#[derive(Debug)]
pub struct Spaces {
    routing: Routing,
}

/// One space, or rules and the spaces they name. (Without rules there is exactly one space:
/// "no webhook and no rules" cannot be built.)
#[derive(Debug)]
enum Routing {
    One(Space),
    Rules { rules: RuleSet, spaces: Vec<Space>, index: BTreeMap<String, usize>, reads_accounts: bool },
}

/// Where one event goes.
#[derive(Debug)]
pub struct Route<'a> {
    /// The names of the rules it matched, in order; `None` without rules.
    pub rules: Option<Vec<&'a str>>,
    /// The spaces it goes to, each once; empty: dropped.
    pub spaces: Vec<&'a Space>,
    /// True when rules route and none matched.
    pub unmatched: bool,
    /// Who a new thread calls on, per space (by name): the matching rules' `mention`s.
    pub mentions: Vec<(&'a str, &'a Mention)>,
    /// Of `spaces`, by name, those the event goes to the daily digest of alone, with no card.
    pub digest_only: Vec<&'a str>,
}

impl Spaces {
    /// Every card to one space.
    pub fn one(space: Space) -> Self {
        Self { routing: Routing::One(space) }
    }

    /// The rules with a URL for each webhook they name (`urls`, from [`resolve_all`]), each
    /// distinct URL one space posted to at most once per `interval`.
    pub fn routed(
        rules: RuleSet,
        urls: &BTreeMap<String, WebhookUrl>,
        interval: Duration,
    ) -> Result<Self, Problems<WebhookError>> {
        let missing: Vec<WebhookError> = rules
            .names()
            .filter(|name| !urls.contains_key(*name))
            .map(|name| WebhookError { webhook: name.to_owned(), error: ResolveError::NoUrl })
            .collect();
        if !missing.is_empty() {
            return Err(Problems(missing));
        }
        let mut spaces: Vec<Space> = Vec::new();
        let mut index = BTreeMap::new();
        // `default` first, so that it names the space it shares with others.
        let names =
            rules.names().filter(|n| *n == DEFAULT_WEBHOOK).chain(rules.names().filter(|n| *n != DEFAULT_WEBHOOK));
        for name in names {
            let url = &urls[name];
            let at = match spaces.iter().position(|space| &space.url == url) {
                Some(at) => at,
                None => {
                    spaces.push(Space::new(name, url.clone(), interval));
                    spaces.len() - 1
                }
            };
            index.insert(name.to_owned(), at);
        }
        let reads_accounts = rules.reads_accounts();
        Ok(Self { routing: Routing::Rules { rules, spaces, index, reads_accounts } })
    }

    /// Where an event goes: with rules, where they route `view` (built only then); else the one
    /// space.
    pub fn route(&self, view: impl FnOnce() -> Value) -> Route<'_> {
        match &self.routing {
            Routing::One(space) => Route {
                rules: None,
                spaces: vec![space],
                unmatched: false,
                mentions: Vec::new(),
                digest_only: Vec::new(),
            },
            Routing::Rules { rules, spaces, index, .. } => {
                let matched = rules.route(&view());
                let mut chosen: Vec<&Space> = Vec::new();
                for name in &matched.webhooks {
                    let space = &spaces[index[*name]];
                    if !chosen.iter().any(|s| std::ptr::eq(*s, space)) {
                        chosen.push(space);
                    }
                }
                let mut mentions: Vec<(&str, &Mention)> = Vec::new();
                for (webhook, mention) in matched.mentions {
                    let space = spaces[index[webhook]].name.as_str();
                    if !mentions.contains(&(space, mention)) {
                        mentions.push((space, mention));
                    }
                }
                // A space is digest-only when every webhook naming it for this event is.
                let digest_only = chosen
                    .iter()
                    .filter(|space| {
                        matched
                            .webhooks
                            .iter()
                            .filter(|name| std::ptr::eq(&spaces[index[**name]], **space))
                            .all(|name| matched.digest_only.contains(name))
                    })
                    .map(|space| space.name.as_str())
                    .collect();
                Route {
                    rules: Some(matched.rules),
                    spaces: chosen,
                    unmatched: matched.unmatched,
                    mentions,
                    digest_only,
                }
            }
        }
    }

    /// True when some rule reads `delibird.account.…`: events are enriched before routing.
    pub fn reads_accounts(&self) -> bool {
        matches!(self.routing, Routing::Rules { reads_accounts: true, .. })
    }

    /// The compiled rules, when they route.
    pub fn rules(&self) -> Option<&RuleSet> {
        match &self.routing {
            Routing::One(_) => None,
            Routing::Rules { rules, .. } => Some(rules),
        }
    }

    /// Every space, once each.
    pub fn iter(&self) -> impl Iterator<Item = &Space> {
        match &self.routing {
            Routing::One(space) => Either::Left(std::iter::once(space)),
            Routing::Rules { spaces, .. } => Either::Right(spaces.iter()),
        }
    }

    /// Where cards go, for the start-up log line: each space's name and redacted URL, and the
    /// rules. Never a token.
    pub fn describe(&self) -> String {
        match &self.routing {
            Routing::One(space) => space.url.to_string(),
            Routing::Rules { rules, spaces, .. } => {
                let shown: Vec<String> = spaces.iter().map(|space| format!("{}={}", space.name, space.url)).collect();
                let unmatched = match &rules.unmatched {
                    Unmatched::Webhook(name) => format!("unmatched → {name}"),
                    Unmatched::Drop => "unmatched dropped".to_owned(),
                };
                format!("{} rule(s), {unmatched}; {}", rules.rules.len(), shown.join(", "))
            }
        }
    }
}

/// Why a webhook's URL could not be had. Names where it is kept, never the URL.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The environment variable that should hold it is not set.
    #[error("environment variable {var} is not set")]
    EnvUnset {
        /// The variable.
        var: String,
    },
    /// The environment variable holds no acceptable URL.
    #[error("{var}: {source}")]
    EnvBadUrl {
        /// The variable.
        var: String,
        /// What is wrong with it.
        #[source]
        source: WebhookUrlError,
    },
    /// SSM or Secrets Manager did not give it.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// It is kept in AWS and there is no AWS configuration to read it with.
    #[error("no AWS configuration to read {origin} with")]
    NoAws {
        /// Where it is kept.
        origin: String,
    },
    /// The rules name `default`, and neither `DELIBIRD_WEBHOOK_URL` nor `DELIBIRD_WEBHOOK_SECRET`
    /// is set.
    #[error("DELIBIRD_WEBHOOK_URL is not set")]
    NoDefault,
    /// No URL was resolved for it.
    #[error("no URL")]
    NoUrl,
}

/// A webhook, by name, whose URL could not be had.
#[derive(Debug, thiserror::Error)]
#[error("webhook {webhook:?}: {error}")]
pub struct WebhookError {
    /// The webhook's name.
    pub webhook: String,
    /// What went wrong.
    #[source]
    pub error: ResolveError,
}

/// What a webhook is fetched with: the process's environment (read through a function, so tests
/// inject it), and the AWS configuration when there is one.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    /// Reads an environment variable.
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The AWS SDK's configuration, when something needs AWS.
    pub sdk: Option<&'a aws_config::SdkConfig>,
    /// Whether loopback webhooks are allowed (tests, the demo).
    pub allow_loopback: bool,
}

/// The URL kept where `kept` says, for `channel`.
pub async fn resolve<C: Channel + ?Sized>(
    kept: &Kept,
    channel: &C,
    sources: Sources<'_>,
) -> Result<WebhookUrl, ResolveError> {
    match kept {
        Kept::Url(url) => Ok(url.clone()),
        Kept::Env(var) => match (sources.env)(var).filter(|value| !value.trim().is_empty()) {
            None => Err(ResolveError::EnvUnset { var: var.clone() }),
            Some(text) => channel
                .webhook(&text, sources.allow_loopback)
                .map_err(|source| ResolveError::EnvBadUrl { var: var.clone(), source }),
        },
        Kept::Ssm(name) => from_aws(kept, channel, sources, async |sdk| secret::ssm_text(name, sdk).await).await,
        Kept::SecretsManager(arn) => {
            from_aws(kept, channel, sources, async |sdk| secret::secret_text(arn, sdk).await).await
        }
    }
}

/// The URL in what `fetch` reads from AWS.
async fn from_aws<C: Channel + ?Sized>(
    kept: &Kept,
    channel: &C,
    sources: Sources<'_>,
    fetch: impl AsyncFnOnce(&aws_config::SdkConfig) -> Result<String, SecretError>,
) -> Result<WebhookUrl, ResolveError> {
    let sdk = sources.sdk.ok_or_else(|| ResolveError::NoAws { origin: kept.origin() })?;
    let text = fetch(sdk).await?;
    channel
        .webhook(&secret::url_in(&text), sources.allow_loopback)
        .map_err(|source| SecretError::BadUrl { origin: kept.origin(), source }.into())
}

/// Fetches the URL of every webhook `rules` names, all at once: `default` is `default` (the
/// environment's webhook, already resolved), the others from where the rules file says they are
/// kept.
pub async fn resolve_all<C: Channel + ?Sized>(
    rules: &RuleSet,
    default: Option<&WebhookUrl>,
    channel: &C,
    sources: Sources<'_>,
) -> Result<BTreeMap<String, WebhookUrl>, Problems<WebhookError>> {
    let fetches = rules.names().map(|name| async move {
        let url = match rules.webhooks.get(name) {
            Some(kept) => resolve(kept, channel, sources).await,
            None => default.cloned().ok_or(ResolveError::NoDefault),
        };
        (name.to_owned(), url)
    });
    let mut urls = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, url) in futures::future::join_all(fetches).await {
        match url {
            Ok(url) => {
                urls.insert(name, url);
            }
            Err(error) => errors.push(WebhookError { webhook: name, error }),
        }
    }
    if errors.is_empty() { Ok(urls) } else { Err(Problems(errors)) }
}
