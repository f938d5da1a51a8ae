//! What the command line reads and how it says it cannot: no input while stdin is a terminal, a
//! queue that is not named by its URL, and the AWS CLI's own output as events.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::cli::{Run, delibird, run};
use crate::support::fixtures_dir;

/// `delibird ARGS` with a terminal for stdin (util-linux's `script` gives it one), killed after 10
/// seconds if it waits; `None` where `script` is not installed.
fn on_a_terminal(args: &str) -> Option<Run> {
    let binary = env!("CARGO_BIN_EXE_delibird");
    let found = Command::new("script").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !found.is_ok_and(|status| status.success()) {
        eprintln!("skipped: util-linux's script is not installed");
        return None;
    }
    let command = format!("timeout 10 {binary} {args}");
    Some(run(Command::new("script").args(["-q", "-e", "-c", &command, "/dev/null"]).env("NO_COLOR", "1")))
}

#[test]
fn render_and_preview_on_a_terminal_print_their_usage_instead_of_waiting() {
    for command in ["render", "preview"] {
        let Some(out) = on_a_terminal(command) else { return };

        assert_eq!(out.code, 2, "{command}: {}{}", out.stdout, out.stderr);
        let shown = out.stdout.replace('\r', "");
        assert!(
            shown.contains(&format!("no events to read: name files of events (delibird {command} FILE...)")),
            "{shown}"
        );
        assert!(shown.contains(&format!("Usage: delibird {command} ")), "{shown}");
    }
}

#[test]
fn redrive_refuses_a_queue_name_saying_what_it_takes() {
    let out = run(delibird().args(["redrive", "--queue-url", "delibird-dlq"]));

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "delibird: --queue-url: expected the queue's URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME \
         (`aws sqs get-queue-url --queue-name NAME` prints it), found \"delibird-dlq\"\n"
    );
    assert!(out.stdout.is_empty());
}

fn health_api(name: &str) -> std::path::PathBuf {
    fixtures_dir().join("health-api").join(name)
}

#[test]
fn render_joins_the_aws_clis_event_details_and_affected_entities_given_as_two_files() {
    let out = run(delibird()
        .arg("render")
        .arg(health_api("awscli-describe-event-details-ec2-operational-issue.json"))
        .arg(health_api("derived-describe-affected-entities-ec2-operational-issue.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    let bodies: Vec<Value> = out.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(bodies.len(), 1, "{}", out.stdout);
    let card = bodies[0].to_string();
    for shown in ["EC2 operational issue", "i-0abc1111example1", "payments-api-1", "us-east-1", "123456789012"] {
        assert!(card.contains(shown), "{shown} missing from {card}");
    }
}

#[test]
fn affected_entities_whose_event_is_not_given_are_refused_saying_what_to_add() {
    let out = run(delibird()
        .arg("render")
        .arg(health_api("awscli-describe-event-details-ec2-operational-issue.json"))
        .arg(health_api("awscli-describe-affected-entities-billing-notification.json")));

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "the event given still renders: {}", out.stdout);
    assert!(
        out.stderr.contains(
            "awscli-describe-affected-entities-billing-notification.json: affected entities of \
             arn:aws:health:global::event/BILLING/AWS_BILLING_NOTIFICATION/"
        ) && out.stderr.contains("give `aws health describe-event-details` for it too"),
        "{}",
        out.stderr
    );
}

#[test]
fn query_reads_describe_events_output_and_compares_its_times_as_times() {
    let out = run(delibird()
        .args([
            "query",
            "--json",
            "SELECT detail.eventRegion AS region, delibird.startTime AS started FROM health \
             WHERE detail.startTime >= '2020-03-15' ORDER BY detail.startTime",
        ])
        .arg(health_api("awscli-describe-events-ec2-closed.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"region\":\"us-east-1\",\"started\":\"2020-04-09T22:57:24Z\"}\n\
         {\"region\":\"us-east-1\",\"started\":\"2020-04-21T09:45:25Z\"}\n"
    );
}

#[test]
fn preview_joins_the_aws_clis_event_details_and_affected_entities_given_as_two_files() {
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("delibird-inputs").join("preview-two-files");
    let _ = std::fs::remove_dir_all(&out_dir);

    let out = run(delibird()
        .arg("preview")
        .arg("--out")
        .arg(&out_dir)
        .arg(health_api("awscli-describe-event-details-ec2-operational-issue.json"))
        .arg(health_api("derived-describe-affected-entities-ec2-operational-issue.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, format!("{} (1 message)\n", out_dir.join("preview.html").display()));
    let page = std::fs::read_to_string(out_dir.join("preview.html")).unwrap();
    for shown in ["EC2 operational issue", "i-0abc1111example1", "payments-api-1"] {
        assert!(page.contains(shown), "{shown} missing from the page");
    }
}
