//! Which notification an event copy belongs to, and which update of it.
//!
//! The **key** names the notification: `health/<eventArn>` for public events (one for the whole
//! organization, however many member accounts forwarded a copy) and `health/<eventArn>/<account>`
//! for the rest — the thread key. The **fingerprint** names the update: a stable hash of what a
//! reader would see change (status, descriptions, affected entities and their statuses, the
//! affected account of non-public events, end time). `lastUpdatedTime`, the delivering Region and
//! the backup flag are left out, so repeats and backup-Region copies fold into one notification.
//! Pure, no I/O.

use std::fmt::Write as _;

use crate::card::thread_key;
use crate::fingerprint::fnv1a;
use crate::health::{HealthEvent, Scope};

/// One update of one notification: what the dedup store records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The notification (and its thread).
    pub key: String,
    /// The update's content, as a stable hash.
    pub fingerprint: String,
}

impl Notification {
    /// The store's id for this update: `key#fingerprint`.
    pub fn id(&self) -> String {
        format!("{}#{}", self.key, self.fingerprint)
    }
}

/// What to do with the copies AWS sends besides the primary one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folding {
    /// Backup-Region copies (`backupEvent: "true"`) count as the primary (default), or post apart.
    pub backup_copies: bool,
    /// Pages after the first count as page 1's notification (default, as AWS advises), or post apart.
    pub later_pages: bool,
}

impl Default for Folding {
    fn default() -> Self {
        Self { backup_copies: true, later_pages: true }
    }
}

/// Whether a copy is posted on its own or folded into another copy's notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Post (once) under this notification.
    Post(Notification),
    /// A later page, folded into page 1: never posted on its own.
    FoldedPage,
}

/// The notification an event copy belongs to.
pub fn identify(event: &HealthEvent, folding: Folding) -> Identity {
    if folding.later_pages && event.page.is_some_and(|page| page.number > 1) {
        return Identity::FoldedPage;
    }
    let mut key = thread_key(event);
    if event.backup && !folding.backup_copies {
        key.push_str("#backup");
    }
    if let Some(page) = event.page.filter(|page| page.number > 1) {
        let _ = write!(key, "#page{}", page.number);
    }
    Identity::Post(Notification { key, fingerprint: format!("{:016x}", fnv1a(content(event).as_bytes())) })
}

/// The text whose hash is the fingerprint: one field per line, lists sorted.
fn content(event: &HealthEvent) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "status={}", event.status.as_ref().map_or("", |s| s.as_str()));
    let _ = writeln!(text, "end={}", event.end.as_ref().map(ToString::to_string).unwrap_or_default());
    if event.scope != Some(Scope::Public) {
        let _ = writeln!(text, "account={}", event.affected_account().map(ToString::to_string).unwrap_or_default());
    }
    let mut descriptions: Vec<String> =
        event.descriptions.iter().map(|d| format!("description[{}]={}", d.language, d.text)).collect();
    descriptions.sort();
    let mut entities: Vec<String> = event
        .entities
        .iter()
        .map(|e| format!("entity={}|{}", e.value, e.status.as_ref().map_or("", |s| s.as_str())))
        .collect();
    entities.sort();
    for line in descriptions.iter().chain(&entities) {
        text.push_str(line);
        text.push('\n');
    }
    text
}
