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
fn count_distinct_counts_each_value_once() {
    let sql = "SELECT detail.service, COUNT(DISTINCT delibird.account.name) AS accounts, COUNT(*) AS events \
               FROM health GROUP BY 1 ORDER BY 1";
    assert_eq!(run(sql), [vec![json!("EC2"), json!(2), json!(3)], vec![json!("RDS"), json!(1), json!(1)]]);
    assert_eq!(run("SELECT COUNT(DISTINCT region) FROM health"), [vec![json!(0)]], "NULL is not a value");
    let error = Query::parse("SELECT COUNT(DISTINCT *) FROM health").unwrap_err();
    assert_eq!(error.kind, QueryProblem::BadCount);
}

#[test]
fn selects_orders_limits_and_distincts() {
    assert_eq!(
        run("SELECT DISTINCT detail.service FROM health ORDER BY 1 DESC"),
        [vec![json!("RDS")], vec![json!("EC2")]]
    );
    assert_eq!(run("SELECT detail.service FROM health ORDER BY detail.service LIMIT 1 OFFSET 3"), [vec![json!("RDS")]]);
    assert_eq!(run("SELECT region FROM health LIMIT 1"), [vec![Value::Null]]);
}

/// Behaviour changed on purpose: NULL used to sort first when descending, so `ORDER BY n DESC`
/// started with the rows that had no `n`.
#[test]
fn nulls_sort_last_descending_too_unless_nulls_first_is_written() {
    let views = [json!({"detail": {"page": "2"}}), json!({"detail": {}}), json!({"detail": {"page": "10"}})];
    let pages = |sql: &str| -> Vec<Value> {
        Query::parse(sql).unwrap().run(&views).into_iter().map(|mut row| row.remove(0)).collect()
    };
    assert_eq!(pages("SELECT detail.page FROM health ORDER BY 1 DESC"), [json!("2"), json!("10"), Value::Null]);
    assert_eq!(pages("SELECT detail.page FROM health ORDER BY 1"), [json!("10"), json!("2"), Value::Null]);
    assert_eq!(
        pages("SELECT detail.page FROM health ORDER BY 1 DESC NULLS FIRST"),
        [Value::Null, json!("2"), json!("10")]
    );
}

#[test]
fn a_time_field_sorts_in_time_order_not_text_order() {
    let views = [
        json!({"detail": {"startTime": "Sat, 30 Nov 2019 01:00:00 GMT"}}),
        json!({"detail": {"startTime": "Fri, 6 Dec 2019 01:00:00 GMT"}}),
        json!({"detail": {"startTime": "Mon, 2 Dec 2019 01:00:00 GMT"}}),
    ];
    let rows = Query::parse("SELECT detail.startTime AS at FROM health ORDER BY at").unwrap().run(&views);
    let days: Vec<&str> = rows.iter().map(|row| &row[0].as_str().unwrap()[5..7]).collect();
    assert_eq!(days, ["30", "2 ", "6 "]);
    let since = "SELECT COUNT(*) FROM health WHERE detail.startTime >= '2019-12-01'";
    assert_eq!(Query::parse(since).unwrap().run(&views), [vec![json!(2)]]);
}

/// Behaviour changed on purpose: headers were sqlparser's rendering (`detail - type`).
#[test]
fn headers_are_the_columns_as_written() {
    let query = Query::parse(
        "SELECT detail-type, lower( detail.service ),\n  coalesce(detail.eventRegion,   region), count(*) FROM health GROUP BY 1, 2, 3",
    )
    .unwrap();
    assert_eq!(
        query.headers(),
        ["detail-type", "lower( detail.service )", "coalesce(detail.eventRegion, region)", "count(*)"]
    );
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
