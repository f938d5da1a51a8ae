//! The dedup store in DynamoDB: one item per thread of a space, leased with a conditional update
//! (of any number of racing invocations exactly one holds a thread at a time), and one item per
//! space for the send slots every container shares.
//!
//! Table: partition key `id` (S), TTL on `expires_at` (epoch seconds); the collector template's
//! `by-kind` index (`kind`, `id`) lists the threads. Items:
//! - `thread#<space>#<thread key>`: `kind` = `thread`, `posted` (N: messages posted to the
//!   thread), `members` (M: member → {`fp` S, `up` N when known}), `event` (S: the
//!   notification as reminders and the digest need it, [`Tracked`] as JSON, when the thread has
//!   one), and while leased `holder` (S) and `lease_until` (N, epoch milliseconds);
//! - `pace#<space>`: `next_slot` (N, epoch milliseconds): the next free send slot of the space.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{DedupStore, Lease, Seen, StoreError, ThreadId, ThreadState};
use crate::schedule::Tracked;

/// A thread that keeps a notification stays this long after the event starts or ends, whichever
/// is later, however long the dedup TTL: its last reminder and its place in the digest.
const TRACKED_AFTER_EVENT: Duration = Duration::from_secs(7 * 86_400);

/// Items one `Query` page of the `by-kind` index returns at most, and the pages read at most.
const PAGE_ITEMS: i32 = 500;
const MAX_PAGES: usize = 200;

/// The attribute the table's TTL is enabled on (epoch seconds).
const EXPIRES_AT: &str = "expires_at";

/// Attempts at a send slot before giving up on the shared pacing (the caller then paces alone).
const SLOT_ATTEMPTS: usize = 8;

/// A DynamoDB table used as the dedup store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    ttl: Duration,
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn failed(operation: &'static str, error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError { operation, source: Box::new(error) }
}

impl DynamoStore {
    /// The store in `table`, remembering a thread for `ttl` after its last update.
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>, ttl: Duration) -> Self {
        Self { client: Client::new(sdk), table: table.into(), ttl }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Checks that the table exists and can be read (`DescribeTable`): at start, so that a
    /// missing table or a missing permission is seen then, not at the first event.
    pub async fn check(&self) -> Result<(), StoreError> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|error| failed("DescribeTable", error.into_service_error()))?;
        Ok(())
    }
}

/// A thread's state as its item holds it.
fn state_of(item: &HashMap<String, AttributeValue>) -> ThreadState {
    let posted = item.get("posted").and_then(|n| n.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
    let members = item
        .get("members")
        .and_then(|m| m.as_m().ok())
        .map(|members| {
            members
                .iter()
                .filter_map(|(member, seen)| {
                    let seen = seen.as_m().ok()?;
                    let fingerprint = seen.get("fp")?.as_s().ok()?.clone();
                    let updated = seen.get("up").and_then(|n| n.as_n().ok()).and_then(|n| n.parse().ok());
                    Some((member.clone(), Seen { fingerprint, updated }))
                })
                .collect::<BTreeMap<_, _>>()
        })
        .unwrap_or_default();
    let tracked = item.get("event").and_then(|s| s.as_s().ok()).and_then(|json| serde_json::from_str(json).ok());
    ThreadState { posted, members, tracked }
}

/// The `members` attribute of a state.
fn members_of(state: &ThreadState) -> AttributeValue {
    let members = state
        .members
        .iter()
        .map(|(member, seen)| {
            let mut entry = HashMap::from([("fp".to_owned(), AttributeValue::S(seen.fingerprint.clone()))]);
            if let Some(updated) = seen.updated {
                entry.insert("up".to_owned(), number(updated));
            }
            (member.clone(), AttributeValue::M(entry))
        })
        .collect();
    AttributeValue::M(members)
}

impl DynamoStore {
    /// When a thread's item expires: `ttl` after now, and never before its notification's last
    /// reminder and digest.
    fn expires(&self, state: &ThreadState, now: SystemTime) -> u64 {
        let after_event = state
            .tracked
            .as_ref()
            .and_then(|t| t.start.max(t.end))
            .map_or(0, |last| u64::try_from(last).unwrap_or(0).saturating_add(TRACKED_AFTER_EVENT.as_secs()));
        seconds(now + self.ttl).max(after_event)
    }
}

impl DedupStore for DynamoStore {
    async fn state(&self, thread: &ThreadId) -> Result<Option<ThreadState>, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(thread.id()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| failed("GetItem", error.into_service_error()))?;
        Ok(item.item.as_ref().map(state_of))
    }

    async fn lease(
        &self,
        thread: &ThreadId,
        holder: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Lease, StoreError> {
        let leased = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(thread.id()))
            .update_expression(
                "SET holder = :me, lease_until = :until, kind = :kind, #expires = if_not_exists(#expires, :expires)",
            )
            .expression_attribute_names("#expires", EXPIRES_AT)
            .condition_expression("attribute_not_exists(holder) OR lease_until < :now OR holder = :me")
            .expression_attribute_values(":me", AttributeValue::S(holder.to_owned()))
            .expression_attribute_values(":until", number(millis(until)))
            .expression_attribute_values(":now", number(millis(now)))
            .expression_attribute_values(":kind", AttributeValue::S("thread".into()))
            .expression_attribute_values(":expires", number(seconds(now + self.ttl)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match leased.map_err(SdkError::into_service_error) {
            Ok(answer) => Ok(Lease::Held(answer.attributes.as_ref().map(state_of).unwrap_or_default())),
            Err(error) if error.is_conditional_check_failed_exception() => Ok(Lease::Busy),
            Err(error) => Err(failed("UpdateItem", error)),
        }
    }

    async fn commit(
        &self,
        thread: &ThreadId,
        holder: &str,
        state: &ThreadState,
        now: SystemTime,
    ) -> Result<(), StoreError> {
        let mut values = HashMap::from([
            (":me".to_owned(), AttributeValue::S(holder.to_owned())),
            (":posted".to_owned(), number(state.posted)),
            (":members".to_owned(), members_of(state)),
            (":expires".to_owned(), number(self.expires(state, now))),
        ]);
        let mut update = "SET posted = :posted, members = :members, expires_at = :expires".to_owned();
        if let Some(tracked) = &state.tracked {
            let json = serde_json::to_string(tracked).map_err(|error| failed("UpdateItem", error))?;
            values.insert(":event".to_owned(), AttributeValue::S(json));
            update.push_str(", event = :event");
        }
        update.push_str(" REMOVE holder, lease_until");
        let committed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(thread.id()))
            .update_expression(update)
            .condition_expression("holder = :me")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match committed.map_err(SdkError::into_service_error) {
            Ok(_) => Ok(()),
            Err(error) if error.is_conditional_check_failed_exception() => {
                Err(failed("UpdateItem", LeaseLost(thread.id())))
            }
            Err(error) => Err(failed("UpdateItem", error)),
        }
    }

    async fn tracked(&self) -> Result<Vec<(ThreadId, Tracked)>, StoreError> {
        let mut found = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by-kind")
                .key_condition_expression("kind = :kind")
                .filter_expression("attribute_exists(event)")
                .expression_attribute_values(":kind", AttributeValue::S("thread".into()))
                .limit(PAGE_ITEMS)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|error| failed("Query", error.into_service_error()))?;
            for item in page.items() {
                let Some(id) = item.get("id").and_then(|id| id.as_s().ok()) else { continue };
                let Some(tracked) = state_of(item).tracked.map(|tracked| *tracked) else { continue };
                if let Some(thread) = ThreadId::from_id(id, &tracked.thread) {
                    found.push((thread, tracked));
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(found)
    }

    async fn release(&self, thread: &ThreadId, holder: &str) -> Result<(), StoreError> {
        let released = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(thread.id()))
            .update_expression("REMOVE holder, lease_until")
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", AttributeValue::S(holder.to_owned()))
            .send()
            .await;
        match released.map_err(SdkError::into_service_error) {
            Ok(_) => Ok(()),
            // Taken over already: nothing of ours to give back.
            Err(error) if error.is_conditional_check_failed_exception() => Ok(()),
            Err(error) => Err(failed("UpdateItem", error)),
        }
    }

    async fn slot(
        &self,
        pace: &str,
        interval: Duration,
        now: SystemTime,
        until: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        let id = AttributeValue::S(format!("pace#{pace}"));
        let step = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        let mut guess = millis(now);
        for _ in 0..SLOT_ATTEMPTS {
            if guess >= millis(until) {
                return Ok(None);
            }
            let taken = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("id", id.clone())
                .update_expression("SET next_slot = :after, #expires = :expires")
                .expression_attribute_names("#expires", EXPIRES_AT)
                .condition_expression("attribute_not_exists(next_slot) OR next_slot <= :slot")
                .expression_attribute_values(":slot", number(guess))
                .expression_attribute_values(":after", number(guess.saturating_add(step)))
                .expression_attribute_values(":expires", number(seconds(now) + 86_400))
                .send()
                .await;
            match taken.map_err(SdkError::into_service_error) {
                Ok(_) => return Ok(Some(UNIX_EPOCH + Duration::from_millis(guess))),
                Err(error) if error.is_conditional_check_failed_exception() => {}
                Err(error) => return Err(failed("UpdateItem", error)),
            }
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("id", id.clone())
                .consistent_read(true)
                .send()
                .await
                .map_err(|error| failed("GetItem", error.into_service_error()))?;
            let next = item
                .item
                .as_ref()
                .and_then(|item| item.get("next_slot"))
                .and_then(|n| n.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(guess);
            guess = next.max(millis(SystemTime::now()));
        }
        Err(failed("UpdateItem", Contended(pace.to_owned())))
    }
}

/// A commit whose lease had been taken over (it ran out): the state is not written.
#[derive(Debug, thiserror::Error)]
#[error("the lease on {0} ran out and was taken over before the commit")]
struct LeaseLost(String);

/// Every attempt at a send slot met another container's.
#[derive(Debug, thiserror::Error)]
#[error("every attempt at a send slot of {0} met another container's")]
struct Contended(String);
