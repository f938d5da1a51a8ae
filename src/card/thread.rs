//! The thread key that puts every update of one event, and its resolution, in one Chat thread.

use super::limits::MAX_THREAD_KEY_CHARS;
use crate::fingerprint::fnv1a;
use crate::health::{HealthEvent, Scope};

/// `health/<eventArn>` for public events (one thread for the whole organization), and
/// `health/<eventArn>/<account>` for the rest. The ARN names the Region. Keys too long for Chat
/// are replaced by a stable hash of the same text.
pub fn thread_key(event: &HealthEvent) -> String {
    let key = match (event.scope.as_ref(), event.affected_account()) {
        (Some(Scope::Public), _) | (_, None) => format!("health/{}", event.arn),
        (_, Some(account)) => format!("health/{}/{account}", event.arn),
    };
    if key.chars().count() <= MAX_THREAD_KEY_CHARS {
        key
    } else {
        format!("health/fnv1a-{:016x}", fnv1a(key.as_bytes()))
    }
}
