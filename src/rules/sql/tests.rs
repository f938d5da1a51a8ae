use serde_json::json;

use super::*;

fn event() -> Value {
    json!({
        "detail-type": "AWS Health Event", "region": "ap-northeast-2", "account": "111122223333",
        "resources": ["i-1", "i-2"],
        "detail": {"service": "EC2", "eventTypeCategory": "issue", "page": "2",
                   "startTime": "Sat, 30 Nov 2019 01:00:00 GMT", "endTime": "Tue, 3 Dec 2019 18:30:00 GMT",
                   "affectedEntities": [{"entityValue": "i-1"}, {"entityValue": "i-2", "status": "IMPAIRED"}]},
        "delibird": {"severity": "high", "account": {"id": "111122223333", "name": "payments-prod",
                     "ou": "Production / Payments", "tags": {"Owner": "team-payments"}},
                     "startTime": "2019-11-30T01:00:00Z"}
    })
}

fn check(text: &str) -> Option<bool> {
    Condition::compile(text).unwrap_or_else(|e| panic!("{text}: {e}")).evaluate(&event())
}

fn problem(text: &str) -> SqlError {
    Condition::compile(text).expect_err(text)
}

#[test]
fn the_issue_example_matches() {
    let text =
        "detail.service = 'EC2' AND detail.eventTypeCategory IN ('issue','scheduledChange') AND region LIKE 'ap-%'";
    assert_eq!(check(text), Some(true));
}

#[test]
fn missing_fields_are_null_and_null_does_not_match() {
    assert_eq!(check("detail.communicationId = 'x'"), None);
    assert_eq!(check("NOT detail.communicationId = 'x'"), None);
    assert_eq!(check("detail.communicationId IS NULL"), Some(true));
    assert_eq!(check("detail.communicationId = 'x' OR region = 'ap-northeast-2'"), Some(true));
    assert_eq!(check("detail.communicationId = 'x' AND region = 'eu-west-1'"), Some(false));
    assert_eq!(check("detail.eventMetadata.anything = 'x'"), None);
}

#[test]
fn dashed_names_work_bare_or_quoted() {
    assert_eq!(check("detail-type = 'AWS Health Event'"), Some(true));
    assert_eq!(check("\"detail-type\" = 'AWS Health Event'"), Some(true));
    let spaced = problem("detail - type = 'x'");
    assert_eq!(spaced.kind, SqlProblem::Arithmetic { dash: true });
    assert!(spaced.to_string().contains("arithmetic is not supported"), "{spaced}");
}

#[test]
fn numbers_compare_with_numeric_text() {
    assert_eq!(check("detail.page > 1"), Some(true));
    assert_eq!(check("detail.page BETWEEN 1 AND 3"), Some(true));
    assert_eq!(check("detail.service > 1"), None);
    assert_eq!(check("detail.page = -2"), Some(false));
}

#[test]
fn functions_and_arrays() {
    assert_eq!(check("contains(resources, 'i-2')"), Some(true));
    assert_eq!(check("contains(detail.affectedEntities.entityValue, 'i-1')"), Some(true));
    assert_eq!(check("contains(lower(delibird.account.ou), 'payments')"), Some(true));
    assert_eq!(check("length(resources) = 2 AND upper(detail.eventTypeCategory) = 'ISSUE'"), Some(true));
    assert_eq!(check("coalesce(detail.communicationId, delibird.account.tags.Owner) = 'team-payments'"), Some(true));
    assert_eq!(check("delibird.account.name ILIKE '%-PROD'"), Some(true));
    assert_eq!(check("delibird.account.name LIKE '%-PROD'"), Some(false));
}

#[test]
fn a_date_against_a_health_time_compares_instants() {
    // `Sat, 30 Nov …` sorts after `2019-…` as text: compared as text, both of these would be wrong.
    assert_eq!(check("detail.startTime >= '2019-11-30'"), Some(true));
    assert_eq!(check("detail.startTime < '2019-12-01T00:00:00Z'"), Some(true));
    assert_eq!(check("detail.startTime = '2019-11-30T02:00:00+01:00'"), Some(true));
    assert_eq!(check("detail.startTime BETWEEN '2019-11-29' AND '2019-12-01'"), Some(true));
    assert_eq!(check("detail.endTime > detail.startTime"), Some(true));
    assert_eq!(check("detail.startTime IN ('2019-11-30 01:00', '2020-01-01')"), Some(true));
    assert_eq!(check("delibird.startTime = detail.startTime"), Some(true));
    assert_eq!(check("detail.lastUpdatedTime > '2019-01-01'"), None, "a missing time is NULL");
    assert_eq!(check("detail.startTime LIKE 'Sat, %'"), Some(true), "LIKE still reads the text");
}

#[test]
fn a_time_against_text_that_is_no_time_is_refused() {
    let error = problem("detail.startTime > 'last week'");
    assert_eq!(error.kind, SqlProblem::NotATime { field: "detail.startTime".into(), found: "last week".into() });
    assert_eq!(error.position, Position { line: 1, column: 20 });
    let error = problem("detail.endTime < 2019");
    assert_eq!(error.kind, SqlProblem::TimeAgainst { field: "detail.endTime".into(), found: Literal::Number });
    assert!(error.to_string().contains("compare it with a date in single quotes"), "{error}");
}

#[test]
fn an_unknown_detail_field_is_refused_with_the_nearest_known_one() {
    let error = problem("detail.servce = 'EC2'");
    assert_eq!(error.position, Position::START);
    let SqlProblem::NotAField { field, suggestion, .. } = &error.kind else { panic!("{error}") };
    assert_eq!((field.as_str(), suggestion.as_deref()), ("detail.servce", Some("detail.service")));
    assert_eq!(error.to_string(), "line 1, column 1: detail.servce is not a field: did you mean detail.service?");
    let far = problem("detail.colour = 'red'").to_string();
    assert!(far.contains("detail.colour is not a field: detail.… is one of eventArn, service,"), "{far}");
    let below = problem("detail.service.name = 'x'").to_string();
    assert!(below.contains("detail.service.name is not a field: detail.service holds a value"), "{below}");
    let entity = problem("detail.affectedEntities.entityvalue = 'i-1'").to_string();
    assert!(entity.contains("did you mean detail.affectedEntities.entityValue?"), "{entity}");
    let top = problem("regoin = 'x'").to_string();
    assert!(
        top.contains("unknown field regoin: fields are detail.…") && top.ends_with("did you mean region?"),
        "{top}"
    );
}

#[test]
fn errors_say_where_and_what_was_expected() {
    let error = problem("detail.service = ");
    assert_eq!(error.position, Position { line: 1, column: 18 });
    assert!(matches!(&error.kind, SqlProblem::Syntax { message } if message.contains("Expected: an expression")));
    let error = problem("detail.service = 'EC2' region = 'x'");
    assert_eq!(error.position, Position { line: 1, column: 24 });
    assert!(matches!(error.kind, SqlProblem::TrailingText { .. }), "{error}");
    let error = problem("detail.service = \"EC2\"");
    assert!(matches!(&error.kind, SqlProblem::UnknownField { quoted: true, .. }), "{error}");
    assert!(error.to_string().contains("'EC2'"), "{error}");
    let error = problem("delibird.severity = 'Critical'");
    assert_eq!(error.kind, SqlProblem::NotASeverity { found: "Critical".into() });
    assert!(error.to_string().contains("critical, high"), "{error}");
    let error = problem("delibird.acount.name = 'x'");
    assert!(error.to_string().contains("delibird.acount.name is not a field"), "{error}");
    assert!(error.to_string().contains("did you mean delibird.account.name?"), "{error}");
    assert!(Condition::compile("detail.service").is_ok(), "a field may hold a boolean");
    let error = problem("'EC2'");
    assert_eq!(error.kind, SqlProblem::NotACondition { found: Literal::Text });
    assert!(error.to_string().contains("Expected: a condition"), "{error}");
    let error = problem("region = 'a'\n  AND upper(region) = reverse(region)");
    assert_eq!(error.position, Position { line: 2, column: 23 });
    assert_eq!(error.kind, SqlProblem::UnknownFunction { name: "reverse".into(), suggestion: None });
    let error = problem("lowr(region) = 'a'");
    assert_eq!(error.kind, SqlProblem::UnknownFunction { name: "lowr".into(), suggestion: Some("lower") });
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}region = 'x'{}", "(".repeat(500), ")".repeat(500));
    assert_eq!(problem(&deep).kind, SqlProblem::TooDeep { limit: None });
    let nots = format!("{}region = 'x'", "NOT ".repeat(500));
    assert!(Condition::compile(&nots).is_err());
    let long = vec!["region = 'x'"; 600].join(" AND ");
    assert!(Condition::compile(&long).is_err());
    for text in [
        format!("{}region = 'x'", "NOT ".repeat(2_000)),
        format!("{}region{} = 'x'", "lower(".repeat(1_000), ")".repeat(1_000)),
        format!("region LIKE {}'x'", "NOT ".repeat(2_000)),
    ] {
        assert!(Condition::compile(&text).is_err());
    }
    let deepest = format!("{}region = 'x'", "NOT ".repeat(41));
    let compiled = Condition::compile(&deepest).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(compiled.evaluate(&event()), Some(true));
    let longest = vec!["region"; MAX_CONDITION_BYTES / 11].join(" AND ");
    assert!(problem(&longest).to_string().contains("nested too deeply"));
    let fine = vec!["region = 'x'"; 100].join(" OR ");
    assert_eq!(Condition::compile(&fine).unwrap().evaluate(&event()), Some(false));
}
