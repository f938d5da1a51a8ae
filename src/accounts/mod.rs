//! Stage 3: put names on account ids.
//!
//! [`enrich`] asks an [`AccountDirectory`] about every account id the event mentions: the
//! affected account, the delivering account, and entity values that are account ids. It never
//! fails: an id nobody knows stays an id. [`StaticAliases`] is the directory read from
//! configuration; [`Organizations`] asks one organization in AWS Organizations, and
//! [`EveryOrganization`] several at once; [`Layered`] asks the first, then the second for what the
//! first did not know, so a configured name always wins.

mod every;
mod organizations;

pub use every::EveryOrganization;
pub use organizations::{Holding, OrgSettings, Organizations};

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use crate::health::{AccountId, HealthEvent};

/// What is known about one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountInfo {
    /// A name people recognise, e.g. `payments-prod`.
    pub name: String,
    /// The organizational units from the root down, e.g. `["Production", "Payments"]`.
    pub ou_path: Vec<String>,
    /// Chosen tags of the account (`DELIBIRD_ACCOUNT_TAGS`), in the configured order.
    pub tags: Vec<(String, String)>,
}

impl AccountInfo {
    /// An account known by name only.
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: name.into(), ..Self::default() }
    }

    /// `OU Production / Payments · Owner: team-payments`, when there is anything beyond the name.
    pub fn context(&self) -> Option<String> {
        let ou = (!self.ou_path.is_empty()).then(|| format!("OU {}", self.ou_path.join(" / ")));
        let tags = self.tags.iter().map(|(key, value)| format!("{key}: {value}"));
        let parts: Vec<String> = ou.into_iter().chain(tags).collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

/// A source of account names. Lookups never fail: unknown ids are simply absent from the answer.
pub trait AccountDirectory: Sync {
    /// What the directory knows about `ids`.
    fn lookup(&self, ids: &BTreeSet<AccountId>) -> impl Future<Output = BTreeMap<AccountId, AccountInfo>> + Send;
}

/// Account names from configuration: a JSON object `{"123456789012": "payments-prod", …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticAliases(BTreeMap<AccountId, AccountInfo>);

/// A configured alias map that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// JSON, but not an object of account id → name.
    #[error("expected a JSON object of account id → name")]
    NotAnObject,
    /// A key that is not an account id, or a value that is not a non-empty string.
    #[error("{key:?}: {problem}")]
    Entry {
        /// The offending key, shortened.
        key: String,
        /// What is wrong.
        problem: &'static str,
    },
}

impl StaticAliases {
    /// Reads the JSON object form, reporting the first unusable entry.
    pub fn from_json(text: &str) -> Result<Self, AliasError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(AliasError::NotJson)?;
        let object = value.as_object().ok_or(AliasError::NotAnObject)?;
        object
            .iter()
            .map(|(key, name)| {
                let shown = || key.chars().take(32).collect();
                let id = AccountId::parse(key.trim())
                    .ok_or_else(|| AliasError::Entry { key: shown(), problem: "not a 12-digit account id" })?;
                match name.as_str().map(str::trim) {
                    Some(name) if !name.is_empty() => Ok((id, AccountInfo::named(name))),
                    _ => Err(AliasError::Entry { key: shown(), problem: "the name must be a non-empty string" }),
                }
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// How many accounts have a name.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no account has a name.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(AccountId, String)> for StaticAliases {
    fn from_iter<I: IntoIterator<Item = (AccountId, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().map(|(id, name)| (id, AccountInfo::named(name))).collect())
    }
}

impl AccountDirectory for StaticAliases {
    async fn lookup(&self, ids: &BTreeSet<AccountId>) -> BTreeMap<AccountId, AccountInfo> {
        ids.iter().filter_map(|id| self.0.get(id).map(|info| (id.clone(), info.clone()))).collect()
    }
}

/// Two directories: the first answers what it knows, the second the rest.
#[derive(Debug, Clone, Copy)]
pub struct Layered<'a, A, B> {
    /// Asked first; its answers win.
    pub first: &'a A,
    /// Asked for the ids the first did not know, when there is one.
    pub then: Option<&'a B>,
}

impl<A: AccountDirectory, B: AccountDirectory> AccountDirectory for Layered<'_, A, B> {
    async fn lookup(&self, ids: &BTreeSet<AccountId>) -> BTreeMap<AccountId, AccountInfo> {
        let mut found = self.first.lookup(ids).await;
        if let Some(then) = self.then {
            let rest: BTreeSet<AccountId> = ids.iter().filter(|id| !found.contains_key(*id)).cloned().collect();
            if !rest.is_empty() {
                found.extend(then.lookup(&rest).await);
            }
        }
        found
    }
}

/// A Health event with what is known about the accounts it mentions.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrichedEvent {
    /// The event, unchanged.
    pub event: HealthEvent,
    /// Names for the account ids the event mentions; ids without a name are absent.
    pub accounts: BTreeMap<AccountId, AccountInfo>,
}

impl EnrichedEvent {
    /// An event with no account names: what enrichment yields when nothing is known.
    pub fn bare(event: HealthEvent) -> Self {
        Self { event, accounts: BTreeMap::new() }
    }

    /// `name (id)` when the account has a name, else the id.
    pub fn account_label(&self, id: &AccountId) -> String {
        match self.accounts.get(id) {
            Some(info) => format!("{} ({id})", info.name),
            None => id.to_string(),
        }
    }
}

/// Every account id an event mentions.
pub fn mentioned_accounts(event: &HealthEvent) -> BTreeSet<AccountId> {
    let entity_ids = event.entities.iter().filter_map(|entity| AccountId::parse(entity.value.trim()));
    event.affected_account.iter().chain(event.account.iter()).cloned().chain(entity_ids).collect()
}

/// Looks up the names of every account the event mentions. Never fails.
pub async fn enrich(event: HealthEvent, directory: &impl AccountDirectory) -> EnrichedEvent {
    let ids = mentioned_accounts(&event);
    let accounts = if ids.is_empty() { BTreeMap::new() } else { directory.lookup(&ids).await };
    EnrichedEvent { event, accounts }
}
