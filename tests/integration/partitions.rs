//! Cards of GovCloud and China events link into their own partition's AWS Health dashboard, and
//! an event of a partition delibird does not know gets no link rather than a wrong one.

use delibird::accounts::EnrichedEvent;
use delibird::card::CardSettings;
use delibird::chat;
use delibird::health::{self, Checked};
use serde_json::{Value, json};

use crate::support::chat_schema::assert_message_accepted;
use crate::support::fixture;

/// Every link of the card of the public EC2 issue fixture, its event ARN moved into `partition`.
fn links_in(partition: &str) -> Vec<String> {
    let mut raw = fixture("health-events/awsdocs-public-ec2-operational-issue-af-south-1.json");
    let arn = raw["detail"]["eventArn"].as_str().unwrap().replacen("arn:aws:", &format!("arn:{partition}:"), 1);
    raw["detail"]["eventArn"] = json!(arn);
    let Checked { event, problems } = health::check(&raw);
    let message = chat::message(&EnrichedEvent::bare(event), problems.as_ref(), &CardSettings::default());
    let mut links = Vec::new();
    collect_links(&assert_message_accepted(&message), &mut links);
    links
}

fn collect_links(value: &Value, links: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            if let Some(url) = members.get("openLink").and_then(|link| link["url"].as_str()) {
                links.push(url.to_owned());
            }
            members.values().for_each(|member| collect_links(member, links));
        }
        Value::Array(items) => items.iter().for_each(|item| collect_links(item, links)),
        _ => {}
    }
}

#[test]
fn a_govcloud_events_card_opens_it_in_the_govcloud_console() {
    let links = links_in("aws-us-gov");
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(
        links[0].starts_with(
            "https://console.amazonaws-us-gov.com/health/home#/account/event-log?eventID=arn%3Aaws-us-gov%3Ahealth%3A"
        ),
        "{links:?}"
    );
}

#[test]
fn a_china_events_card_opens_it_in_the_china_console() {
    let links = links_in("aws-cn");
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(
        links[0].starts_with(
            "https://console.amazonaws.cn/health/home#/account/event-log?eventID=arn%3Aaws-cn%3Ahealth%3A"
        ),
        "{links:?}"
    );
}

#[test]
fn an_event_of_a_partition_delibird_does_not_know_has_no_link_on_its_card() {
    assert_eq!(links_in("aws-iso"), Vec::<String>::new());
    assert_eq!(links_in("aws").len(), 1, "the commercial event keeps its button");
}
