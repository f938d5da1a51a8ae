//! `SELECT … FROM health [WHERE …] [GROUP BY …] [ORDER BY …] [LIMIT n [OFFSET m]]` over events'
//! JSON views, for `delibird query`. The `WHERE` condition and every expression are the rule
//! language ([`delibird::rules::Condition`]); the one aggregate is `COUNT(*)` (or `COUNT(x)`: rows where
//! `x` is not NULL). No I/O here.
//!
//! - Columns are expressions, optionally `AS name`; `*` is the whole view. A column's header is
//!   its alias, else its text.
//! - With `GROUP BY` (or a `COUNT` column), one row per distinct group, in the order groups were
//!   first seen; every other column must be one of the `GROUP BY` expressions (or name its alias
//!   or position).
//! - `ORDER BY` takes expressions, column aliases or positions (from 1), `ASC` / `DESC` and
//!   `NULLS FIRST` / `NULLS LAST` (by default NULL sorts last ascending, first descending). Values
//!   of different types sort booleans, numbers, text, arrays, objects.
//! - `SELECT DISTINCT` keeps the first of equal rows.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;
use sqlparser::ast::{
    self, Distinct, Expr as Sql, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, LimitClause,
    OrderByKind, OrderBySort, SelectItem, SetExpr, Spanned, Statement, TableFactor,
};

use delibird::rules::condition::{
    Expression as Expr, MAX_CONDITION_BYTES, Position, SqlError, on_a_large_stack, parser,
};

/// One result row: a value per column, NULL as `Value::Null`.
pub type Row = Vec<Value>;

/// A compiled query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    headers: Vec<String>,
    columns: Vec<Output>,
    filter: Option<Expr>,
    group_by: Option<Vec<Expr>>,
    order_by: Vec<SortKey>,
    distinct: bool,
    limit: Option<usize>,
    offset: usize,
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq)]
enum Output {
    /// An expression of each row (ungrouped).
    Value(Expr),
    /// The i-th `GROUP BY` value (grouped).
    Key(usize),
    /// The rows of the group, or those where the expression is not NULL (grouped).
    Count(Option<Expr>),
    /// The whole view (ungrouped).
    Event,
}

#[derive(Debug, Clone, PartialEq)]
struct SortKey {
    by: Sort,
    descending: bool,
    nulls_first: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Sort {
    Column(usize),
    Output(Output),
}

const FROM: &str = "health";

impl Query {
    /// Parses and checks a query, reporting the first problem with its position.
    pub fn parse(sql: &str) -> Result<Self, SqlError> {
        on_a_large_stack(|| Self::parse_here(sql))
    }

    fn parse_here(sql: &str) -> Result<Self, SqlError> {
        if sql.len() > MAX_CONDITION_BYTES * 2 {
            return Err(SqlError::at(Position { line: 1, column: 1 }, "the query is too long"));
        }
        let statements = parser(sql)?.parse_statements().map_err(|error| SqlError::from_parser(error, sql))?;
        let [statement] = statements.as_slice() else {
            let at = statements.get(1).map_or(Position { line: 1, column: 1 }, position);
            return Err(SqlError::at(at, "Expected: one SELECT statement"));
        };
        let Statement::Query(query) = statement else {
            return Err(SqlError::on(statement, "Expected: SELECT … FROM health"));
        };
        let unsupported = query.with.is_some()
            || query.fetch.is_some()
            || !query.locks.is_empty()
            || query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty();
        if unsupported {
            return Err(SqlError::on(query.as_ref(), NOT_SUPPORTED));
        }
        let SetExpr::Select(select) = query.body.as_ref() else {
            return Err(SqlError::on(query.body.as_ref(), NOT_SUPPORTED));
        };
        let unsupported = select.top.is_some()
            || select.into.is_some()
            || select.exclude.is_some()
            || select.select_modifiers.is_some()
            || !select.optimizer_hints.is_empty()
            || !select.lateral_views.is_empty()
            || select.prewhere.is_some()
            || !select.connect_by.is_empty()
            || !select.cluster_by.is_empty()
            || !select.distribute_by.is_empty()
            || !select.sort_by.is_empty()
            || select.having.is_some()
            || !select.named_window.is_empty()
            || select.qualify.is_some()
            || matches!(select.distinct, Some(Distinct::On(_)));
        if unsupported {
            return Err(SqlError::on(select.as_ref(), NOT_SUPPORTED));
        }
        check_from(select, sql)?;

        let mut headers = Vec::new();
        let mut selected = Vec::new();
        for item in &select.projection {
            let (header, sql_expr) = match item {
                SelectItem::UnnamedExpr(expr) => (expr.to_string(), Some(expr)),
                SelectItem::ExprWithAlias { expr, alias } => (alias.value.clone(), Some(expr)),
                SelectItem::Wildcard(options)
                    if options.opt_ilike.is_none()
                        && options.opt_exclude.is_none()
                        && options.opt_except.is_none()
                        && options.opt_replace.is_none()
                        && options.opt_rename.is_none()
                        && options.opt_alias.is_none() =>
                {
                    ("event".to_owned(), None)
                }
                other => return Err(SqlError::on(other, format!("not supported in SELECT: {other}"))),
            };
            let output = match sql_expr {
                None => Output::Event,
                Some(expr) => match count(expr)? {
                    Some(counted) => Output::Count(counted),
                    None => Output::Value(Expr::compile(expr)?),
                },
            };
            headers.push(header);
            selected.push((output, item));
        }
        let alias = |expr: &Sql| -> Option<usize> {
            match expr {
                Sql::Identifier(ident) => select.projection.iter().position(
                    |item| matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value == ident.value),
                ),
                Sql::Value(value) => match &value.value {
                    ast::Value::Number(n, _) => {
                        n.parse::<usize>().ok().filter(|n| (1..=headers.len()).contains(n)).map(|n| n - 1)
                    }
                    _ => None,
                },
                _ => None,
            }
        };
        let out_of_range = |expr: &Sql| match expr {
            Sql::Value(value) if matches!(value.value, ast::Value::Number(..)) => Some(SqlError::on(
                expr,
                format!("Expected: a column position from 1 to {}, found: {expr}", headers.len()),
            )),
            _ => None,
        };

        let group_by = match &select.group_by {
            GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => {
                let mut keys = Vec::new();
                for expr in exprs {
                    let key = match alias(expr) {
                        Some(i) => match &selected[i].0 {
                            Output::Value(expr) => expr.clone(),
                            _ => return Err(SqlError::on(expr, "Expected: a column that is not COUNT or *")),
                        },
                        None => match out_of_range(expr) {
                            Some(error) => return Err(error),
                            None => Expr::compile(expr)?,
                        },
                    };
                    keys.push(key);
                }
                keys
            }
            other => return Err(SqlError::on(other, NOT_SUPPORTED)),
        };
        let grouped = !group_by.is_empty() || selected.iter().any(|(output, _)| matches!(output, Output::Count(_)));
        let columns = if grouped {
            let grouping = |output: Output, at: &dyn Spanned| -> Result<Output, SqlError> {
                match output {
                    Output::Value(expr) => {
                        group_by.iter().position(|key| *key == expr).map(Output::Key).ok_or_else(|| {
                            SqlError::on(at, "Expected: a GROUP BY expression or COUNT(…) in a grouped query")
                        })
                    }
                    Output::Event => Err(SqlError::on(at, "* cannot be shown in a grouped query")),
                    other => Ok(other),
                }
            };
            selected.into_iter().map(|(output, item)| grouping(output, item)).collect::<Result<Vec<_>, _>>()?
        } else {
            selected.into_iter().map(|(output, _)| output).collect()
        };

        let mut order_by = Vec::new();
        if let Some(order) = &query.order_by {
            let OrderByKind::Expressions(exprs) = &order.kind else {
                return Err(SqlError::on(order, NOT_SUPPORTED));
            };
            if order.interpolate.is_some() {
                return Err(SqlError::on(order, NOT_SUPPORTED));
            }
            for item in exprs {
                let descending = match &item.options.sort {
                    None | Some(OrderBySort::Asc) => false,
                    Some(OrderBySort::Desc) => true,
                    Some(OrderBySort::Using(_)) => return Err(SqlError::on(item, NOT_SUPPORTED)),
                };
                if item.with_fill.is_some() {
                    return Err(SqlError::on(item, NOT_SUPPORTED));
                }
                let by = match alias(&item.expr) {
                    Some(i) => Sort::Column(i),
                    None => {
                        if let Some(error) = out_of_range(&item.expr) {
                            return Err(error);
                        }
                        let output = match count(&item.expr)? {
                            Some(counted) if grouped => Output::Count(counted),
                            Some(_) => {
                                return Err(SqlError::on(&item.expr, "COUNT(…) in ORDER BY needs a grouped query"));
                            }
                            None => Output::Value(Expr::compile(&item.expr)?),
                        };
                        match (output, grouped) {
                            (Output::Value(expr), true) => {
                                let key = group_by.iter().position(|key| *key == expr).ok_or_else(|| {
                                    SqlError::on(
                                        &item.expr,
                                        "Expected: a GROUP BY expression or COUNT(…) in a grouped query",
                                    )
                                })?;
                                Sort::Output(Output::Key(key))
                            }
                            (output, _) => Sort::Output(output),
                        }
                    }
                };
                order_by.push(SortKey { by, descending, nulls_first: item.options.nulls_first.unwrap_or(descending) });
            }
        }

        let (limit, offset) = match &query.limit_clause {
            None => (None, None),
            Some(LimitClause::LimitOffset { limit, offset, limit_by }) if limit_by.is_empty() => {
                (limit.as_ref(), offset.as_ref().map(|offset| &offset.value))
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
            Some(other) => return Err(SqlError::on(other, NOT_SUPPORTED)),
        };
        let number = |expr: &Sql| {
            match expr {
                Sql::Value(value) => match &value.value {
                    ast::Value::Number(n, _) => n.parse::<usize>().ok(),
                    _ => None,
                },
                _ => None,
            }
            .ok_or_else(|| SqlError::on(expr, format!("Expected: a whole number, found: {expr}")))
        };
        let limit = limit.map(number).transpose()?;
        let offset = offset.map(number).transpose()?.unwrap_or(0);

        let filter = match &select.selection {
            None => None,
            Some(condition) => {
                let compiled = Expr::condition(condition)?;
                Some(compiled)
            }
        };
        Ok(Self {
            headers,
            columns,
            filter,
            group_by: grouped.then_some(group_by),
            order_by,
            distinct: matches!(select.distinct, Some(Distinct::Distinct)),
            limit,
            offset,
        })
    }

    /// The column headers: each column's alias, else its text.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

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
                        Output::Key(_) | Output::Count(_) => Value::Null,
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
                            Output::Count(None) => Value::from(members.len()),
                            Output::Count(Some(expr)) => {
                                Value::from(members.iter().filter(|view| !expr.eval(view).is_null()).count())
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
            let mut seen = std::collections::HashSet::new();
            rows.retain(|row| seen.insert(Value::Array(row.clone()).to_string()));
        }
        rows.into_iter().skip(self.offset).take(self.limit.unwrap_or(usize::MAX)).collect()
    }

    fn sort_values(&self, row: &Row, value: impl Fn(&Output) -> Value) -> Row {
        self.order_by
            .iter()
            .map(|key| match &key.by {
                Sort::Column(i) => row[*i].clone(),
                Sort::Output(output) => value(output),
            })
            .collect()
    }
}

const NOT_SUPPORTED: &str = "not supported: delibird runs SELECT [DISTINCT] columns FROM health [WHERE …] \
                             [GROUP BY …] [ORDER BY …] [LIMIT n [OFFSET m]]";

fn position(node: &impl Spanned) -> Position {
    SqlError::on(node, "").position
}

/// `FROM health`, and nothing else.
fn check_from(select: &ast::Select, sql: &str) -> Result<(), SqlError> {
    let [table] = select.from.as_slice() else {
        let at = select.from.get(1).map_or_else(|| delibird::rules::condition::end_of(sql), position);
        return Err(SqlError::at(at, format!("Expected: FROM {FROM} (one table, no joins)")));
    };
    match &table.relation {
        TableFactor::Table { name, args: None, .. }
            if table.joins.is_empty() && name.to_string().eq_ignore_ascii_case(FROM) =>
        {
            Ok(())
        }
        other => Err(SqlError::on(other, format!("Expected: FROM {FROM}, found: {other}"))),
    }
}

/// `Some(None)` for `COUNT(*)`, `Some(Some(x))` for `COUNT(x)`, `None` for anything else.
fn count(sql: &Sql) -> Result<Option<Option<Expr>>, SqlError> {
    let Sql::Function(function) = sql else { return Ok(None) };
    if !function.name.to_string().eq_ignore_ascii_case("count") {
        return Ok(None);
    }
    let FunctionArguments::List(list) = &function.args else {
        return Err(SqlError::on(sql, "Expected: COUNT(*) or COUNT(expression)"));
    };
    let plain = function.filter.is_none()
        && function.over.is_none()
        && list.duplicate_treatment.is_none()
        && list.clauses.is_empty()
        && matches!(function.parameters, FunctionArguments::None);
    match (list.args.as_slice(), plain) {
        ([FunctionArg::Unnamed(FunctionArgExpr::Wildcard)], true) => Ok(Some(None)),
        ([FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))], true) => Ok(Some(Some(Expr::compile(expr)?))),
        _ => Err(SqlError::on(sql, "Expected: COUNT(*) or COUNT(expression)")),
    }
}

/// A total order for sorting: NULL first or last as asked, then booleans, numbers, text, arrays,
/// objects, each in its natural order (reversed when descending).
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

#[cfg(test)]
mod tests {
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
        ] {
            let error = Query::parse(sql).unwrap_err();
            assert_eq!((error.position.line, error.position.column), at, "{sql}: {error}");
            assert!(error.problem.contains(problem), "{sql}: {error}");
        }
    }
}
