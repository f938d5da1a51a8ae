//! The dependencies a test runs the handler with, built in one place: every card to one webhook
//! (an emulator's), fast retries, no pacing and no account names unless a test asks for them.
//! Both crates' tests use it (the command line's include this file).
//!
//! ```ignore
//! let deps = stack::to(&emulator.webhook_url("S")).attempts(3).aliases(&[("111122223333", "payments-prod")]).build();
//! ```

#![allow(dead_code)]

use std::num::NonZeroU32;
use std::time::Duration;

use delibird::accounts::{EveryOrganization, Organizations, StaticAliases};
use delibird::card::CardSettings;
use delibird::chat::{self, GoogleChat};
use delibird::dedup::{Folding, MemoryStore, Store};
use delibird::deps::Deps;
use delibird::health::AccountId;
use delibird::rules::DEFAULT_WEBHOOK;
use delibird::schedule::ScheduleSettings;
use delibird::spaces::{Space, Spaces};
use delibird::webhook::{RetryPolicy, http_client};

/// Retries that give up quickly: `attempts` in all, 10–40 ms apart, half a second per request.
pub fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: NonZeroU32::new(attempts).expect("at least one attempt"),
        base: Duration::from_millis(10),
        cap: Duration::from_millis(40),
        request_timeout: Duration::from_millis(500),
        deadline_margin: Duration::from_millis(50),
    }
}

/// Dependencies under construction.
pub struct Stack {
    spaces: Spaces,
    retry: RetryPolicy,
    aliases: StaticAliases,
    organizations: Option<EveryOrganization>,
    dedup: Option<Store>,
    schedule: ScheduleSettings,
    folding: Folding,
    connect_timeout: Duration,
}

/// Every card to `url` (loopback allowed), unpaced, with [`fast_retry`]`(3)`.
pub fn to(url: &str) -> Stack {
    let webhook = chat::webhook(url, true).expect("a webhook URL");
    routed(Spaces::one(Space::new(DEFAULT_WEBHOOK, webhook, Duration::ZERO)))
}

/// Cards to `spaces` (rules and their webhooks), with [`fast_retry`]`(3)`.
pub fn routed(spaces: Spaces) -> Stack {
    Stack {
        spaces,
        retry: fast_retry(3),
        aliases: StaticAliases::default(),
        organizations: None,
        dedup: None,
        schedule: ScheduleSettings::standard(),
        folding: Folding::default(),
        connect_timeout: Duration::from_millis(500),
    }
}

impl Stack {
    /// Retrying per `retry`.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// [`fast_retry`] with `attempts` in all.
    pub fn attempts(self, attempts: u32) -> Self {
        self.retry(fast_retry(attempts))
    }

    /// The one space paced `interval` apart (Chat's rate, or an emulator's).
    pub fn paced(mut self, interval: Duration) -> Self {
        let space = self.spaces.iter().next().expect("a space");
        self.spaces = Spaces::one(Space::new(space.name.clone(), space.url.clone(), interval));
        self
    }

    /// Account names, `(id, name)`.
    pub fn aliases(mut self, names: &[(&str, &str)]) -> Self {
        self.aliases =
            names.iter().map(|(id, name)| (AccountId::parse(id).expect("an account id"), (*name).to_owned())).collect();
        self
    }

    /// Account names from AWS Organizations.
    pub fn organizations(mut self, organizations: Organizations) -> Self {
        self.organizations = Some(organizations.into());
        self
    }

    /// Remembering posted updates in `store` (memory otherwise).
    pub fn dedup(mut self, store: Store) -> Self {
        self.dedup = Some(store);
        self
    }

    /// One thread per account for an event raised in many accounts, instead of a roll-up
    /// (`DELIBIRD_ROLLUP=0`).
    pub fn without_rollups(mut self) -> Self {
        self.folding.accounts = false;
        self
    }

    /// Reminders and the digest as `schedule` says.
    pub fn schedule(mut self, schedule: ScheduleSettings) -> Self {
        self.schedule = schedule;
        self
    }

    /// The HTTP client's connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The dependencies.
    pub fn build(self) -> Deps {
        Deps {
            client: http_client(self.connect_timeout).expect("an HTTP client"),
            channel: GoogleChat,
            spaces: self.spaces,
            aliases: self.aliases,
            organizations: self.organizations,
            card: CardSettings::default(),
            retry: self.retry,
            dedup: self.dedup.unwrap_or_else(|| Store::Memory(MemoryStore::new())),
            folding: self.folding,
            metrics: None,
            schedule: self.schedule,
        }
    }
}
