//! Account names (and OU paths and chosen tags) from AWS Organizations, at the scale of hundreds
//! of accounts without throttling storms.
//!
//! - Names come from one `ListAccounts` sweep of the whole organization (paged), refreshed at most
//!   once per TTL; an id the sweep did not have (a new account) gets one `DescribeAccount`.
//! - OU path (`ListParents`, `DescribeOrganizationalUnit`, OU names shared between accounts) and
//!   tags (`ListTagsForResource`) are per account, fetched once per TTL for the accounts events
//!   actually mention.
//! - The cache lives across warm invocations. Lookups hold one lock while they call AWS, so
//!   concurrent misses share one sweep instead of each making their own.
//! - Failure is never fatal: the SDK retries throttling a few times within a short operation
//!   timeout, the whole lookup has a time budget, an error is remembered for a minute so a burst
//!   does not hammer a failing API, and whatever is not known stays an id.
//!
//! Works in the management account, in a delegated administrator, or anywhere else through a role
//! to assume (`DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN`). One [`Organizations`] is one organization, with
//! its own cache, budget and failures; [`super::EveryOrganization`] asks several.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::config::retry::RetryConfig;
use aws_sdk_organizations::config::timeout::TimeoutConfig;
use aws_sdk_organizations::types::ParentType;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{AccountDirectory, AccountInfo};
use crate::health::AccountId;
use crate::logging::chain;

/// How long a failure keeps delibird from calling Organizations again.
const FAILURE_BACKOFF: Duration = Duration::from_secs(60);

/// Deepest OU nesting Organizations allows (five levels below the root).
const MAX_OU_DEPTH: usize = 5;

/// How the directory behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettings {
    /// How long names, OU paths and tags are trusted.
    pub ttl: Duration,
    /// Tag keys to show (e.g. `Owner`, `Team`); empty: no tag look-ups.
    pub tag_keys: Vec<String>,
    /// Whether to look up each account's OU path.
    pub ou_path: bool,
    /// The most one lookup may take before the card goes out without what is missing.
    pub budget: Duration,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self { ttl: Duration::from_secs(3_600), tag_keys: Vec::new(), ou_path: true, budget: Duration::from_secs(3) }
    }
}

#[derive(Debug, Clone, Default)]
struct Details {
    ou_path: Vec<String>,
    tags: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Cache {
    swept_at: Option<Instant>,
    failed_at: Option<Instant>,
    names: HashMap<AccountId, String>,
    described: HashMap<AccountId, Instant>,
    details: HashMap<AccountId, (Instant, Details)>,
    ous: HashMap<String, (String, Option<String>)>,
}

impl Cache {
    fn fresh(&self, at: Option<Instant>, ttl: Duration) -> bool {
        at.is_some_and(|at| at.elapsed() < ttl)
    }

    fn failing(&self) -> bool {
        self.failed_at.is_some_and(|at| at.elapsed() < FAILURE_BACKOFF)
    }

    /// The ids of `ids` the organization's account list holds.
    fn held(&self, ids: &BTreeSet<AccountId>) -> BTreeSet<AccountId> {
        ids.iter().filter(|id| self.names.contains_key(*id)).cloned().collect()
    }

    fn answer(&self, ids: &BTreeSet<AccountId>) -> BTreeMap<AccountId, AccountInfo> {
        ids.iter()
            .filter_map(|id| {
                let name = self.names.get(id)?.clone();
                let details = self.details.get(id).map(|(_, details)| details.clone()).unwrap_or_default();
                Some((id.clone(), AccountInfo { name, ou_path: details.ou_path, tags: details.tags }))
            })
            .collect()
    }
}

/// One organization in AWS Organizations as an [`AccountDirectory`], with a cache that outlives
/// invocations.
#[derive(Debug)]
pub struct Organizations {
    client: Client,
    settings: OrgSettings,
    cache: Mutex<Cache>,
    /// Which organization, in logs: the role assumed for it, or `own credentials`.
    label: String,
}

/// What one organization's account list holds of some account ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The ids the list holds.
    pub ids: BTreeSet<AccountId>,
    /// True when the list is current; false when it could not be read (the ids are then what an
    /// earlier list held, if any).
    pub current: bool,
}

type ApiError = Box<dyn std::error::Error + Send + Sync>;

fn api<E: std::error::Error + Send + Sync + 'static>(error: aws_sdk_organizations::error::SdkError<E>) -> ApiError {
    Box::new(error)
}

impl Organizations {
    /// A directory calling Organizations with `sdk`'s settings, through `role_arn` when given.
    pub async fn new(sdk: &aws_config::SdkConfig, role_arn: Option<&str>, settings: OrgSettings) -> Self {
        let sdk = match role_arn {
            Some(role) => {
                let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                    .session_name("delibird")
                    .configure(sdk)
                    .build()
                    .await;
                sdk.to_builder()
                    .credentials_provider(aws_sdk_organizations::config::SharedCredentialsProvider::new(provider))
                    .build()
            }
            None => sdk.clone(),
        };
        let config = aws_sdk_organizations::config::Builder::from(&sdk)
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(TimeoutConfig::builder().operation_timeout(settings.budget).build())
            .build();
        let label = role_arn.unwrap_or("own credentials").to_owned();
        Self { client: Client::from_conf(config), settings, cache: Mutex::default(), label }
    }

    /// Which organization this is, for logs: the role assumed for it, or `own credentials`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The settings in force.
    pub fn settings(&self) -> &OrgSettings {
        &self.settings
    }

    async fn sweep(&self) -> Result<HashMap<AccountId, String>, ApiError> {
        let mut names = HashMap::new();
        // 20 is Organizations' largest page.
        let mut pages = self.client.list_accounts().max_results(20).into_paginator().send();
        while let Some(page) = pages.next().await {
            for account in page.map_err(api)?.accounts.unwrap_or_default() {
                if let (Some(id), Some(name)) = (account.id.as_deref().and_then(AccountId::parse), account.name) {
                    names.insert(id, name);
                }
            }
        }
        Ok(names)
    }

    async fn describe(&self, id: &AccountId) -> Result<Option<String>, ApiError> {
        let answer = self.client.describe_account().account_id(id.as_str()).send().await;
        match answer {
            Ok(answer) => Ok(answer.account.and_then(|account| account.name)),
            Err(error) => {
                let error = error.into_service_error();
                if error.is_account_not_found_exception() { Ok(None) } else { Err(Box::new(error)) }
            }
        }
    }

    /// The OU directly above `child` (an account or an OU), `None` under the root.
    async fn parent_ou(&self, child: &str) -> Result<Option<String>, ApiError> {
        let parents = self.client.list_parents().child_id(child).send().await.map_err(api)?;
        Ok(parents
            .parents
            .unwrap_or_default()
            .into_iter()
            .find(|parent| parent.r#type == Some(ParentType::OrganizationalUnit))
            .and_then(|parent| parent.id))
    }

    async fn details(
        &self,
        id: &AccountId,
        ous: &mut HashMap<String, (String, Option<String>)>,
    ) -> Result<Details, ApiError> {
        let mut details = Details::default();
        if self.settings.ou_path {
            let mut next = self.parent_ou(id.as_str()).await?;
            while let Some(ou) = next.take() {
                if details.ou_path.len() > MAX_OU_DEPTH {
                    break;
                }
                if !ous.contains_key(&ou) {
                    let described = self
                        .client
                        .describe_organizational_unit()
                        .organizational_unit_id(&ou)
                        .send()
                        .await
                        .map_err(api)?;
                    let name = described.organizational_unit.and_then(|unit| unit.name).unwrap_or_else(|| ou.clone());
                    let parent = self.parent_ou(&ou).await?;
                    ous.insert(ou.clone(), (name, parent));
                }
                let (name, parent) = &ous[&ou];
                details.ou_path.insert(0, name.clone());
                next = parent.clone();
            }
        }
        if !self.settings.tag_keys.is_empty() {
            let mut found: HashMap<String, String> = HashMap::new();
            let mut pages = self.client.list_tags_for_resource().resource_id(id.as_str()).into_paginator().send();
            while let Some(page) = pages.next().await {
                for tag in page.map_err(api)?.tags.unwrap_or_default() {
                    found.insert(tag.key, tag.value);
                }
            }
            details.tags = self
                .settings
                .tag_keys
                .iter()
                .filter_map(|key| found.get(key).map(|value| (key.clone(), value.clone())))
                .collect();
        }
        Ok(details)
    }

    /// Brings the account list up to date; true when it had to call Organizations.
    async fn refresh_list(&self, cache: &mut Cache) -> Result<bool, ApiError> {
        if cache.fresh(cache.swept_at, self.settings.ttl) {
            return Ok(false);
        }
        cache.names = self.sweep().await?;
        cache.swept_at = Some(Instant::now());
        Ok(true)
    }

    /// Brings the cache up to date for `ids`; true when it had to call Organizations.
    async fn refresh(&self, cache: &mut Cache, ids: &BTreeSet<AccountId>) -> Result<bool, ApiError> {
        let ttl = self.settings.ttl;
        let mut called = self.refresh_list(cache).await?;
        for id in ids {
            if !cache.names.contains_key(id) && !cache.fresh(cache.described.get(id).copied(), ttl) {
                called = true;
                cache.described.insert(id.clone(), Instant::now());
                if let Some(name) = self.describe(id).await? {
                    cache.names.insert(id.clone(), name);
                }
            }
        }
        let wants_details = self.settings.ou_path || !self.settings.tag_keys.is_empty();
        for id in ids.iter().filter(|id| wants_details && cache.names.contains_key(*id)) {
            if !cache.fresh(cache.details.get(id).map(|(at, _)| *at), ttl) {
                called = true;
                let details = self.details(id, &mut cache.ous).await?;
                cache.details.insert(id.clone(), (Instant::now(), details));
            }
        }
        Ok(called)
    }
}

impl Organizations {
    /// What the organization knows about `ids`, by `deadline`: [`AccountDirectory::lookup`] with
    /// a deadline shared with other organizations' lookups.
    pub async fn lookup_until(&self, ids: &BTreeSet<AccountId>, deadline: Instant) -> BTreeMap<AccountId, AccountInfo> {
        let work = async |cache: &mut Cache| {
            let called = self.refresh(cache, ids).await?;
            let answer = cache.answer(ids);
            let outcome = if answer.len() < ids.len() { "miss" } else { "hit" };
            tracing::info!(
                organization = self.label,
                accounts = ids.len(),
                named = answer.len(),
                lookup = outcome,
                called_api = called,
                "account names"
            );
            Ok(answer)
        };
        self.guarded(deadline, work, |cache| cache.answer(ids)).await.unwrap_or_default()
    }

    /// Which of `ids` the organization's account list holds, reading the list first when it is
    /// older than the TTL; by `deadline`. Nothing else is looked up.
    pub async fn holding(&self, ids: &BTreeSet<AccountId>, deadline: Instant) -> Holding {
        let work = async |cache: &mut Cache| {
            self.refresh_list(cache).await?;
            Ok(Holding { ids: cache.held(ids), current: true })
        };
        let stale = |cache: &Cache| Holding { ids: cache.held(ids), current: false };
        self.guarded(deadline, work, stale).await.unwrap_or_else(|| Holding { ids: BTreeSet::new(), current: false })
    }

    /// Runs `work` on the cache by `deadline`. While Organizations failed within the last minute,
    /// and when `work` fails or runs out of time, the answer is `cached` instead, and the failure
    /// keeps the next minute's lookups from calling again. `None` when the cache was out of reach
    /// (another lookup held it past the deadline).
    async fn guarded<T>(
        &self,
        deadline: Instant,
        work: impl AsyncFnOnce(&mut Cache) -> Result<T, ApiError>,
        cached: impl Fn(&Cache) -> T,
    ) -> Option<T> {
        let attempt = async {
            let mut cache = self.cache.lock().await;
            if cache.failing() {
                tracing::debug!(
                    organization = self.label,
                    lookup = "skipped",
                    "Organizations failed recently; using the cache"
                );
                return cached(&cache);
            }
            match work(&mut cache).await {
                Ok(answer) => answer,
                Err(error) => {
                    cache.failed_at = Some(Instant::now());
                    tracing::warn!(
                        organization = self.label,
                        lookup = "error",
                        error = chain(error.as_ref()),
                        "Organizations lookup failed; ids stay ids"
                    );
                    cached(&cache)
                }
            }
        };
        match tokio::time::timeout_at(deadline, attempt).await {
            Ok(answer) => Some(answer),
            Err(_) => {
                tracing::warn!(
                    organization = self.label,
                    lookup = "timeout",
                    budget_ms = self.settings.budget.as_millis(),
                    "Organizations lookup too slow; ids stay ids"
                );
                let mut cache = self.cache.try_lock().ok()?;
                cache.failed_at = Some(Instant::now());
                Some(cached(&cache))
            }
        }
    }
}

impl AccountDirectory for Organizations {
    async fn lookup(&self, ids: &BTreeSet<AccountId>) -> BTreeMap<AccountId, AccountInfo> {
        self.lookup_until(ids, Instant::now() + self.settings.budget).await
    }
}
