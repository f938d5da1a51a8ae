//! Running a compiled [`Query`] over events' views: filter, group and count, sort, distinct,
//! offset and limit. No I/O here.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use delibird::rules::sql::instant;
use serde_json::Value;

use super::{Output, Query, Row, Sort};

impl Query {
    /// The rows for `views`.
    pub fn run<'a>(&self, views: impl IntoIterator<Item = &'a Value>) -> Vec<Row> {
        let kept = views
            .into_iter()
            .filter(|view| self.filter.as_ref().is_none_or(|f| f.eval(view).as_ref() == &Value::Bool(true)));
        let mut rows: Vec<(Row, Row)> = match &self.group_by {
            None => kept
                .map(|view| {
                    let value = |output: &Output| match output {
                        Output::Value(expr) => expr.eval(view).into_owned(),
                        Output::Event => view.clone(),
                        Output::Key(_) | Output::Count { .. } => Value::Null,
                    };
                    let row: Row = self.columns.iter().map(value).collect();
                    let sort = self.sort_values(&row, value);
                    (row, sort)
                })
                .collect(),
            Some(keys) => {
                let mut groups: Vec<(Row, Vec<&Value>)> = Vec::new();
                let mut index: HashMap<String, usize> = HashMap::new();
                for view in kept {
                    let key: Row = keys.iter().map(|expr| expr.eval(view).into_owned()).collect();
                    let text = Value::Array(key.clone()).to_string();
                    let at = *index.entry(text).or_insert_with(|| {
                        groups.push((key, Vec::new()));
                        groups.len() - 1
                    });
                    groups[at].1.push(view);
                }
                if keys.is_empty() && groups.is_empty() {
                    groups.push((Vec::new(), Vec::new()));
                }
                groups
                    .iter()
                    .map(|(key, members)| {
                        let value = |output: &Output| match output {
                            Output::Key(i) => key[*i].clone(),
                            Output::Count { expr: None, .. } => Value::from(members.len()),
                            Output::Count { expr: Some(expr), distinct: false } => {
                                Value::from(members.iter().filter(|view| !expr.eval(view).is_null()).count())
                            }
                            Output::Count { expr: Some(expr), distinct: true } => {
                                let values: HashSet<String> = members
                                    .iter()
                                    .map(|view| expr.eval(view))
                                    .filter(|value| !value.is_null())
                                    .map(|value| value.to_string())
                                    .collect();
                                Value::from(values.len())
                            }
                            Output::Value(_) | Output::Event => Value::Null,
                        };
                        let row: Row = self.columns.iter().map(value).collect();
                        let sort = self.sort_values(&row, value);
                        (row, sort)
                    })
                    .collect()
            }
        };
        rows.sort_by(|(_, a), (_, b)| {
            self.order_by
                .iter()
                .zip(a.iter().zip(b))
                .map(|(key, (a, b))| sort_order(a, b, key.descending, key.nulls_first))
                .find(|order| order.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let mut rows: Vec<Row> = rows.into_iter().map(|(row, _)| row).collect();
        if self.distinct {
            let mut seen = HashSet::new();
            rows.retain(|row| seen.insert(Value::Array(row.clone()).to_string()));
        }
        rows.into_iter().skip(self.offset).take(self.limit.unwrap_or(usize::MAX)).collect()
    }

    /// The values a row sorts by, one per `ORDER BY` key; times as the instants they name.
    fn sort_values(&self, row: &Row, value: impl Fn(&Output) -> Value) -> Row {
        self.order_by
            .iter()
            .map(|key| {
                let value = match &key.by {
                    Sort::Column(i) => row[*i].clone(),
                    Sort::Output(output) => value(output),
                };
                match value {
                    Value::String(text) if key.time => instant(&text).map_or(Value::Null, Value::String),
                    other => other,
                }
            })
            .collect()
    }
}

/// A total order for sorting: NULL first or last as asked, then booleans, numbers, text, arrays,
/// objects, each in its natural order (reversed when descending; NULL's place is not).
fn sort_order(a: &Value, b: &Value, descending: bool, nulls_first: bool) -> Ordering {
    let order = match (a.is_null(), b.is_null()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return if nulls_first { Ordering::Less } else { Ordering::Greater },
        (false, true) => return if nulls_first { Ordering::Greater } else { Ordering::Less },
        (false, false) => {
            let rank = |v: &Value| match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                Value::Array(_) => 4,
                Value::Object(_) => 5,
            };
            rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
                (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal),
                (Value::String(x), Value::String(y)) => x.cmp(y),
                (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
                _ => a.to_string().cmp(&b.to_string()),
            })
        }
    };
    if descending { order.reverse() } else { order }
}
