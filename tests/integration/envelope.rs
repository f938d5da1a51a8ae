//! Stage 1, `envelope::parse`: every shape AWS delivers Health events in yields its events with
//! the right count and locations, and input without events is a clear error, never a panic.

use delibird::envelope::{self, EnvelopeError, Record, RecordError, sns_event};
use serde_json::{Value, json};

use crate::support::{fixture, fixtures_dir, health_event_files};

const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:delibird-health";

/// The events in a Health event fixture: one for a delivered event, one per entry for the
/// PutEvents samples.
fn fixture_events(name: &str, bytes: &[u8]) -> Vec<Value> {
    let records = envelope::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    records.into_iter().map(|r| r.event.unwrap_or_else(|e| panic!("{name}: {e}"))).collect()
}

/// Every event of every Health event fixture, in file order.
fn all_fixture_events() -> Vec<Value> {
    health_event_files().iter().flat_map(|(name, bytes)| fixture_events(name, bytes)).collect()
}

fn parse_json(value: &Value) -> Vec<Record> {
    envelope::parse(value.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}: {value}"))
}

fn locations(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| r.location.to_string()).collect()
}

fn event_of(record: &Record) -> &Value {
    record.event.as_ref().unwrap_or_else(|e| panic!("{}: {e}", record.location))
}

/// An SNS notification as SNS posts it to SQS queues and HTTP endpoints (note `SigningCertURL`).
fn sns_notification(message: &str, message_id: &str) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC,
        "Message": message,
        "Timestamp": "2024-07-13T15:34:40.123Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkk=",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ec.pem",
        "UnsubscribeURL": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:2bcf")
    })
}

/// A Lambda SQS event with one record per body, as Lambda's event source mapping delivers it.
fn sqs_event(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({
                "messageId": sqs_message_id(i),
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a/Sl9wr0Kt4sGMCBo3GMCMhjN0A5m8UvIjEMRoi9ZvFeEfcm2",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1720884880123",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1720884880130"
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:delibird-health",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

fn sqs_message_id(i: usize) -> String {
    format!("059f36b4-87a3-44ab-83d2-{i:012}")
}

#[test]
fn an_sns_event_around_each_fixture_yields_that_fixtures_event() {
    for (name, bytes) in health_event_files() {
        for event in fixture_events(&name, &bytes) {
            let records = parse_json(&sns_event([&event], TOPIC));
            assert_eq!(locations(&records), ["Records[0].Sns.Message"], "{name}");
            assert_eq!(event_of(&records[0]), &event, "{name}");
            assert_eq!(records[0].message_id.as_deref(), Some("00000000-0000-4000-8000-000000000000"), "{name}");
        }
    }
}

#[test]
fn an_sns_event_with_many_records_yields_every_event_in_order() {
    let events = all_fixture_events();
    let records = parse_json(&sns_event(&events, TOPIC));
    let expected: Vec<String> = (0..events.len()).map(|i| format!("Records[{i}].Sns.Message")).collect();
    assert_eq!(locations(&records), expected);
    let found: Vec<&Value> = records.iter().map(event_of).collect();
    assert_eq!(found, events.iter().collect::<Vec<_>>());
}

#[test]
fn an_sns_message_holding_pretty_printed_json_is_read() {
    let event = fixture("health-events/seed-project-health107.json");
    let mut lambda_event = sns_event([&event], TOPIC);
    let pretty = serde_json::to_string_pretty(&event).unwrap();
    assert!(pretty.contains('\n'));
    lambda_event["Records"][0]["Sns"]["Message"] = Value::String(pretty);
    let records = parse_json(&lambda_event);
    assert_eq!(locations(&records), ["Records[0].Sns.Message"]);
    assert_eq!(event_of(&records[0]), &event);
}

#[test]
fn verbatim_sns_envelopes_without_health_events_give_per_record_errors_not_a_failure() {
    let cases = [
        ("aws-lambda-go-sns-event-with-message-attributes.json", "not json"),
        ("rust-aws_lambda_events-example-sns-event.json", "not json"),
        ("rust-aws_lambda_events-example-sns-event-pascal-case.json", "not json"),
        ("rust-aws_lambda_events-example-sns-event-obj-json-message.json", "not an event"),
    ];
    for (file, expected) in cases {
        let bytes = std::fs::read(fixtures_dir().join("sns-envelopes").join(file)).unwrap();
        let records = envelope::parse(&bytes).unwrap_or_else(|e| panic!("{file}: parse failed as a whole: {e}"));
        assert_eq!(locations(&records), ["Records[0].Sns.Message"], "{file}");
        match (&records[0].event, expected) {
            (Err(RecordError::NotJson { location, .. }), "not json")
            | (Err(RecordError::NotAnEvent { location }), "not an event") => {
                assert_eq!(location.to_string(), "Records[0].Sns.Message", "{file}");
            }
            (other, _) => panic!("{file}: expected {expected}, got {other:?}"),
        }
    }
}

#[test]
fn an_sns_record_keeps_its_message_id() {
    let bytes =
        std::fs::read(fixtures_dir().join("sns-envelopes/aws-lambda-go-sns-event-with-message-attributes.json"))
            .unwrap();
    let records = envelope::parse(&bytes).unwrap();
    assert_eq!(records[0].message_id.as_deref(), Some("95df01b4-ee98-5cb9-9903-4c221d41eb5e"));
}

#[test]
fn an_sqs_event_whose_bodies_are_sns_notifications_yields_the_events() {
    let events = [
        fixture("health-events/awsdocs-public-ec2-operational-issue-af-south-1.json"),
        fixture("health-events/seed-project-health103.json"),
    ];
    let bodies: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(i, e)| sns_notification(&e.to_string(), &format!("sns-message-{i}")).to_string())
        .collect();
    let records = parse_json(&sqs_event(&bodies));
    assert_eq!(locations(&records), ["Records[0].body.Message", "Records[1].body.Message"]);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(event_of(record), &events[i]);
        assert_eq!(record.message_id, Some(sqs_message_id(i)), "the SQS message id names the record");
    }
}

#[test]
fn an_sqs_event_whose_bodies_are_eventbridge_events_yields_the_events() {
    let events = [
        fixture("health-events/seed-project-health105.json"),
        fixture("health-events/aws-health-tools-risk-credentials-exposed.json"),
    ];
    let bodies: Vec<String> = events.iter().map(Value::to_string).collect();
    let records = parse_json(&sqs_event(&bodies));
    assert_eq!(locations(&records), ["Records[0].body", "Records[1].body"]);
    assert_eq!(event_of(&records[0]), &events[0]);
    assert_eq!(event_of(&records[1]), &events[1]);
}

#[test]
fn an_sns_http_notification_body_yields_its_event() {
    let event = fixture("health-events/awsdocs-account-specific-elb-api-issue.json");
    let body = sns_notification(&event.to_string(), "da41e39f-ea4d-435a-b922-c6aae3915ebe");
    let records = parse_json(&body);
    assert_eq!(locations(&records), ["Message"]);
    assert_eq!(event_of(&records[0]), &event);
    assert_eq!(records[0].message_id.as_deref(), Some("da41e39f-ea4d-435a-b922-c6aae3915ebe"));
}

#[test]
fn a_direct_eventbridge_event_is_one_record_at_the_root() {
    let event = fixture("health-events/seed-project-health101.json");
    let records = parse_json(&event);
    assert_eq!(locations(&records), ["$"]);
    assert!(records[0].location.is_root());
    assert_eq!(event_of(&records[0]), &event);
}

#[test]
fn a_json_array_of_events_yields_one_record_per_element() {
    let events = vec![
        fixture("health-events/seed-project-health105.json"),
        fixture("health-events/seed-project-health106.json"),
        fixture("health-events/seed-project-health107.json"),
    ];
    let records = parse_json(&Value::Array(events.clone()));
    assert_eq!(locations(&records), ["[0]", "[1]", "[2]"]);
    let found: Vec<&Value> = records.iter().map(event_of).collect();
    assert_eq!(found, events.iter().collect::<Vec<_>>());
}

#[test]
fn putevents_entries_become_the_events_eventbridge_would_deliver() {
    for file in [
        "aws-health-tools-putevents-entry-ebs-volume-lost.json",
        "aws-health-tools-putevents-entry-ecs-task-patching-retirement.json",
    ] {
        let entries = fixture(&format!("health-events/{file}"));
        let entry = &entries[0];
        let records = parse_json(&entries);
        assert_eq!(locations(&records), ["[0]"], "{file}");
        let event = event_of(&records[0]);
        let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
        assert_eq!(event["detail"], detail, "{file}");
        assert_eq!(event["detail-type"], entry["DetailType"], "{file}");
        assert_eq!(event["source"], entry["Source"], "{file}");
        assert_eq!(event["resources"], entry["Resources"], "{file}");
    }
}

#[test]
fn a_whole_putevents_request_yields_one_record_per_entry() {
    let mut entries = fixture("health-events/aws-health-tools-putevents-entry-ebs-volume-lost.json");
    let other = fixture("health-events/aws-health-tools-putevents-entry-ecs-task-patching-retirement.json");
    entries.as_array_mut().unwrap().push(other[0].clone());
    let records = parse_json(&json!({ "Entries": entries }));
    assert_eq!(locations(&records), ["Entries[0]", "Entries[1]"]);
    assert!(records.iter().all(|r| r.event.is_ok()));
}

#[test]
fn one_bad_record_does_not_hide_the_others() {
    let good = fixture("health-events/seed-project-health101.json");
    let mut lambda_event = sns_event([&good, &good, &good], TOPIC);
    lambda_event["Records"][1]["Sns"]["Message"] = json!("{\"detail\": oops");
    let records = parse_json(&lambda_event);
    assert_eq!(locations(&records), ["Records[0].Sns.Message", "Records[1].Sns.Message", "Records[2].Sns.Message"]);
    assert_eq!(event_of(&records[0]), &good);
    match &records[1].event {
        Err(RecordError::NotJson { location, .. }) => assert_eq!(location.to_string(), "Records[1].Sns.Message"),
        other => panic!("expected a record that is not JSON, got {other:?}"),
    }
    assert_eq!(event_of(&records[2]), &good);
}

#[test]
fn an_sns_record_missing_its_required_fields_is_a_bad_transport_record() {
    let good = fixture("health-events/seed-project-health101.json");
    let mut lambda_event = sns_event([&good, &good], TOPIC);
    lambda_event["Records"][0]["Sns"].as_object_mut().unwrap().remove("TopicArn");
    let records = parse_json(&lambda_event);
    assert_eq!(locations(&records), ["Records[0]", "Records[1].Sns.Message"]);
    match &records[0].event {
        Err(RecordError::BadTransport { location, kind, reason }) => {
            assert_eq!(location.to_string(), "Records[0]");
            assert_eq!(*kind, "SNS");
            assert!(reason.contains("TopicArn"), "{reason}");
        }
        other => panic!("expected a bad SNS record, got {other:?}"),
    }
    assert_eq!(event_of(&records[1]), &good);
}

#[test]
fn a_record_error_names_its_location_in_its_message() {
    let lambda_event = sns_event([&json!({"hello": "world"})], TOPIC);
    let records = parse_json(&lambda_event);
    let error = records[0].event.as_ref().unwrap_err();
    assert!(matches!(error, RecordError::NotAnEvent { .. }), "{error:?}");
    assert!(error.to_string().starts_with("Records[0].Sns.Message: "), "{error}");
}

#[test]
fn input_that_is_not_json_is_an_error() {
    let error = envelope::parse(b"Subject: AWS Health Event\n\nnot json").unwrap_err();
    assert!(matches!(error, EnvelopeError::NotJson(_)), "{error:?}");
    assert!(error.to_string().starts_with("input is not JSON"), "{error}");
}

#[test]
fn json_that_holds_no_event_is_an_error() {
    for input in ["{}", "42", "\"text\"", "null", r#"{"hello": "world"}"#] {
        let error = envelope::parse(input.as_bytes()).unwrap_err();
        assert!(matches!(error, EnvelopeError::NoEvent), "{input}: {error:?}");
        assert!(error.to_string().contains("holds no AWS Health event"), "{input}: {error}");
    }
}

#[test]
fn an_empty_array_is_an_empty_envelope_at_the_root() {
    let error = envelope::parse(b"[]").unwrap_err();
    assert!(matches!(&error, EnvelopeError::Empty(path) if path.is_root()), "{error:?}");
    assert_eq!(error.to_string(), "the envelope at $ holds no records");
}

#[test]
fn an_empty_records_list_is_an_empty_envelope_at_records() {
    let error = envelope::parse(br#"{"Records": []}"#).unwrap_err();
    assert!(matches!(&error, EnvelopeError::Empty(path) if path.to_string() == "Records"), "{error:?}");
    assert_eq!(error.to_string(), "the envelope at Records holds no records");
}

// What the AWS CLI prints for the Health API (tests/fixtures/health-api/).

/// `value`'s records, each event validated as the pipeline would.
fn validated(value: &Value) -> Vec<delibird::health::HealthEvent> {
    parse_json(value)
        .iter()
        .map(|record| delibird::health::validate(event_of(record)).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Two JSON objects as one, as `jq -s add` joins them.
fn joined(a: Value, b: Value) -> Value {
    let (Value::Object(mut a), Value::Object(b)) = (a, b) else { panic!("objects") };
    a.extend(b);
    Value::Object(a)
}

#[test]
fn describe_event_details_output_becomes_the_event_eventbridge_would_deliver() {
    let records = parse_json(&fixture("health-api/awscli-describe-event-details-ec2-operational-issue.json"));

    assert_eq!(locations(&records), ["successfulSet[0]"]);
    let event = event_of(&records[0]);
    assert_eq!(
        (&event["source"], &event["detail-type"], &event["region"]),
        (&json!("aws.health"), &json!("AWS Health Event"), &json!("us-east-1"))
    );
    assert_eq!(event["time"], "2020-04-21T10:16:44Z");
    let detail = &event["detail"];
    assert_eq!(
        detail["eventArn"],
        "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_VKTXI_EXAMPLE111"
    );
    assert_eq!((&detail["eventRegion"], &detail["statusCode"]), (&json!("us-east-1"), &json!("closed")));
    assert_eq!(detail["startTime"], "Tue, 21 Apr 2020 09:45:25 GMT");
    assert_eq!(detail["endTime"], "Tue, 21 Apr 2020 10:16:44 GMT");
    assert_eq!(detail["eventDescription"][0]["language"], "en_US");
    assert!(detail["eventDescription"][0]["latestDescription"].as_str().unwrap().starts_with("[RESOLVED]"));
    let [validated] =
        validated(&fixture("health-api/awscli-describe-event-details-ec2-operational-issue.json")).try_into().unwrap();
    assert_eq!(validated.type_code, "AWS_EC2_OPERATIONAL_ISSUE");
}

#[test]
fn affected_entities_in_the_same_document_join_their_event_by_arn() {
    let both = joined(
        fixture("health-api/awscli-describe-event-details-ec2-operational-issue.json"),
        fixture("health-api/derived-describe-affected-entities-ec2-operational-issue.json"),
    );
    let records = parse_json(&both);

    assert_eq!(records.len(), 1, "{:?}", locations(&records));
    let event = event_of(&records[0]);
    assert_eq!(event["account"], "123456789012");
    assert_eq!(event["detail"]["affectedAccount"], "123456789012");
    assert_eq!(event["resources"], json!(["i-0abc1111example1", "i-0abc2222example2"]));
    assert_eq!(
        event["detail"]["affectedEntities"][0],
        json!({"entityValue": "i-0abc1111example1", "entityArn": "arn:aws:health:us-east-1:123456789012:entity/EXAMPLEi0abc1111",
               "status": "RESOLVED", "lastUpdatedTime": "Tue, 21 Apr 2020 10:16:44 GMT", "tags": {"Name": "payments-api-1"}})
    );
    assert_eq!(validated(&both)[0].entities.len(), 2);
}

#[test]
fn cli_v2_times_read_alike_and_a_failed_event_is_a_record_error_naming_it() {
    let records = parse_json(&fixture("health-api/derived-describe-event-details-billing-notification-cli-v2.json"));

    assert_eq!(locations(&records), ["successfulSet[0]", "failedSet[0]"]);
    let detail = &event_of(&records[0])["detail"];
    assert_eq!(
        (&detail["startTime"], &detail["lastUpdatedTime"]),
        (&json!("Fri, 01 May 2020 18:00:00 GMT"), &json!("Fri, 01 May 2020 18:08:44 GMT"))
    );
    assert!(detail.get("eventMetadata").is_none(), "an empty map is left out");
    let Err(error @ RecordError::NotDescribed { event_arn: Some(arn), .. }) = &records[1].event else {
        panic!("{:?}", records[1].event)
    };
    assert!(arn.ends_with("AWS_EBS_LOST_VOLUME_CHI789_JKL101"));
    assert!(
        error
            .to_string()
            .starts_with("failedSet[0]: AWS Health could not describe arn:aws:health:us-west-1::event/EBS/"),
        "{error}"
    );
}

#[test]
fn entities_of_an_event_the_document_does_not_describe_are_a_record_error() {
    let mismatched = joined(
        fixture("health-api/awscli-describe-event-details-ec2-operational-issue.json"),
        fixture("health-api/awscli-describe-affected-entities-billing-notification.json"),
    );
    let records = parse_json(&mismatched);

    assert_eq!(locations(&records), ["successfulSet[0]", "entities[0]"]);
    assert!(
        matches!(&records[1].event, Err(RecordError::UnmatchedEntities { event_arn, .. }) if event_arn.contains("BILLING"))
    );
}

#[test]
fn affected_entities_alone_are_an_error_saying_how_to_give_their_event_too() {
    let alone = fixture("health-api/awscli-describe-affected-entities-billing-notification.json");
    let error = envelope::parse(alone.to_string().as_bytes()).unwrap_err();

    assert!(matches!(error, EnvelopeError::EntitiesOnly), "{error:?}");
    assert!(error.to_string().contains("jq -s add details.json entities.json"), "{error}");
}

#[test]
fn describe_events_output_yields_one_event_each() {
    let events = validated(&fixture("health-api/awscli-describe-events-ec2-closed.json"));

    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|event| event.service.as_deref() == Some("EC2")));
}

#[test]
fn a_bare_detail_object_is_read_as_the_event_around_it() {
    let original = fixture("health-events/awsdocs-ec2-instance-retirement-scheduled-metadata-actionability.json");
    let records = parse_json(&fixture("health-api/derived-bare-detail-ec2-instance-retirement.json"));

    assert_eq!(locations(&records), ["$"]);
    assert_eq!(event_of(&records[0])["detail"], original["detail"]);
    assert_eq!(event_of(&records[0])["source"], "aws.health");
}
