//! `delibird query` (SQL over event files) and `delibird route` (the routing rules' dry run), as a
//! person runs them: their output and exit codes.

use std::path::{Path, PathBuf};

use delibird::envelope::sns_event;
use serde_json::{Value, json};

use crate::cli::{delibird, run};
use crate::support::{fixture, fixtures_dir};

const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:delibird-health";

/// Every Health event fixture's path, sorted.
pub(crate) fn events() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir().join("health-events"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("delibird-query").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn query_prints_a_table_of_the_selected_fields() {
    let sql = "SELECT detail.eventTypeCode AS code, region FROM health \
               WHERE detail.service = 'EC2' AND detail.eventTypeCategory = 'issue' ORDER BY region, code";

    let out = run(delibird().arg("query").arg(sql).args(events()));

    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "code                                               region");
    assert!(lines[1].starts_with("-----") && lines[1].contains("  ------"), "{}", out.stdout);
    assert_eq!(lines[2], "AWS_EC2_OPERATIONAL_ISSUE                          af-south-1");
    assert_eq!(lines.last().unwrap(), &format!("({} rows)", lines.len() - 3));
}

#[test]
fn query_counts_open_issues_per_service_and_account_as_json_lines() {
    let sql = "SELECT detail.service, delibird.account.name AS account, COUNT(*) AS issues FROM health \
               WHERE detail.eventTypeCategory = 'issue' AND detail.statusCode = 'open' \
               GROUP BY detail.service, account ORDER BY issues DESC, detail.service LIMIT 3";

    let out = run(delibird()
        .env("DELIBIRD_ACCOUNT_ALIASES", r#"{"111122223333": "payments-prod", "123456789012": "sandbox"}"#)
        .args(["query", "--json", sql])
        .args(events()));

    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows: Vec<Value> = out.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(rows.len(), 3, "{}", out.stdout);
    assert_eq!(out.stdout.lines().next().unwrap().find("detail.service"), Some(2), "columns keep their order");
    let counts: Vec<u64> = rows.iter().map(|r| r["issues"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(rows.iter().any(|r| r["account"] == "payments-prod" || r["account"] == "sandbox"), "{rows:?}");
}

#[test]
fn query_reads_events_in_any_envelope_the_lambda_accepts() {
    let dir = scratch("envelopes");
    let a = fixture("health-events/seed-project-health101.json");
    let b = fixture("health-events/seed-project-health107.json");
    std::fs::write(dir.join("sns.json"), sns_event([&a, &b], TOPIC).to_string()).unwrap();
    std::fs::write(dir.join("archive.json"), json!([a, b]).to_string()).unwrap();

    let out = run(delibird()
        .args(["query", "--json", "SELECT detail.service, COUNT(*) AS n FROM health GROUP BY 1 ORDER BY 1"])
        .arg(dir.join("sns.json"))
        .arg(dir.join("archive.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "{\"detail.service\":\"ECS\",\"n\":2}\n{\"detail.service\":\"ELASTICLOADBALANCING\",\"n\":2}\n"
    );
}

#[test]
fn query_refuses_invalid_sql_with_where_it_went_wrong() {
    for (sql, shown) in [
        ("SELECT detail.service FROM health WHERE detail.service =", "line 1, column 57: Expected: an expression"),
        ("SELECT detail.service, COUNT(*) FROM health", "line 1, column 8: Expected: a GROUP BY expression"),
        ("SELECT region FROM health\nWHERE region LIKE 'us-%' AND", "line 2, column 29: Expected: an expression"),
        ("SELECT region FROM health WHERE region = \"us-east-1\"", "unknown field us-east-1"),
    ] {
        let out = run(delibird().arg("query").arg(sql).args(events()));

        assert_eq!(out.code, 2, "{sql}: {}", out.stderr);
        assert!(out.stderr.contains(shown), "{sql}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

const RULES: &str = r#"
default = "platform"

[webhooks]
platform = "env:DELIBIRD_WEBHOOK_PLATFORM"
oncall = "ssm:/delibird/webhooks/oncall"

[[rule]]
name = "lambda lifecycle is noise"
where = "detail.eventTypeCode = 'AWS_LAMBDA_PLANNED_LIFECYCLE_EVENT'"
webhooks = []
stop = true

[[rule]]
name = "critical to on-call"
where = "delibird.severity = 'critical'"
webhooks = ["oncall"]
"#;

#[test]
fn route_shows_the_rules_each_event_matches_and_where_it_would_go() {
    let dir = scratch("route");
    std::fs::write(dir.join("rules.toml"), RULES).unwrap();
    let files = [
        "aws-health-tools-risk-credentials-exposed.json",
        "seed-project-health101.json",
        "awsdocs-lambda-planned-lifecycle-multi-entities-page1-of-10.json",
    ];

    let out = run(delibird()
        .args(["route", "--json", "--no-webhook-check", "--rules"])
        .arg(dir.join("rules.toml"))
        .args(files.iter().map(|f| fixtures_dir().join("health-events").join(f))));

    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<Value> = out.stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let routes: Vec<(&Value, &Value, &Value)> =
        lines.iter().map(|l| (&l["rules"], &l["webhooks"], &l["unmatched"])).collect();
    assert_eq!(
        routes,
        [
            (&json!(["critical to on-call"]), &json!(["oncall"]), &json!(false)),
            (&json!([]), &json!(["platform"]), &json!(true)),
            (&json!(["lambda lifecycle is noise"]), &json!([]), &json!(false)),
        ]
    );

    let text = run(delibird()
        .env("DELIBIRD_RULES", dir.join("rules.toml"))
        .args(["route", "--no-webhook-check"])
        .arg(fixtures_dir().join("health-events").join(files[0])));
    assert!(text.stdout.starts_with("routed\t"), "{}", text.stdout);
    assert!(text.stdout.trim_end().ends_with("rules=critical to on-call\twebhooks=oncall"), "{}", text.stdout);
}

#[test]
fn route_refuses_bad_rules_naming_each_with_its_position() {
    let dir = scratch("route-bad");
    let rules = r#"
default = "platform"

[webhooks]
platform = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=K&token=SECRET-TOKEN-42"

[[rule]]
name = "typo"
where = "detail.service = 'EC2' AND NOT"
webhooks = ["platform"]

[[rule]]
name = "wrong severity"
where = "delibird.severity IN ('Critical', 'high')"
webhooks = ["pager"]
"#;
    std::fs::write(dir.join("rules.toml"), rules).unwrap();

    let out = run(delibird()
        .args(["route", "--rules"])
        .arg(dir.join("rules.toml"))
        .arg(fixtures_dir().join("health-events/seed-project-health101.json")));

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    for shown in [
        "webhook \"platform\": the value looks like a URL",
        "rule \"typo\" (line 9): where, line 1, column 28: Expected: an expression, found: NOT",
        "rule \"wrong severity\" (line 13): webhook \"pager\" is not in [webhooks]",
        "rule \"wrong severity\" (line 14): where, line 1, column 1: delibird.severity is one of critical, high, warning, info, never 'Critical'",
    ] {
        assert!(out.stderr.contains(shown), "missing {shown:?} in:\n{}", out.stderr);
    }
    assert!(!out.stderr.contains("SECRET-TOKEN-42"), "{}", out.stderr);
}

#[test]
fn query_refuses_an_unknown_detail_field_and_suggests_the_right_one() {
    let out = run(delibird()
        .args(["query", "SELECT detail.servce FROM health"])
        .arg(fixtures_dir().join("health-events/seed-project-health101.json")));

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "delibird: query: line 1, column 8: detail.servce is not a field: did you mean detail.service?\n"
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn route_refuses_a_rule_reading_an_unknown_detail_field_the_same_way() {
    let dir = scratch("route-schema");
    let rules = "drop_unmatched = true\n\n[[rule]]\nname = \"ec2\"\nwhere = \"detail.servce = 'EC2'\"\nwebhooks = []\n";
    std::fs::write(dir.join("rules.toml"), rules).unwrap();

    let out = run(delibird()
        .args(["route", "--rules"])
        .arg(dir.join("rules.toml"))
        .arg(fixtures_dir().join("health-events/seed-project-health101.json")));

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "rule \"ec2\" (line 5): where, line 1, column 1: detail.servce is not a field: did you mean detail.service?"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn query_prints_null_as_null_and_sorts_it_last_when_descending() {
    let dir = scratch("nulls");
    let with_end = fixture("health-events/awsdocs-public-ec2-operational-issue-af-south-1.json");
    let mut without_end = with_end.clone();
    without_end["detail"].as_object_mut().unwrap().remove("endTime");
    without_end["detail"]["eventArn"] = json!("arn:aws:health:af-south-1::event/EC2/X/no-end");
    std::fs::write(dir.join("events.json"), json!([without_end, with_end]).to_string()).unwrap();

    let out = run(delibird()
        .args(["query", "SELECT delibird.endTime AS ended FROM health ORDER BY ended DESC"])
        .arg(dir.join("events.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[2].starts_with("20"), "the row with an end comes first: {}", out.stdout);
    assert_eq!(lines[3], "NULL");
}

#[test]
fn query_says_on_stderr_when_cells_were_cut_and_how_to_see_them_whole() {
    let out = run(delibird()
        .args(["query", "SELECT detail.eventDescription.latestDescription FROM health LIMIT 2"])
        .arg(fixtures_dir().join("health-events/seed-project-health107.json"))
        .arg(fixtures_dir().join("health-events/awsdocs-public-ec2-operational-issue-af-south-1.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.lines().nth(2).unwrap().ends_with('…'), "{}", out.stdout);
    assert_eq!(out.stderr, "delibird: 2 cells were cut at 80 characters (…); --json prints every value whole\n");
    let whole = run(delibird()
        .args(["query", "--json", "SELECT detail.eventDescription.latestDescription AS d FROM health LIMIT 1"])
        .arg(fixtures_dir().join("health-events/seed-project-health107.json")));
    assert!(whole.stderr.is_empty(), "{}", whole.stderr);
}

#[test]
fn query_labels_columns_as_written_and_counts_distinct_values() {
    let out = run(delibird()
        .args([
            "query",
            "SELECT detail-type, COUNT(DISTINCT detail.service) FROM health GROUP BY detail-type ORDER BY 1",
        ])
        .args(events()));

    assert_eq!(out.code, 0, "{}", out.stderr);
    let header: Vec<&str> =
        out.stdout.lines().next().unwrap().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(header, ["detail-type", "COUNT(DISTINCT detail.service)"]);
    assert!(out.stdout.lines().nth(2).unwrap().starts_with("AWS Health"), "{}", out.stdout);
}

#[test]
fn a_misspelt_delibird_variable_is_a_warning_naming_the_one_meant() {
    let out = run(delibird()
        .env("DELIBIRD_DEDUPE_TABLE", "delibird-dedup")
        .args(["query", "SELECT COUNT(*) AS n FROM health"])
        .arg(fixtures_dir().join("health-events/seed-project-health101.json")));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "WARN DELIBIRD_DEDUPE_TABLE is set, but delibird reads no such variable: did you mean DELIBIRD_DEDUP_TABLE?"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "one warning, once: {}", out.stderr);
}
