//! Google Chat's limits on a webhook message, one constant each, and the checks delibird's
//! renderer holds itself to.

use std::io;

use super::wire::Message;
use crate::card::MAX_THREAD_KEY_BYTES;

/// "A message, contents included, is at most 32,000 bytes" (Chat API, Message resource).
pub const MAX_MESSAGE_BYTES: usize = 32_000;

/// "A card can have at most 100 widgets"; past that, Chat drops the section that overflows and
/// every later one.
pub const MAX_WIDGETS_PER_CARD: usize = 100;

/// `text` and `fallbackText` above 4,096 characters are answered with 400.
pub const MAX_FALLBACK_TEXT_CHARS: usize = 4_096;

/// `thread.threadKey` "up to 4,000 characters".
pub const MAX_THREAD_KEY_CHARS: usize = 4_000;

const _: () = assert!(MAX_THREAD_KEY_BYTES <= MAX_THREAD_KEY_CHARS);

/// The serialized size of a message in bytes, as Chat counts it (compact JSON, UTF-8). Counted
/// as it is written, not kept: [`render_body`](super::render_body) asks this of every budget it tries.
pub fn message_bytes(message: &Message) -> usize {
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, message).map_or(usize::MAX, |()| counter.0)
}

/// A writer that keeps only how many bytes went through it.
struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The number of widgets in the message's largest card.
pub fn widget_count(message: &Message) -> usize {
    message
        .cards_v2
        .iter()
        .map(|card| card.card.sections.iter().map(|section| section.widgets.len()).sum())
        .max()
        .unwrap_or(0)
}

/// True when the message is within every limit above.
pub fn within_limits(message: &Message) -> bool {
    within_limits_of(message, message_bytes(message))
}

/// [`within_limits`], for a message already known to serialize to `bytes` bytes.
pub fn within_limits_of(message: &Message, bytes: usize) -> bool {
    bytes <= MAX_MESSAGE_BYTES
        && widget_count(message) <= MAX_WIDGETS_PER_CARD
        && message.fallback_text.chars().count() <= MAX_FALLBACK_TEXT_CHARS
        && message.thread.thread_key.chars().count() <= MAX_THREAD_KEY_CHARS
}
