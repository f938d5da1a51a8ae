//! The seam between what delibird says and the chat service it says it in. A [`Channel`] knows
//! a service's webhooks (where they may point, how fast a space takes messages), its wire format
//! (a [`Card`] as the body of a post, within the service's limits) and its answers. The pipeline
//! calls it at two places only: [`Channel::encode`] once per record, and
//! [`crate::webhook::deliver`], which asks it for the request URL and reads its answers.
//! [`crate::chat::GoogleChat`] is the one channel today; docs/library.md says how a
//! second plugs in. No I/O here.

use std::time::Duration;

use url::Url;

use crate::card::model::Card;
use crate::kept::{Endpoint, WebhookUrl};

/// What an accepted post created, as the service's answer names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// The message's name or id.
    pub message: Option<String>,
    /// The thread's name or id.
    pub thread: Option<String>,
}

/// A chat service delibird posts cards to through incoming webhooks.
pub trait Channel: Send + Sync {
    /// Where its webhooks may point and what they look like.
    fn endpoint(&self) -> &'static Endpoint;

    /// Least time between two posts to one space.
    fn interval(&self) -> Duration;

    /// `card` as the body of a post, within the service's limits however much the card holds.
    fn encode(&self, card: &Card) -> Vec<u8>;

    /// The URL a body is posted to: the webhook's, with the options threads need and
    /// `request_id`, which makes a repeat of the same post return the message it created.
    fn request_url(&self, webhook: &WebhookUrl, request_id: &str) -> Url;

    /// What an accepted post's answer names.
    fn accepted(&self, answer: &str) -> Accepted;

    /// The reason a refusal's answer gives, if it gives one (scrubbed by the caller).
    fn refusal(&self, answer: &str) -> Option<String>;

    /// Checks a webhook URL for this service.
    fn webhook(&self, text: &str, allow_loopback: bool) -> Result<WebhookUrl, crate::kept::WebhookUrlError> {
        WebhookUrl::parse(text, self.endpoint(), allow_loopback)
    }
}
