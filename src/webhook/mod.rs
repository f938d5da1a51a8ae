//! Stage 5: post a card's body to a space's webhook, retrying what a retry can fix.
//!
//! [`deliver`] is one small loop around the pure [`retry::classify`] and [`retry::Backoff`]: it
//! stops at the attempt limit, or before the deadline (the Lambda's, minus a margin), whichever
//! comes first. The [`Channel`] says where to post and what its answers mean; nothing here knows
//! a service's format. Nothing it returns or logs contains the webhook's token.

mod pacer;
pub mod retry;

use std::num::NonZeroU32;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use tokio::time::Instant;

use crate::channel::Channel;
use crate::kept::WebhookUrl;
pub use pacer::{Pace, Pacer, TooLate};
use retry::{Backoff, Outcome, Verdict, classify};

/// How hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: NonZeroU32,
    /// First backoff ceiling; doubles each retry.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// Time allowed for one request.
    pub request_timeout: Duration,
    /// Stop this long before the deadline, so the invocation can still report its outcome.
    pub deadline_margin: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: NonZeroU32::new(6).expect("6 is not zero"),
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            request_timeout: Duration::from_secs(5),
            deadline_margin: Duration::from_secs(1),
        }
    }
}

/// A message the chat service accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Attempts it took, the successful one included.
    pub attempts: u32,
    /// The HTTP status of the successful answer.
    pub status: u16,
    /// The message's name (Google Chat: `spaces/…/messages/…`), when the answer gave it.
    pub message_name: Option<String>,
    /// The thread's name, when the answer gave it.
    pub thread_name: Option<String>,
    /// Answers 429 waited out before it.
    pub rate_limited: u32,
}

/// Why the last attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The service answered with an error status.
    #[error("HTTP {status}: {reason}")]
    Status {
        /// The status code.
        status: u16,
        /// The service's own reason (Chat's `error.message`), scrubbed of the webhook's secrets,
        /// or the status's reason.
        reason: String,
    },
    /// No answer within the request timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// No send slot left before the deadline: the webhook's rate allows no more messages in time.
    #[error("no send slot before the deadline (one message per {0:?})")]
    Paced(Duration),
    /// The request could not be sent or its answer not read.
    #[error("{kind}")]
    Network {
        /// `could not connect` or `connection broken`.
        kind: &'static str,
        /// reqwest's error, stripped of the URL.
        #[source]
        source: reqwest::Error,
    },
}

/// A message that was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// An answer no retry can change (400, 401, 403, 404, …).
    #[error("the chat service refused the message after {attempts} attempt(s), not retried: {last}{}", advice(last))]
    Refused {
        /// Attempts made.
        attempts: u32,
        /// Answers 429 among them.
        rate_limited: u32,
        /// The refusal.
        #[source]
        last: Failure,
    },
    /// Every allowed attempt failed.
    #[error("gave up after {attempts} attempts: {last}")]
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// Answers 429 among them.
        rate_limited: u32,
        /// The last failure.
        #[source]
        last: Failure,
    },
    /// The next attempt would have run past the deadline.
    #[error("stopped before the deadline after {attempts} attempt(s): {last}")]
    Deadline {
        /// Attempts made.
        attempts: u32,
        /// Answers 429 among them.
        rate_limited: u32,
        /// The last failure, if an attempt was made.
        #[source]
        last: Failure,
    },
}

/// What to do about a refusal that says the webhook itself is gone.
fn advice(last: &Failure) -> &'static str {
    match last {
        Failure::Status { status: 401 | 403 | 404, .. } => {
            " — the webhook was deleted or revoked (or its space removed): add a new one in the space (Apps & \
             integrations → Webhooks → Add webhook) and put its URL where delibird reads it (the webhook's secret, \
             SSM parameter or DELIBIRD_WEBHOOK_URL)"
        }
        _ => "",
    }
}

impl DeliveryError {
    /// Attempts made before giving up.
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Refused { attempts, .. } | Self::Exhausted { attempts, .. } | Self::Deadline { attempts, .. } => {
                *attempts
            }
        }
    }

    /// Answers 429 waited out before giving up.
    pub fn rate_limited(&self) -> u32 {
        match self {
            Self::Refused { rate_limited, .. }
            | Self::Exhausted { rate_limited, .. }
            | Self::Deadline { rate_limited, .. } => *rate_limited,
        }
    }

    /// True when the service refused the webhook itself (401, 403, 404): deleted, revoked, or
    /// its space removed. No retry can fix that; a new webhook can.
    pub fn is_rejected_webhook(&self) -> bool {
        matches!(self, Self::Refused { last: Failure::Status { status: 401 | 403 | 404, .. }, .. })
    }
}

/// An HTTP client fit for the webhook: no redirects (they could carry the token to another
/// host), rustls, a connect timeout.
pub fn http_client(connect_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect_timeout)
        .user_agent(concat!("delibird/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// One post: where it goes, the body, and the id that makes a repeat of it harmless (the service
/// returns the message created with that id instead of creating another).
#[derive(Debug, Clone, Copy)]
pub struct Post<'a> {
    /// The space's webhook.
    pub url: &'a WebhookUrl,
    /// The body, as the channel encoded it.
    pub body: &'a [u8],
    /// Derived from what the post says and where: the same post, retried, has the same id.
    pub request_id: &'a str,
}

/// Most answers 429 one post waits out: far more than a deadline allows at Chat's rate, so only
/// a broken clock would reach it.
const MAX_RATE_LIMITED: u32 = 1_000;

/// Posts `post`, each attempt in a slot from `pace`, retrying per `policy` until `deadline` minus
/// its margin. Answers 429 (the space's rate) are retried until then without counting against
/// the attempts: a burst must wait its turn, not give up while most of the deadline remains.
pub async fn deliver<C: Channel + ?Sized, P: Pace + ?Sized>(
    client: &reqwest::Client,
    channel: &C,
    post: &Post<'_>,
    policy: &RetryPolicy,
    pace: &P,
    deadline: Instant,
) -> Result<Delivery, DeliveryError> {
    let request_url = channel.request_url(post.url, post.request_id);
    let stop_at = deadline.checked_sub(policy.deadline_margin).unwrap_or(deadline);
    let mut backoff = Backoff::new(policy.base, policy.cap);
    let (mut attempts, mut rate_limited) = (0, 0);
    let mut last = None;
    loop {
        if pace.turn(stop_at).await.is_err() {
            let last = last.unwrap_or(Failure::Paced(pace.interval()));
            return Err(DeliveryError::Deadline { attempts, rate_limited, last });
        }
        let now = Instant::now();
        let timeout = policy.request_timeout.min(stop_at.saturating_duration_since(now));
        if timeout.is_zero() {
            let last = Failure::Timeout(Duration::ZERO);
            return Err(DeliveryError::Deadline { attempts, rate_limited, last });
        }
        attempts += 1;
        let sent = client
            .post(request_url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=UTF-8"))
            .timeout(timeout)
            .body(post.body.to_vec())
            .send()
            .await;
        let (outcome, wait_hint, failure) = match sent {
            Ok(response) => match read(response, channel, post.url, attempts).await {
                Ok(delivery) => return Ok(Delivery { rate_limited, ..delivery }),
                Err((status, hint, failure)) => (Outcome::Status(status), hint, failure),
            },
            Err(error) => network_failure(error, timeout),
        };
        tracing::debug!(attempt = attempts, error = %failure, "webhook attempt failed");
        let throttled = outcome == Outcome::Status(reqwest::StatusCode::TOO_MANY_REQUESTS);
        rate_limited += u32::from(throttled);
        match classify(outcome) {
            Verdict::Delivered | Verdict::GiveUp => {
                return Err(DeliveryError::Refused { attempts, rate_limited, last: failure });
            }
            Verdict::Retry if rate_limited >= MAX_RATE_LIMITED => {
                return Err(DeliveryError::Exhausted { attempts, rate_limited, last: failure });
            }
            Verdict::Retry if !throttled && attempts - rate_limited >= policy.max_attempts.get() => {
                return Err(DeliveryError::Exhausted { attempts, rate_limited, last: failure });
            }
            Verdict::Retry => {
                let wait = wait_hint.unwrap_or_else(|| backoff.next().unwrap_or(policy.cap));
                if Instant::now() + wait >= stop_at {
                    return Err(DeliveryError::Deadline { attempts, rate_limited, last: failure });
                }
                tokio::time::sleep(wait).await;
                last = Some(failure);
            }
        }
    }
}

/// The service's answer: a delivery, or the status, any `Retry-After`, and the failure to report.
async fn read<C: Channel + ?Sized>(
    response: reqwest::Response,
    channel: &C,
    url: &WebhookUrl,
    attempts: u32,
) -> Result<Delivery, (reqwest::StatusCode, Option<Duration>, Failure)> {
    let status = response.status();
    let hint = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| retry::retry_after(value, chrono::Utc::now()));
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        let accepted = channel.accepted(&text);
        return Ok(Delivery {
            attempts,
            status: status.as_u16(),
            message_name: accepted.message,
            thread_name: accepted.thread,
            rate_limited: 0,
        });
    }
    let reason = channel
        .refusal(&text)
        .map(|message| url.scrub(&message).chars().take(300).collect())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("unknown status").to_owned());
    Err((status, hint, Failure::Status { status: status.as_u16(), reason }))
}

fn network_failure(error: reqwest::Error, timeout: Duration) -> (Outcome, Option<Duration>, Failure) {
    let error = error.without_url();
    if error.is_timeout() {
        (Outcome::Timeout, None, Failure::Timeout(timeout))
    } else if error.is_connect() {
        (Outcome::Connect, None, Failure::Network { kind: "could not connect", source: error })
    } else {
        (Outcome::Transport, None, Failure::Network { kind: "connection broken", source: error })
    }
}
