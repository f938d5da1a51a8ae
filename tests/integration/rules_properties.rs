//! Properties of the rule language, for random events and random rules built from every operator
//! and function it has:
//!
//! - the evaluator agrees with a straightforward reference evaluation of the same rule, written
//!   here from the semantics `delibird::rules` documents (SQL's three-valued logic);
//! - compiling and evaluating never panics, whatever the text, and a query never panics either.
//!
//! Failing cases are saved in `proptest-regressions/rules.txt` and re-run first.

use std::cmp::Ordering;

use delibird::rules::Condition;
use delibird_tools::query::Query;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use serde_json::{Value, json};

const REGRESSIONS: &str = "proptest-regressions/rules.txt";

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Random events
// ---------------------------------------------------------------------------------------------

/// Text values, chosen so that comparisons, LIKE patterns, numeric text and case all matter.
const TEXTS: &[&str] = &[
    "EC2",
    "ec2",
    "ap-northeast-2",
    "us-east-1",
    "east",
    "",
    "critical",
    "high",
    "10",
    "2",
    "1.5",
    "-3",
    "1e2",
    " 7",
    "a%b",
    "x_y",
    "it's",
    "é",
    "EC2 issue",
    "issue",
];

/// Fields of the view a rule can read, as written in SQL and as a path into the JSON.
const FIELDS: &[(&str, &[&str])] = &[
    ("region", &["region"]),
    ("\"detail-type\"", &["detail-type"]),
    ("detail.service", &["detail", "service"]),
    ("detail.page", &["detail", "page"]),
    ("detail.backupEvent", &["detail", "backupEvent"]),
    ("detail.personas", &["detail", "personas"]),
    ("detail.eventMetadata.value", &["detail", "eventMetadata", "value"]),
    ("detail.affectedEntities.entityValue", &["detail", "affectedEntities", "entityValue"]),
    ("detail.communicationId", &["detail", "communicationId"]),
    ("delibird.severity", &["delibird", "severity"]),
    ("delibird.account.name", &["delibird", "account", "name"]),
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..12).prop_map(Value::from),
        select(vec![0.5f64, 1.5, -2.25, 10.0]).prop_map(Value::from),
        select(TEXTS).prop_map(Value::from),
    ]
}

/// A field's value: absent, a scalar, or (sometimes) an array of scalars or an object.
fn field_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        6 => scalar().prop_map(Some),
        1 => vec(scalar(), 0..4).prop_map(|items| Some(Value::Array(items))),
        1 => scalar().prop_map(|v| Some(json!({"value": v}))),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    (vec(field_value(), FIELDS.len()), vec(field_value(), 0..4)).prop_map(|(values, entities)| {
        let mut event = json!({});
        for ((_, path), value) in FIELDS.iter().zip(values) {
            if let Some(value) = value {
                set(&mut event, path, value);
            }
        }
        // An array of objects, so that paths continue through arrays.
        let entities: Vec<Value> =
            entities.into_iter().map(|v| v.map_or(json!({}), |v| json!({"entityValue": v}))).collect();
        if !entities.is_empty() {
            event["detail"]["affectedEntities"] = Value::Array(entities);
        }
        event
    })
}

fn set(target: &mut Value, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().unwrap();
    let mut node = target;
    for key in parents {
        if !node.get(*key).is_some_and(Value::is_object) {
            node[*key] = json!({});
        }
        node = &mut node[*key];
    }
    node[*last] = value;
}

// ---------------------------------------------------------------------------------------------
// Random rules, and their reference meaning
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Rule {
    Field(usize),
    Literal(Value),
    Not(Box<Rule>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
    Compare(&'static str, Box<Rule>, Box<Rule>),
    In(Box<Rule>, Vec<Rule>, bool),
    Between(Box<Rule>, Box<Rule>, Box<Rule>, bool),
    Like(Box<Rule>, String, bool, bool),
    IsNull(Box<Rule>, bool),
    Lower(Box<Rule>),
    Upper(Box<Rule>),
    Length(Box<Rule>),
    Contains(Box<Rule>, Box<Rule>),
    Coalesce(Vec<Rule>),
}

const OPERATORS: &[&str] = &["=", "<>", "<", "<=", ">", ">="];

fn literal() -> impl Strategy<Value = Rule> {
    prop_oneof![
        select(TEXTS).prop_map(|t| Rule::Literal(json!(t))),
        (-3i64..12).prop_map(|n| Rule::Literal(json!(n))),
        select(vec![0.5f64, 1.5, -2.25]).prop_map(|n| Rule::Literal(json!(n))),
        any::<bool>().prop_map(|b| Rule::Literal(json!(b))),
        Just(Rule::Literal(Value::Null)),
    ]
}

/// Expressions that yield values: fields, literals, functions of them.
fn value() -> impl Strategy<Value = Rule> {
    let leaf = prop_oneof![3 => (0..FIELDS.len()).prop_map(Rule::Field), 2 => literal()];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Rule::Lower(Box::new(e))),
            inner.clone().prop_map(|e| Rule::Upper(Box::new(e))),
            inner.clone().prop_map(|e| Rule::Length(Box::new(e))),
            vec(inner, 1..3).prop_map(Rule::Coalesce),
        ]
    })
}

/// LIKE patterns over the texts above.
fn pattern() -> impl Strategy<Value = String> {
    vec(select(vec!["%", "_", "a", "E", "c", "2", "-", "x", "'", "é", "%2", "ap-%"]), 0..5)
        .prop_map(|parts| parts.concat())
}

/// Conditions: everything that can be TRUE.
fn condition() -> impl Strategy<Value = Rule> {
    let leaf = prop_oneof![
        4 => (select(OPERATORS), value(), value()).prop_map(|(op, a, b)| Rule::Compare(op, Box::new(a), Box::new(b))),
        2 => (value(), vec(value(), 1..4), any::<bool>()).prop_map(|(e, list, not)| Rule::In(Box::new(e), list, not)),
        1 => (value(), value(), value(), any::<bool>())
            .prop_map(|(e, low, high, not)| Rule::Between(Box::new(e), Box::new(low), Box::new(high), not)),
        2 => (value(), pattern(), any::<bool>(), any::<bool>()).prop_map(|(e, p, not, i)| Rule::Like(Box::new(e), p, not, i)),
        1 => (value(), any::<bool>()).prop_map(|(e, not)| Rule::IsNull(Box::new(e), not)),
        1 => (value(), value()).prop_map(|(a, b)| Rule::Contains(Box::new(a), Box::new(b))),
        1 => (value(), select(TEXTS)).prop_map(|(a, b)| Rule::Contains(Box::new(a), Box::new(Rule::Literal(json!(b))))),
        1 => (0..FIELDS.len()).prop_map(Rule::Field),
        1 => any::<bool>().prop_map(|b| Rule::Literal(json!(b))),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Rule::Not(Box::new(e))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Rule::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Rule::Or(Box::new(a), Box::new(b))),
            // Booleans compared with booleans.
            (select(vec!["=", "<>"]), inner.clone(), inner).prop_map(|(op, a, b)| Rule::Compare(
                op,
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The rule as SQL, every compound parenthesised.
fn sql(rule: &Rule) -> String {
    let list = |items: &[Rule]| items.iter().map(sql).collect::<Vec<_>>().join(", ");
    let not = |negated: bool| if negated { "NOT " } else { "" };
    match rule {
        Rule::Field(i) => FIELDS[*i].0.to_owned(),
        Rule::Literal(Value::String(text)) => quote(text),
        Rule::Literal(Value::Null) => "NULL".to_owned(),
        Rule::Literal(Value::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Rule::Literal(other) => other.to_string(),
        Rule::Not(e) => format!("(NOT {})", sql(e)),
        Rule::And(a, b) => format!("({} AND {})", sql(a), sql(b)),
        Rule::Or(a, b) => format!("({} OR {})", sql(a), sql(b)),
        Rule::Compare(op, a, b) => format!("({} {op} {})", sql(a), sql(b)),
        Rule::In(e, items, negated) => format!("({} {}IN ({}))", sql(e), not(*negated), list(items)),
        Rule::Between(e, low, high, negated) => {
            format!("({} {}BETWEEN {} AND {})", sql(e), not(*negated), sql(low), sql(high))
        }
        Rule::Like(e, pattern, negated, ignore_case) => {
            let op = if *ignore_case { "ILIKE" } else { "LIKE" };
            format!("({} {}{op} {})", sql(e), not(*negated), quote(pattern))
        }
        Rule::IsNull(e, negated) => format!("({} IS {}NULL)", sql(e), not(*negated)),
        Rule::Lower(e) => format!("lower({})", sql(e)),
        Rule::Upper(e) => format!("UPPER({})", sql(e)),
        Rule::Length(e) => format!("length({})", sql(e)),
        Rule::Contains(a, b) => format!("contains({}, {})", sql(a), sql(b)),
        Rule::Coalesce(items) => format!("coalesce({})", list(items)),
    }
}

/// delibird refuses to compare `delibird.severity` with a text that is not a severity.
fn severity_mistake(rule: &Rule) -> bool {
    let severity = |e: &Rule| matches!(e, Rule::Field(i) if FIELDS[*i].0 == "delibird.severity");
    let not_a_severity = |e: &Rule| matches!(e, Rule::Literal(Value::String(t)) if !["critical", "high", "warning", "info"].contains(&t.as_str()));
    let pair = |a: &Rule, b: &Rule| (severity(a) && not_a_severity(b)) || (severity(b) && not_a_severity(a));
    match rule {
        Rule::Compare(_, a, b) => pair(a, b) || severity_mistake(a) || severity_mistake(b),
        Rule::In(e, items, _) => items.iter().any(|i| pair(e, i) || severity_mistake(i)) || severity_mistake(e),
        Rule::Not(e) | Rule::Lower(e) | Rule::Upper(e) | Rule::Length(e) | Rule::IsNull(e, _) | Rule::Like(e, ..) => {
            severity_mistake(e)
        }
        Rule::And(a, b) | Rule::Or(a, b) | Rule::Contains(a, b) => severity_mistake(a) || severity_mistake(b),
        Rule::Between(e, l, h, _) => [e, l, h].iter().any(|x| severity_mistake(x)),
        Rule::Coalesce(items) => items.iter().any(severity_mistake),
        Rule::Field(_) | Rule::Literal(_) => false,
    }
}

// The reference: the documented semantics, written as plainly as possible.

fn lookup(value: &Value, path: &[&str]) -> Value {
    if path.is_empty() {
        return value.clone();
    }
    match value {
        Value::Object(map) => map.get(path[0]).map_or(Value::Null, |inner| lookup(inner, &path[1..])),
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| lookup(item, path)).filter(|v| !v.is_null()).collect())
        }
        _ => Value::Null,
    }
}

fn number_in(text: &str) -> Option<f64> {
    serde_json::from_str::<serde_json::Number>(text).ok().and_then(|n| n.as_f64())
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().unwrap().partial_cmp(&y.as_f64().unwrap()),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::String(y)) => x.as_f64().unwrap().partial_cmp(&number_in(y)?),
        (Value::String(x), Value::Number(y)) => number_in(x)?.partial_cmp(&y.as_f64().unwrap()),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn holds(op: &str, a: &Value, b: &Value) -> Option<bool> {
    let o = order(a, b)?;
    Some(match op {
        "=" => o.is_eq(),
        "<>" => o.is_ne(),
        "<" => o.is_lt(),
        "<=" => o.is_le(),
        ">" => o.is_gt(),
        _ => o.is_ge(),
    })
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    if a == Some(false) || b == Some(false) {
        Some(false)
    } else if a == Some(true) && b == Some(true) {
        Some(true)
    } else {
        None
    }
}

fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    and(a.map(|x| !x), b.map(|x| !x)).map(|x| !x)
}

/// LIKE by plain recursion over characters.
fn like(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|skip| like(&text[skip..], rest)),
        Some(('_', rest)) => !text.is_empty() && like(&text[1..], rest),
        Some((c, rest)) => text.first() == Some(c) && like(&text[1..], rest),
    }
}

fn boolean(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

fn negate(b: Option<bool>, negated: bool) -> Option<bool> {
    if negated { b.map(|x| !x) } else { b }
}

fn reference(rule: &Rule, event: &Value) -> Value {
    let truth = |e: &Rule| reference(e, event).as_bool();
    match rule {
        Rule::Field(i) => lookup(event, FIELDS[*i].1),
        Rule::Literal(v) => v.clone(),
        Rule::Not(e) => boolean(truth(e).map(|b| !b)),
        Rule::And(a, b) => boolean(and(truth(a), truth(b))),
        Rule::Or(a, b) => boolean(or(truth(a), truth(b))),
        Rule::Compare(op, a, b) => boolean(holds(op, &reference(a, event), &reference(b, event))),
        Rule::In(e, items, negated) => {
            let x = reference(e, event);
            let found = items.iter().map(|i| holds("=", &x, &reference(i, event))).fold(Some(false), or);
            boolean(negate(found, *negated))
        }
        Rule::Between(e, low, high, negated) => {
            let x = reference(e, event);
            let inside = and(holds(">=", &x, &reference(low, event)), holds("<=", &x, &reference(high, event)));
            boolean(negate(inside, *negated))
        }
        Rule::Like(e, pattern, negated, ignore_case) => {
            let matched = reference(e, event).as_str().map(|text| {
                let (text, pattern) = if *ignore_case {
                    (text.to_lowercase(), pattern.to_lowercase())
                } else {
                    (text.to_owned(), pattern.clone())
                };
                like(&text.chars().collect::<Vec<_>>(), &pattern.chars().collect::<Vec<_>>())
            });
            boolean(negate(matched, *negated))
        }
        Rule::IsNull(e, negated) => Value::Bool(reference(e, event).is_null() != *negated),
        Rule::Lower(e) => reference(e, event).as_str().map_or(Value::Null, |t| json!(t.to_lowercase())),
        Rule::Upper(e) => reference(e, event).as_str().map_or(Value::Null, |t| json!(t.to_uppercase())),
        Rule::Length(e) => match reference(e, event) {
            Value::String(t) => json!(t.chars().count()),
            Value::Array(items) => json!(items.len()),
            _ => Value::Null,
        },
        Rule::Contains(a, b) => match (reference(a, event), reference(b, event)) {
            (_, Value::Null) => Value::Null,
            (Value::String(h), Value::String(n)) => json!(h.contains(&n)),
            (Value::Array(items), n) => json!(items.iter().any(|item| holds("=", item, &n) == Some(true))),
            _ => Value::Null,
        },
        Rule::Coalesce(items) => {
            items.iter().map(|i| reference(i, event)).find(|v| !v.is_null()).unwrap_or(Value::Null)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

/// The evaluator's answer is the reference's, and a rule compiles unless it is a severity mistake.
fn evaluator_agrees_with_the_reference(rule: &Rule, events: &[Value]) -> Result<(), TestCaseError> {
    let text = sql(rule);
    let compiled = Condition::compile(&text);
    if severity_mistake(rule) {
        let error = compiled.expect_err("comparing delibird.severity with a non-severity is refused");
        prop_assert!(error.to_string().contains("delibird.severity is one of"), "{text}: {error}");
        return Ok(());
    }
    let compiled = compiled.map_err(|error| TestCaseError::fail(format!("{text}: {error}")))?;
    for event in events {
        let expected = reference(rule, event).as_bool();
        prop_assert_eq!(compiled.evaluate(event), expected, "{} over {}", text, event);
        prop_assert_eq!(compiled.matches(event), expected == Some(true));
    }
    Ok(())
}

/// Pieces of SQL, valid and not, for texts the compiler has to survive.
const TOKENS: &[&str] = &[
    "detail.service",
    "region",
    "\"detail-type\"",
    "detail-type",
    "delibird.severity",
    "delibird.x",
    "=",
    "<>",
    "<",
    ">=",
    "AND",
    "OR",
    "NOT",
    "(",
    ")",
    "IN",
    "LIKE",
    "ILIKE",
    "ESCAPE",
    "BETWEEN",
    "IS",
    "NULL",
    ",",
    "'EC2'",
    "'",
    "\"",
    "1",
    "-",
    "+",
    "1.5e400",
    "lower(",
    "contains(",
    "coalesce(",
    "count(*)",
    "*",
    "SELECT",
    "FROM",
    "health",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "LIMIT",
    "OFFSET",
    "DESC",
    ";",
    "--",
    "/*",
    "[0]",
    "::",
    "CASE",
    "é",
    "\n",
];

fn soup() -> impl Strategy<Value = String> {
    prop_oneof![vec(select(TOKENS), 0..24).prop_map(|t| t.join(" ")), ".{0,80}"]
}

proptest! {
    #![proptest_config(config(768))]

    #[test]
    fn the_evaluator_agrees_with_a_reference_evaluation(rule in condition(), events in vec(event(), 1..6)) {
        evaluator_agrees_with_the_reference(&rule, &events)?;
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn no_text_makes_the_compiler_or_the_evaluator_panic(text in soup(), events in vec(event(), 1..3)) {
        if let Ok(condition) = Condition::compile(&text) {
            for event in &events {
                let _ = condition.evaluate(event);
            }
        }
        let query = format!("SELECT {text}");
        if let Ok(query) = Query::parse(&query) {
            let _ = query.run(&events);
        }
        if let Ok(query) = Query::parse(&text) {
            let _ = query.run(&events);
        }
    }
}

#[test]
fn the_reference_agrees_on_the_documented_examples() {
    let event = json!({"detail": {"service": "EC2", "page": "2", "personas": ["a", "b"]}, "region": "ap-northeast-2"});
    for (rule, expected) in [
        (Rule::Compare("=", Box::new(Rule::Field(2)), Box::new(Rule::Literal(json!("EC2")))), Some(true)),
        (Rule::Compare(">", Box::new(Rule::Field(3)), Box::new(Rule::Literal(json!(1)))), Some(true)),
        (Rule::Compare("=", Box::new(Rule::Field(8)), Box::new(Rule::Literal(json!("x")))), None),
        (Rule::Contains(Box::new(Rule::Field(5)), Box::new(Rule::Literal(json!("b")))), Some(true)),
        (Rule::Like(Box::new(Rule::Field(0)), "ap-%".into(), false, false), Some(true)),
    ] {
        assert_eq!(reference(&rule, &event).as_bool(), expected, "{}", sql(&rule));
        assert_eq!(Condition::compile(&sql(&rule)).unwrap().evaluate(&event), expected, "{}", sql(&rule));
    }
}
