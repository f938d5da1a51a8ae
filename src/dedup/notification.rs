//! Which notification an event copy belongs to, and which update of it.
//!
//! The **thread** names the notification: `health/<eventArn>` for public events (one for the whole
//! organization, however many member accounts forwarded a copy) and `health/<eventArn>/<account>`
//! for the rest — the thread key. The **member** is who in the thread the copy speaks for (`*`: the
//! thread's one subject). The **fingerprint** names the update: a stable hash of what a reader
//! would see change (status, descriptions, affected entities and their statuses, the affected
//! account of non-public events, end time). `lastUpdatedTime`, the delivering Region and the
//! backup flag are left out, so repeats and backup-Region copies fold into one notification;
//! `lastUpdatedTime` is kept beside it, so that a late copy of an older update is recognised.
//! Pure, no I/O.

use std::fmt::Write as _;

use crate::card::{rollup_key, thread_key};
use crate::fingerprint::fnv1a;
use crate::health::{HealthEvent, Scope};

/// The member of a thread about one subject.
pub const ONLY_MEMBER: &str = "*";

/// One update of one notification: what the dedup store compares with what the thread said.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The notification's thread key.
    pub thread: String,
    /// Who in the thread this copy speaks for ([`ONLY_MEMBER`] for a thread about one subject).
    pub member: String,
    /// The update's content, as a stable hash.
    pub fingerprint: String,
    /// The update's `lastUpdatedTime`, in seconds since the epoch, when it could be read.
    pub updated: Option<i64>,
}

impl Notification {
    /// The update, for logs: `thread#fingerprint` (`thread#member#fingerprint` in a roll-up).
    pub fn id(&self) -> String {
        if self.member == ONLY_MEMBER {
            format!("{}#{}", self.thread, self.fingerprint)
        } else {
            format!("{}#{}#{}", self.thread, self.member, self.fingerprint)
        }
    }
}

/// What to do with the copies AWS sends besides the primary one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folding {
    /// Backup-Region copies (`backupEvent: "true"`) count as the primary (default), or post apart.
    pub backup_copies: bool,
    /// Pages after the first count as page 1's notification (default, as AWS advises), or post apart.
    pub later_pages: bool,
    /// An account-specific event raised in many accounts (one `eventArn`) is one thread in a space,
    /// each account a member of it (default: a roll-up), or one thread per account.
    pub accounts: bool,
}

impl Default for Folding {
    fn default() -> Self {
        Self { backup_copies: true, later_pages: true, accounts: true }
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
    // A roll-up: the event's one thread (`health/<eventArn>`, as for a public event), each
    // affected account a member of it.
    let member = match (folding.accounts, event.scope.as_ref(), event.affected_account()) {
        (true, scope, Some(account)) if scope != Some(&Scope::Public) => account.to_string(),
        _ => ONLY_MEMBER.to_owned(),
    };
    let mut key = if member == ONLY_MEMBER { thread_key(event) } else { rollup_key(event) };
    if event.backup && !folding.backup_copies {
        key.push_str("#backup");
    }
    if let Some(page) = event.page.filter(|page| page.number > 1) {
        let _ = write!(key, "#page{}", page.number);
    }
    Identity::Post(Notification {
        thread: key,
        member,
        fingerprint: format!("{:016x}", fnv1a(content(event).as_bytes())),
        updated: event.last_updated.as_ref().and_then(|time| time.at()).map(|at| at.timestamp()),
    })
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::health::validate;

    fn event(scope: &str, account: &str, changes: &[(&str, Value)]) -> HealthEvent {
        let mut raw = json!({
            "account": account, "region": "us-east-1",
            "detail": {"eventArn": "arn:aws:health:us-east-1::event/EC2/X/X_1", "service": "EC2",
                       "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE", "eventScopeCode": scope, "statusCode": "open",
                       "affectedAccount": account, "lastUpdatedTime": "Fri, 27 Jan 2023 06:02:51 GMT",
                       "eventDescription": [{"language": "en_US", "latestDescription": "Elevated errors"}],
                       "affectedEntities": [{"entityValue": "i-1", "status": "IMPAIRED"}]}
        });
        for (key, value) in changes {
            raw["detail"][key] = value.clone();
        }
        validate(&raw).unwrap()
    }

    fn post(event: &HealthEvent, folding: Folding) -> Notification {
        match identify(event, folding) {
            Identity::Post(notification) => notification,
            Identity::FoldedPage => panic!("not a later page"),
        }
    }

    #[test]
    fn a_public_event_is_one_notification_whatever_account_forwarded_it() {
        let a = post(&event("PUBLIC", "111122223333", &[]), Folding::default());
        let b = post(&event("PUBLIC", "444455556666", &[]), Folding::default());
        assert_eq!(a, b);
    }

    #[test]
    fn an_account_specific_event_is_one_thread_with_a_member_per_account() {
        let a = post(&event("ACCOUNT_SPECIFIC", "111122223333", &[]), Folding::default());
        let b = post(&event("ACCOUNT_SPECIFIC", "444455556666", &[]), Folding::default());
        assert_eq!(a.thread, b.thread, "a roll-up: one thread");
        assert_eq!((a.member.as_str(), b.member.as_str()), ("111122223333", "444455556666"));
    }

    #[test]
    fn without_roll_ups_an_account_specific_event_is_one_notification_per_account() {
        let apart = Folding { accounts: false, ..Folding::default() };
        let a = post(&event("ACCOUNT_SPECIFIC", "111122223333", &[]), apart);
        let b = post(&event("ACCOUNT_SPECIFIC", "444455556666", &[]), apart);
        assert_ne!(a.thread, b.thread);
        assert_eq!((a.member.as_str(), b.member.as_str()), (ONLY_MEMBER, ONLY_MEMBER));
    }

    #[test]
    fn a_public_event_has_one_member_whatever_account_forwarded_it() {
        let a = post(&event("PUBLIC", "111122223333", &[]), Folding::default());
        assert_eq!(a.member, ONLY_MEMBER);
    }

    #[test]
    fn a_new_last_updated_time_alone_is_not_a_new_update() {
        let later = [("lastUpdatedTime", json!("Fri, 27 Jan 2023 08:00:00 GMT"))];
        let (first, second) = (
            post(&event("PUBLIC", "111122223333", &[]), Folding::default()),
            post(&event("PUBLIC", "111122223333", &later), Folding::default()),
        );
        assert_eq!((&first.thread, &first.fingerprint), (&second.thread, &second.fingerprint));
        assert_eq!(second.updated.unwrap() - first.updated.unwrap(), 2 * 3600 - 2 * 60 - 51, "kept beside it");
    }

    #[test]
    fn status_description_entities_and_end_time_are_new_updates_in_the_same_thread() {
        let base = post(&event("PUBLIC", "111122223333", &[]), Folding::default());
        for change in [
            ("statusCode", json!("closed")),
            ("eventDescription", json!([{"language": "en_US", "latestDescription": "Recovered"}])),
            ("affectedEntities", json!([{"entityValue": "i-1", "status": "RESOLVED"}])),
            ("endTime", json!("Fri, 27 Jan 2023 09:00:00 GMT")),
        ] {
            let changed = post(&event("PUBLIC", "111122223333", std::slice::from_ref(&change)), Folding::default());
            assert_eq!(changed.thread, base.thread, "{change:?}");
            assert_ne!(changed.fingerprint, base.fingerprint, "{change:?}");
        }
    }

    #[test]
    fn backup_copies_fold_by_default_and_post_apart_when_asked() {
        let primary = event("PUBLIC", "111122223333", &[]);
        let backup = event("PUBLIC", "111122223333", &[("backupEvent", json!("true"))]);
        assert_eq!(post(&primary, Folding::default()), post(&backup, Folding::default()));
        let apart = Folding { backup_copies: false, ..Folding::default() };
        assert_ne!(post(&primary, apart), post(&backup, apart));
    }

    #[test]
    fn later_pages_fold_into_page_one_by_default() {
        let page2 = event("ACCOUNT_SPECIFIC", "111122223333", &[("page", json!("2")), ("totalPages", json!("3"))]);
        assert_eq!(identify(&page2, Folding::default()), Identity::FoldedPage);
        let apart = Folding { later_pages: false, ..Folding::default() };
        assert!(post(&page2, apart).thread.ends_with("#page2"));
    }
}
