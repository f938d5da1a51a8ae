//! The dedup store in DynamoDB: one item per notification update, claimed with a conditional
//! write, so of any number of racing invocations exactly one posts.
//!
//! Table: partition key `id` (S). Items: `id` = `key#fingerprint`, `state` = `pending` |
//! `delivered`, `lease_until` (epoch seconds: a pending claim older than that may be taken over,
//! so a crashed invocation never blocks an update for good), `expires_at` (epoch seconds; enable
//! the table's TTL on it).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{Claim, DedupStore, Notification, StoreError};

/// A DynamoDB table used as the dedup store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    ttl: Duration,
}

fn epoch(at: SystemTime) -> String {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()).to_string()
}

fn failed(operation: &'static str, error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError { operation, source: Box::new(error) }
}

impl DynamoStore {
    /// The store in `table`, keeping delivered updates for `ttl`.
    pub fn new(sdk: &aws_config::SdkConfig, table: impl Into<String>, ttl: Duration) -> Self {
        Self { client: Client::new(sdk), table: table.into(), ttl }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

impl DedupStore for DynamoStore {
    async fn claim(&self, notification: &Notification, now: SystemTime, lease: Duration) -> Result<Claim, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(notification.id()))
            .item("key", AttributeValue::S(notification.key.clone()))
            .item("state", AttributeValue::S("pending".into()))
            .item("lease_until", AttributeValue::N(epoch(now + lease)))
            .item("expires_at", AttributeValue::N(epoch(now + self.ttl)))
            .condition_expression("attribute_not_exists(id) OR (#state = :pending AND lease_until < :now)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(":now", AttributeValue::N(epoch(now)))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Claimed),
            Err(error) => {
                let error = error.into_service_error();
                if !error.is_conditional_check_failed_exception() {
                    return Err(failed("PutItem", error));
                }
                let item = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key("id", AttributeValue::S(notification.id()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|error| failed("GetItem", error.into_service_error()))?;
                let state = item.item.as_ref().and_then(|item| item.get("state")).and_then(|s| s.as_s().ok());
                Ok(if state.is_some_and(|s| s == "delivered") { Claim::Delivered } else { Claim::InFlight })
            }
        }
    }

    async fn confirm(&self, notification: &Notification, now: SystemTime) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(notification.id()))
            .update_expression("SET #state = :delivered, expires_at = :expires")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":delivered", AttributeValue::S("delivered".into()))
            .expression_attribute_values(":expires", AttributeValue::N(epoch(now + self.ttl)))
            .send()
            .await
            .map_err(|error| failed("UpdateItem", error.into_service_error()))?;
        Ok(())
    }

    async fn release(&self, notification: &Notification) -> Result<(), StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(notification.id()))
            .condition_expression("#state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .send()
            .await;
        match deleted.map_err(aws_sdk_dynamodb::error::SdkError::into_service_error) {
            Ok(_) => Ok(()),
            Err(error) if error.is_conditional_check_failed_exception() => Ok(()),
            Err(error) => Err(failed("DeleteItem", error)),
        }
    }
}
