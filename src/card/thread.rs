//! The thread key that puts every update of one event, and its resolution, in one Chat thread.

use crate::fingerprint::fnv1a;
use crate::health::{HealthEvent, Scope};

/// Longest thread key delibird sends as it is, in bytes: far above any real one, which only a
/// malformed ARN reaches. Chat allows 4,000 characters, but a key that long can serialize to
/// 24,000 bytes (a control character is six as a JSON escape) and crowd the card out of the
/// message's 32,000.
pub const MAX_THREAD_KEY_BYTES: usize = 1_000;

/// The one thread of an event raised in many accounts, shared by them all (a roll-up):
/// `health/<eventArn>`, like a public event's.
pub fn rollup_key(event: &HealthEvent) -> String {
    let key = format!("health/{}", event.arn);
    if key.len() <= MAX_THREAD_KEY_BYTES { key } else { format!("health/fnv1a-{:016x}", fnv1a(key.as_bytes())) }
}

/// `health/<eventArn>` for public events (one thread for the whole organization), and
/// `health/<eventArn>/<account>` for the rest. The ARN names the Region. Keys longer than any
/// real one are replaced by a stable hash of the same text.
pub fn thread_key(event: &HealthEvent) -> String {
    let key = match (event.scope.as_ref(), event.affected_account()) {
        (Some(Scope::Public), _) | (_, None) => format!("health/{}", event.arn),
        (_, Some(account)) => format!("health/{}/{account}", event.arn),
    };
    if key.len() <= MAX_THREAD_KEY_BYTES { key } else { format!("health/fnv1a-{:016x}", fnv1a(key.as_bytes())) }
}
