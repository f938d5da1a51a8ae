//! Links from a card into the AWS console: the event in the AWS Health dashboard of the partition
//! its ARN names (`arn:aws:…`, `arn:aws-us-gov:…`, `arn:aws-cn:…`). A partition delibird does not
//! know gets no link rather than one into the wrong cloud. No I/O here.

use super::model::{Body, Fold, Section};
use crate::health::EventArn;
use crate::partition::Partition;

/// Longest link delibird puts on a button: longer ones come only from malformed ARNs.
const MAX_LINK_CHARS: usize = 2_000;

/// The AWS Health dashboard's event log, showing one event's details: the route the dashboard
/// itself opens an event under, `#/account/event-log?eventID=ARN&eventTab=details`, the ARN
/// form-urlencoded.
const EVENT_ROUTE: &str = "/health/home#/account/event-log?eventID=";

/// What follows the event's ARN: open its details tab.
const EVENT_TAB: &str = "&eventTab=details";

/// Where a partition's Health dashboard is.
///
/// - `aws`: `https://health.aws.amazon.com`, the dashboard's own host (the AWS Health User Guide
///   opens it at `https://health.aws.amazon.com/health/home`).
/// - `aws-us-gov` and `aws-cn`: AWS documents no dashboard host of their own, only their consoles
///   (the GovCloud (US) User Guide: `https://console.amazonaws-us-gov.com`; Getting Started with
///   Amazon Web Services in China: `https://console.amazonaws.cn`). A console serves each service
///   under its name (`/iam`, `/systems-manager/…`, as the GovCloud guide links them; `/health` for
///   AWS Health, as `https://console.aws.amazon.com/health/home` is in the commercial cloud) and
///   takes it on to that partition's dashboard, the same application with the same routes.
fn dashboard(partition: Partition) -> String {
    match partition {
        Partition::Aws => "https://health.aws.amazon.com".to_owned(),
        Partition::AwsUsGov | Partition::AwsCn => format!("https://{}", partition.console_host()),
    }
}

/// The event in its partition's AWS Health dashboard, or `None` for text that is not an ARN of a
/// partition delibird knows (see [`dashboard`]).
pub fn event_link(arn: &EventArn) -> Option<String> {
    let partition = Partition::of_arn(arn.as_str())?;
    let id: String = url::form_urlencoded::byte_serialize(arn.as_str().as_bytes()).collect();
    let link = format!("{}{EVENT_ROUTE}{id}{EVENT_TAB}", dashboard(partition));
    (link.len() <= MAX_LINK_CHARS).then_some(link)
}

/// The card's last section: its "Open in AWS Health" button, when the event has a link.
pub fn link_section(arn: &EventArn) -> Option<Section> {
    event_link(arn).map(|url| Section {
        header: None,
        fold: Fold::Open,
        body: Body::Link { label: "Open in AWS Health", url },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(arn: &str) -> Option<String> {
        event_link(&EventArn::new(arn))
    }

    #[test]
    fn a_commercial_event_opens_in_the_health_dashboard() {
        assert_eq!(
            link("arn:aws:health:us-east-1::event/EC2/X/Y").as_deref(),
            Some(
                "https://health.aws.amazon.com/health/home#/account/event-log?eventID=\
                 arn%3Aaws%3Ahealth%3Aus-east-1%3A%3Aevent%2FEC2%2FX%2FY&eventTab=details"
            )
        );
    }

    #[test]
    fn a_govcloud_event_opens_in_the_govcloud_console() {
        assert_eq!(
            link("arn:aws-us-gov:health:us-gov-west-1::event/EC2/X/Y").as_deref(),
            Some(
                "https://console.amazonaws-us-gov.com/health/home#/account/event-log?eventID=\
                 arn%3Aaws-us-gov%3Ahealth%3Aus-gov-west-1%3A%3Aevent%2FEC2%2FX%2FY&eventTab=details"
            )
        );
    }

    #[test]
    fn a_china_event_opens_in_the_china_console() {
        assert_eq!(
            link("arn:aws-cn:health:cn-northwest-1::event/EC2/X/Y").as_deref(),
            Some(
                "https://console.amazonaws.cn/health/home#/account/event-log?eventID=\
                 arn%3Aaws-cn%3Ahealth%3Acn-northwest-1%3A%3Aevent%2FEC2%2FX%2FY&eventTab=details"
            )
        );
    }

    #[test]
    fn an_unknown_partition_gets_no_link_rather_than_a_wrong_one() {
        for arn in [
            "arn:aws-iso:health:us-iso-east-1::event/EC2/X/Y",
            "arn:aws-iso-b:health:us-isob-east-1::event/EC2/X/Y",
            "arn:Aws:health:us-east-1::event/EC2/X/Y",
            "arn::health:us-east-1::event/EC2/X/Y",
            "not an arn",
        ] {
            assert_eq!(link(arn), None, "{arn}");
        }
    }

    #[test]
    fn a_link_longer_than_a_button_takes_is_left_out() {
        assert_eq!(link(&format!("arn:aws:health:us-east-1::event/{}", "X".repeat(MAX_LINK_CHARS))), None);
    }
}
