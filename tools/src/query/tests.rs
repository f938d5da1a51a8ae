use delibird::rules::sql::SqlProblem;
use serde_json::json;

use super::*;

fn events() -> Vec<Value> {
    [("EC2", "issue", "a"), ("EC2", "issue", "b"), ("RDS", "scheduledChange", "a"), ("EC2", "issue", "a")]
        .iter()
        .map(|(service, category, account)| {
            json!({"detail": {"service": service, "eventTypeCategory": category},
                   "delibird": {"account": {"name": account}}})
        })
        .collect()
}

fn run(sql: &str) -> Vec<Row> {
    let query = Query::parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    query.run(&events())
}

#[test]
fn counts_per_group_in_order() {
    let sql = "SELECT detail.service, delibird.account.name AS account, COUNT(*) AS n FROM health \
               WHERE detail.eventTypeCategory = 'issue' GROUP BY detail.service, account ORDER BY n DESC";
    assert_eq!(run(sql), [vec![json!("EC2"), json!("a"), json!(2)], vec![json!("EC2"), json!("b"), json!(1)]]);
    assert_eq!(run("SELECT COUNT(*) FROM health WHERE region = 'x'"), [vec![json!(0)]]);
    assert_eq!(Query::parse("select count(*) as n from health").unwrap().headers(), ["n"]);
}

#[test]
fn selects_orders_limits_and_distincts() {
    assert_eq!(
        run("SELECT DISTINCT detail.service FROM health ORDER BY 1 DESC"),
        [vec![json!("RDS")], vec![json!("EC2")]]
    );
    assert_eq!(
        run("SELECT detail.service FROM health ORDER BY detail.service LIMIT 1 OFFSET 3"),
        [vec![json!("RDS")]]
    );
    assert_eq!(run("SELECT region FROM health LIMIT 1"), [vec![Value::Null]]);
}

#[test]
fn mistakes_are_reported_with_their_position() {
    for (sql, at, problem) in [
        ("SELECT detail.service FROM health WHERE", (1, 40), "Expected: an expression"),
        ("SELECT detail.service, COUNT(*) FROM health", (1, 8), "GROUP BY"),
        ("SELECT x FROM health", (1, 8), "unknown field x"),
        ("SELECT region FROM events", (1, 20), "FROM health"),
        ("SELECT region FROM health ORDER BY 3", (1, 36), "column position from 1 to 1"),
        ("DELETE FROM health", (1, 1), "SELECT"),
        ("SELECT region FROM health HAVING COUNT(*) > 1", (1, 1), "not supported"),
        ("SELECT detail.servce FROM health", (1, 8), "did you mean detail.service?"),
    ] {
        let error = Query::parse(sql).unwrap_err();
        assert_eq!((error.position.line, error.position.column), at, "{sql}: {error}");
        assert!(error.to_string().contains(problem), "{sql}: {error}");
    }
}

#[test]
fn an_unknown_field_is_the_rule_languages_error_with_its_suggestion() {
    let error = Query::parse("SELECT detail.service FROM health WHERE detail.eventTypeCategry = 'issue'").unwrap_err();
    let QueryProblem::Sql(SqlProblem::NotAField { suggestion, .. }) = &error.kind else { panic!("{error}") };
    assert_eq!(suggestion.as_deref(), Some("detail.eventTypeCategory"));
    assert_eq!(error.position, Position { line: 1, column: 41 });
}
