//! Google Chat, the channel delibird posts to: a card as a Card V2 webhook message ([`wire`])
//! within Google's limits ([`limits`]), in Chat's HTML subset ([`markup`]), and Chat's webhooks
//! and answers. [`render_body`] lays a card out at the most generous [`Budget`] that fits,
//! cutting long descriptions and lists with a visible "+N more"; it is total. No I/O here.

mod answer;
mod compose;
pub mod limits;
pub mod markup;
pub mod wire;

use std::time::Duration;

use url::Url;

use crate::accounts::EnrichedEvent;
use crate::card::model::Card;
use crate::card::{self, CardSettings};
use crate::channel::{Accepted, Channel};
use crate::health::ValidationErrors;
use crate::kept::{Endpoint, WebhookUrl, WebhookUrlError};
pub use compose::{BUDGETS, Budget, icon};
use wire::Message;

/// Google Chat's incoming webhooks.
pub const ENDPOINT: Endpoint = Endpoint {
    service: "Google Chat",
    host: "chat.googleapis.com",
    required: &["key", "token"],
    example: "https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN",
};

/// Chat's documented rate is one message per second per space; requests leave this far apart so
/// that network jitter (two requests arriving closer than they left) does not cost a 429.
pub const CHAT_INTERVAL: Duration = Duration::from_millis(1_100);

/// The query parameter that makes Chat honour `thread.threadKey` (otherwise it silently starts a
/// new thread every time).
const REPLY_OPTION: (&str, &str) = ("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");

/// `spaces.messages.create`'s idempotency parameter: "Specifying an existing request ID returns
/// the message created with that ID instead of creating a new message" (Chat API reference). Google
/// documents it for the Chat API; that incoming webhooks honour it too could not be checked here.
const REQUEST_ID: &str = "requestId";

/// The Google Chat channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoogleChat;

/// A Google Chat webhook URL: `https://chat.googleapis.com/…?key=…&token=…` (loopback too, with
/// `allow_loopback`, for tests and the demo).
pub fn webhook(text: &str, allow_loopback: bool) -> Result<WebhookUrl, WebhookUrlError> {
    WebhookUrl::parse(text, &ENDPOINT, allow_loopback)
}

/// A laid-out message and its webhook body: the JSON Chat receives, written once, when
/// [`render_body`] checked its size against Google's limit, and posted as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The message.
    pub message: Message,
    /// `message` as compact JSON.
    pub body: Vec<u8>,
}

impl From<Message> for Rendered {
    fn from(message: Message) -> Self {
        let body = json(&message);
        Self { message, body }
    }
}

/// A message as compact JSON. It holds only strings, numbers, booleans and lists, which always
/// serialize; were that ever to fail, the empty body would be refused by Chat with a 400 and
/// reported, rather than panic.
fn json(message: &Message) -> Vec<u8> {
    serde_json::to_vec(message).unwrap_or_default()
}

/// `card` as a message at the most generous budget whose JSON is within Google's limits, else at
/// the smallest, with its body. A roll-up that does not fit with every account names as many as
/// fit (found by bisection) before anything else is cut further.
pub fn render_body(card: &Card) -> Rendered {
    let [generous @ .., smallest] = &BUDGETS;
    let accounts = card.sections.iter().find_map(|section| match &section.body {
        crate::card::model::Body::Accounts(lines) => Some(lines.len()),
        _ => None,
    });
    for budget in generous {
        if let Some(fitted) = fitting(card, budget) {
            return fitted;
        }
        if let Some(count) = accounts.filter(|_| !budget.account_details)
            && let Some(fitted) = most_accounts(card, budget, count.min(budget.accounts))
        {
            return fitted;
        }
    }
    compose::compose(card, smallest).into()
}

/// The message at `budget`, when it is within Google's limits.
fn fitting(card: &Card, budget: &Budget) -> Option<Rendered> {
    let message = compose::compose(card, budget);
    let body = json(&message);
    limits::within_limits_of(&message, body.len()).then_some(Rendered { message, body })
}

/// The message at `budget` listing as many of a roll-up's `count` accounts as fit (at least one).
fn most_accounts(card: &Card, budget: &Budget, count: usize) -> Option<Rendered> {
    let (mut fits, mut too_many) = (None, count + 1);
    let mut low = 1;
    while low < too_many {
        let middle = low + (too_many - low) / 2;
        match fitting(card, &Budget { accounts: middle, ..*budget }) {
            Some(rendered) => {
                fits = Some(rendered);
                low = middle + 1;
            }
            None => too_many = middle,
        }
    }
    fits
}

/// `card` as a message within Google's limits.
pub fn render(card: &Card) -> Message {
    render_body(card).message
}

/// An event's card as a Chat message — with the problems found in it, for a degraded card:
/// [`card::render`] then [`render`], as `delibird render` prints it.
pub fn message(event: &EnrichedEvent, problems: Option<&ValidationErrors>, settings: &CardSettings) -> Message {
    render(&card::render(event, problems, settings))
}

impl Channel for GoogleChat {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn interval(&self) -> Duration {
        CHAT_INTERVAL
    }

    fn encode(&self, card: &Card) -> Vec<u8> {
        render_body(card).body
    }

    fn request_url(&self, webhook: &WebhookUrl, request_id: &str) -> Url {
        let mut url = webhook.url().clone();
        let kept: Vec<(String, String)> = webhook
            .url()
            .query_pairs()
            .filter(|(name, _)| name != REPLY_OPTION.0 && name != REQUEST_ID)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair(REPLY_OPTION.0, REPLY_OPTION.1)
            .append_pair(REQUEST_ID, request_id);
        url
    }

    fn accepted(&self, answer: &str) -> Accepted {
        answer::accepted(answer)
    }

    fn refusal(&self, answer: &str) -> Option<String> {
        answer::refusal(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLE: &str = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY123&token=SECRET-TOKEN";

    #[test]
    fn request_url_asks_for_threads_once_and_carries_the_request_id() {
        let url = webhook(&format!("{GOOGLE}&messageReplyOption=REPLY_MESSAGE_OR_FAIL&requestId=old"), false).unwrap();
        let query = GoogleChat.request_url(&url, "delibird-00ff").query().unwrap().to_owned();
        assert_eq!(query.matches("messageReplyOption").count(), 1);
        assert_eq!(query.matches("requestId").count(), 1);
        assert!(query.ends_with("messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&requestId=delibird-00ff"));
    }
}
