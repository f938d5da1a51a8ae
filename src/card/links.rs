//! Links from a card into the AWS console.

use crate::health::EventArn;

/// Longest link delibird puts on a button: longer ones come only from malformed ARNs.
const MAX_LINK_CHARS: usize = 2_000;

/// The event in the account's AWS Health dashboard, or `None` for text that is not a plausible ARN.
pub fn event_link(arn: &EventArn) -> Option<String> {
    if !arn.as_str().starts_with("arn:") {
        return None;
    }
    let id: String = url::form_urlencoded::byte_serialize(arn.as_str().as_bytes()).collect();
    let link = format!("https://health.aws.amazon.com/health/home#/account/event-log?eventID={id}&eventTab=details");
    (link.len() <= MAX_LINK_CHARS).then_some(link)
}
