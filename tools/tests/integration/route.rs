//! `delibird route`'s check that every webhook its rules name can be had where it runs, as the
//! Lambda must at start: exit 2 naming each that cannot, never printing a URL; `--no-webhook-check`
//! for the matching alone.

use std::net::TcpListener;
use std::process::Command;

use crate::cli::{delibird, health_fixture_path, run, scratch, write};

const RULES: &str = r#"
default = "platform"

[webhooks]
platform = "env:DELIBIRD_WEBHOOK_PLATFORM"
oncall = "env:DELIBIRD_WEBHOOK_ONCALL"
pager = "ssm:/delibird/webhooks/pager"

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall", "pager"]
"#;

/// A Google Chat webhook URL whose token must never be printed.
const URL: &str = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY-1&token=ROUTE-TOKEN-42";

/// `route` over one event with `RULES`, AWS pointed at a port where nothing answers.
fn route(test: &str) -> Command {
    let dir = scratch(test);
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = delibird();
    command
        .args(["route", "--rules"])
        .arg(write(&dir, "rules.toml", RULES))
        .arg(health_fixture_path("seed-project-health101.json"))
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1");
    command
}

#[test]
fn route_exits_2_naming_each_webhook_that_cannot_be_had_here_and_no_url() {
    let out =
        run(route("route-unresolved").env("DELIBIRD_WEBHOOK_ONCALL", "https://example.com/hook?token=ROUTE-TOKEN-42"));

    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stdout, "", "nothing is routed with webhooks the Lambda could not start with");
    let lines: Vec<&str> = out.stderr.lines().filter(|line| line.contains(": webhook \"")).collect();
    assert_eq!(lines.len(), 3, "{}", out.stderr);
    for shown in [
        "rules.toml: webhook \"oncall\": DELIBIRD_WEBHOOK_ONCALL: the webhook must be https://chat.googleapis.com/…",
        "rules.toml: webhook \"pager\": cannot read SSM parameter /delibird/webhooks/pager: ",
        "rules.toml: webhook \"platform\": environment variable DELIBIRD_WEBHOOK_PLATFORM is not set",
        "rules.toml: the Lambda would not start with these webhooks here; --no-webhook-check shows the matching alone",
    ] {
        assert!(out.stderr.contains(shown), "missing {shown:?} in:\n{}", out.stderr);
    }
    assert!(!out.stderr.contains("ROUTE-TOKEN-42"), "{}", out.stderr);
}

#[test]
fn route_names_the_environments_default_webhook_when_it_cannot_be_had() {
    let out = run(route("route-default")
        .env("DELIBIRD_WEBHOOK_SECRET", "ssm:/delibird/webhook")
        .env("DELIBIRD_WEBHOOK_PLATFORM", URL)
        .env("DELIBIRD_WEBHOOK_ONCALL", URL));

    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("webhook \"default\": cannot read SSM parameter /delibird/webhook: "),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("DELIBIRD_WEBHOOK_URL is not set"), "it is set, and failed: {}", out.stderr);
}

#[test]
fn route_routes_once_every_webhook_can_be_had_and_never_prints_a_url() {
    let dir = scratch("route-resolved");
    let rules = RULES.replace("pager = \"ssm:/delibird/webhooks/pager\"", "pager = \"env:DELIBIRD_WEBHOOK_PAGER\"");
    let out = run(delibird()
        .args(["route", "--rules"])
        .arg(write(&dir, "rules.toml", rules))
        .arg(health_fixture_path("seed-project-health101.json"))
        .env("DELIBIRD_WEBHOOK_PLATFORM", URL)
        .env("DELIBIRD_WEBHOOK_ONCALL", URL)
        .env("DELIBIRD_WEBHOOK_PAGER", URL));

    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("unmatched\t"), "{}", out.stdout);
    assert!(out.stdout.trim_end().ends_with("rules=\twebhooks=platform"), "{}", out.stdout);
    assert!(!out.stdout.contains("ROUTE-TOKEN-42") && !out.stderr.contains("ROUTE-TOKEN-42"), "{out:?}");
}

#[test]
fn route_with_no_webhook_check_shows_the_matching_alone() {
    let out = run(route("route-matching-only").arg("--no-webhook-check"));

    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.trim_end().ends_with("rules=\twebhooks=platform"), "{}", out.stdout);
}
