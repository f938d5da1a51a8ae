//! Account names from several organizations at once: a collector serving several organizations
//! assumes one role per organization (`DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN=ARN,ARN`), and each
//! [`Organizations`] keeps its own cache, failures and time budget.
//!
//! Every organization is asked together, not in turn, so that a slow or failing one (a role that
//! cannot be assumed, an API that does not answer) costs the others nothing: each reads its own
//! account list and names the accounts on it, within one budget shared by the lookup. An account
//! no list holds is new since the lists were read, and only then is it described
//! (`DescribeAccount`) — in every organization, since which one it joined is not known — and only
//! when every list could be read: while one organization fails, an unknown account most likely
//! belongs to it, and asking the others about it would cost a call per account and per
//! organization for nothing. Such an id stays an id until that organization answers again.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::join_all;
use tokio::time::Instant;

use super::{AccountDirectory, AccountInfo, OrgSettings, Organizations};
use crate::health::AccountId;

/// Every organization delibird names accounts from, asked together.
#[derive(Debug)]
pub struct EveryOrganization {
    organizations: Vec<Organizations>,
}

impl EveryOrganization {
    /// One [`Organizations`] per role in `role_arns`, in order, each assumed with `sdk`'s
    /// credentials; none: one organization, asked with `sdk`'s own credentials.
    pub async fn new(sdk: &aws_config::SdkConfig, role_arns: &[String], settings: &OrgSettings) -> Self {
        if role_arns.is_empty() {
            return Organizations::new(sdk, None, settings.clone()).await.into();
        }
        let organizations =
            join_all(role_arns.iter().map(|role| Box::pin(Organizations::new(sdk, Some(role), settings.clone()))))
                .await;
        Self::of(organizations)
    }

    /// These organizations, asked in this order when two name one account (which Organizations
    /// never does: an account belongs to one organization).
    pub fn of(organizations: Vec<Organizations>) -> Self {
        Self { organizations }
    }

    /// The organizations, in order.
    pub fn organizations(&self) -> &[Organizations] {
        &self.organizations
    }
}

impl From<Organizations> for EveryOrganization {
    fn from(organization: Organizations) -> Self {
        Self::of(vec![organization])
    }
}

impl AccountDirectory for EveryOrganization {
    async fn lookup(&self, ids: &BTreeSet<AccountId>) -> BTreeMap<AccountId, AccountInfo> {
        // Each organization's lookup is boxed: it is a deep future, and nested in every caller's
        // it takes the compiler past its depth limit.
        let [first, rest @ ..] = self.organizations.as_slice() else { return BTreeMap::new() };
        if rest.is_empty() {
            return Box::pin(first.lookup(ids)).await;
        }
        let deadline = Instant::now() + first.settings().budget;
        let own = join_all(self.organizations.iter().map(|organization| {
            Box::pin(async move {
                let holding = organization.holding(ids, deadline).await;
                let named = if holding.ids.is_empty() {
                    BTreeMap::new()
                } else {
                    organization.lookup_until(&holding.ids, deadline).await
                };
                (holding, named)
            })
        }))
        .await;
        let every_list_read = own.iter().all(|(holding, _)| holding.current);
        let held: BTreeSet<&AccountId> = own.iter().flat_map(|(holding, _)| &holding.ids).collect();
        let unknown: BTreeSet<AccountId> = ids.iter().filter(|id| !held.contains(id)).cloned().collect();
        let mut found = BTreeMap::new();
        for (_, named) in own {
            for (id, info) in named {
                found.entry(id).or_insert(info);
            }
        }
        if every_list_read && !unknown.is_empty() {
            let described = join_all(
                self.organizations.iter().map(|organization| Box::pin(organization.lookup_until(&unknown, deadline))),
            );
            for named in described.await {
                for (id, info) in named {
                    found.entry(id).or_insert(info);
                }
            }
        }
        found
    }
}
