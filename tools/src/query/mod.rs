//! `SELECT … FROM health [WHERE …] [GROUP BY …] [ORDER BY …] [LIMIT n [OFFSET m]]` over events'
//! JSON views, for `delibird query`. The `WHERE` condition and every expression are the rule
//! language ([`delibird::rules::sql::Expression`]: fields checked against the Health event's
//! schema, times compared as instants); the one aggregate is `COUNT(*)` (or `COUNT(x)`: rows
//! where `x` is not NULL; `COUNT(DISTINCT x)`: distinct values of `x` that are not NULL). No I/O
//! here.
//!
//! - Columns are expressions, optionally `AS name`; `*` is the whole view. A column's header is
//!   its alias, else its text as written (`detail-type`, not sqlparser's `detail - type`).
//! - With `GROUP BY` (or a `COUNT` column), one row per distinct group, in the order groups were
//!   first seen; every other column must be one of the `GROUP BY` expressions (or name its alias
//!   or position).
//! - `ORDER BY` takes expressions, column aliases or positions (from 1), `ASC` / `DESC` and
//!   `NULLS FIRST` / `NULLS LAST`; NULL sorts last either way unless `NULLS FIRST` is written
//!   (so `ORDER BY n DESC` starts with the largest `n`, not with the rows that have none). A time
//!   field sorts in time order. Values of different types sort booleans, numbers, text, arrays,
//!   objects.
//! - `SELECT DISTINCT` keeps the first of equal rows.

mod error;
mod run;

use delibird::rules::sql::{Expression as Expr, MAX_CONDITION_BYTES, Position, on_a_large_stack, parser};
use serde_json::Value;
use sqlparser::ast::{
    self, Distinct, DuplicateTreatment, Expr as Sql, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr,
    LimitClause, OrderByKind, OrderBySort, SelectItem, SetExpr, Spanned, Statement, TableFactor,
};

pub use error::{QueryError, QueryProblem};

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
    /// The rows of the group, or those where the expression is not NULL, or (`distinct`) the
    /// distinct values of the expression that are not NULL (grouped).
    Count { expr: Option<Expr>, distinct: bool },
    /// The whole view (ungrouped).
    Event,
}

#[derive(Debug, Clone, PartialEq)]
struct SortKey {
    by: Sort,
    descending: bool,
    nulls_first: bool,
    /// Whether the values are times, sorted as the instants they name.
    time: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Sort {
    Column(usize),
    Output(Output),
}

const FROM: &str = "health";

/// A column of the `SELECT` list: its header, what it holds, and the item it came from.
type Selected<'a> = (String, Output, &'a SelectItem);

impl Query {
    /// Parses and checks a query, reporting the first problem with its position.
    pub fn parse(sql: &str) -> Result<Self, QueryError> {
        on_a_large_stack(|| Self::parse_here(sql))
    }

    fn parse_here(text: &str) -> Result<Self, QueryError> {
        let max = MAX_CONDITION_BYTES * 2;
        if text.len() > max {
            return Err(QueryError::at(Position::START, QueryProblem::TooLong { max }));
        }
        let statements = parser(text)?
            .parse_statements()
            .map_err(|error| QueryError::from(delibird::rules::sql::SqlError::from_parser(error, text)))?;
        let [statement] = statements.as_slice() else {
            let at = statements.get(1).map_or(Position::START, Position::start_of);
            return Err(QueryError::at(at, QueryProblem::OneStatement));
        };
        let (query, select) = supported(statement)?;
        check_from(select, text)?;

        let selected = select
            .projection
            .iter()
            .zip(as_written(select, text))
            .map(|(item, written)| column(item, written))
            .collect::<Result<Vec<_>, _>>()?;
        let group_by = group_by(select, &selected)?;
        let grouped =
            !group_by.is_empty() || selected.iter().any(|(_, output, _)| matches!(output, Output::Count { .. }));
        let headers: Vec<String> = selected.iter().map(|(header, _, _)| header.clone()).collect();
        let order_by = order_by(query, &selected, &group_by, grouped)?;
        let columns = if grouped {
            selected.into_iter().map(|(_, output, item)| grouping(output, item, &group_by)).collect::<Result<_, _>>()?
        } else {
            selected.into_iter().map(|(_, output, _)| output).collect()
        };
        let (limit, offset) = limits(query)?;
        let filter = select.selection.as_ref().map(Expr::condition).transpose()?;
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

    /// The column headers: each column's alias, else its text as written.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }
}

/// The query and its `SELECT`, when it uses nothing delibird does not run.
fn supported(statement: &Statement) -> Result<(&ast::Query, &ast::Select), QueryError> {
    let unsupported = |node: &dyn Spanned| QueryError::at(Position::from(node.span().start), QueryProblem::Unsupported);
    let Statement::Query(query) = statement else {
        return Err(QueryError::on(statement, QueryProblem::NotASelect));
    };
    if query.with.is_some()
        || query.fetch.is_some()
        || !query.locks.is_empty()
        || query.for_clause.is_some()
        || query.settings.is_some()
        || query.format_clause.is_some()
        || !query.pipe_operators.is_empty()
    {
        return Err(unsupported(query.as_ref()));
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(unsupported(query.body.as_ref()));
    };
    if select.top.is_some()
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
        || matches!(select.distinct, Some(Distinct::On(_)))
    {
        return Err(unsupported(select.as_ref()));
    }
    Ok((query, select))
}

/// `FROM health`, and nothing else.
fn check_from(select: &ast::Select, text: &str) -> Result<(), QueryError> {
    let [table] = select.from.as_slice() else {
        let at = select.from.get(1).map_or_else(|| Position::end_of(text), Position::start_of);
        return Err(QueryError::at(at, QueryProblem::NotFromHealth { found: None }));
    };
    match &table.relation {
        TableFactor::Table { name, args: None, .. }
            if table.joins.is_empty() && name.to_string().eq_ignore_ascii_case(FROM) =>
        {
            Ok(())
        }
        other => Err(QueryError::on(other, QueryProblem::NotFromHealth { found: Some(other.to_string()) })),
    }
}

/// One `SELECT` item: its header and what it holds.
fn column<'a>(item: &'a SelectItem, written: Option<String>) -> Result<Selected<'a>, QueryError> {
    let (header, expr) = match item {
        SelectItem::UnnamedExpr(expr) => (written.unwrap_or_else(|| expr.to_string()), Some(expr)),
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
        other => return Err(QueryError::on(other, QueryProblem::UnsupportedItem { item: other.to_string() })),
    };
    let output = match expr {
        None => Output::Event,
        Some(expr) => match count(expr)? {
            Some(output) => output,
            None => Output::Value(Expr::compile(expr)?),
        },
    };
    Ok((header, output, item))
}

/// The text of each `SELECT` item as written, runs of spaces made one; `None` where sqlparser
/// kept no span. sqlparser's span of a function call ends before its parenthesis, so an item's
/// text runs to the comma before the next item, or to `FROM` for the last one.
fn as_written(select: &ast::Select, text: &str) -> Vec<Option<String>> {
    let items = &select.projection;
    let spans: Vec<Option<(usize, usize)>> = items
        .iter()
        .map(|item| {
            let span = item.span();
            offset(text, span.start).zip(offset(text, span.end))
        })
        .collect();
    (0..items.len())
        .map(|i| {
            let (start, end) = spans[i]?;
            let rest = text.get(end..)?;
            let until = match spans.get(i + 1) {
                Some(next) => rest.get(..next.as_ref()?.0.checked_sub(end)?)?.rfind(',')?,
                None => keyword(rest, "from")?,
            };
            let written = text.get(start..end + until)?.split_whitespace().collect::<Vec<_>>().join(" ");
            (!written.is_empty()).then_some(written)
        })
        .collect()
}

/// Where the word `word` (any case) first stands on its own in `text`.
fn keyword(text: &str, word: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    lower
        .match_indices(word)
        .map(|(at, _)| at)
        .find(|&at| boundary(lower[..at].chars().next_back()) && boundary(lower[at + word.len()..].chars().next()))
}

/// The byte offset of a sqlparser location (1-based line and column, in characters).
fn offset(text: &str, location: sqlparser::tokenizer::Location) -> Option<usize> {
    if location.line == 0 {
        return None;
    }
    let line_start: usize =
        text.split_inclusive('\n').take(usize::try_from(location.line).ok()? - 1).map(str::len).sum();
    let line = text.get(line_start..)?;
    let column = usize::try_from(location.column).ok()? - 1;
    Some(line_start + line.char_indices().nth(column).map_or(line.len(), |(at, _)| at))
}

/// Which column a `GROUP BY` or `ORDER BY` item names: an alias, or a position from 1.
fn named_column(expr: &Sql, selected: &[Selected<'_>]) -> Option<usize> {
    match expr {
        Sql::Identifier(ident) => selected.iter().position(
            |(_, _, item)| matches!(item, SelectItem::ExprWithAlias { alias, .. } if alias.value == ident.value),
        ),
        Sql::Value(value) => match &value.value {
            ast::Value::Number(n, _) => {
                n.parse::<usize>().ok().filter(|n| (1..=selected.len()).contains(n)).map(|n| n - 1)
            }
            _ => None,
        },
        _ => None,
    }
}

/// A number where a column position was meant, but out of range.
fn out_of_range(expr: &Sql, columns: usize) -> Result<(), QueryError> {
    match expr {
        Sql::Value(value) if matches!(value.value, ast::Value::Number(..)) => {
            Err(QueryError::on(expr, QueryProblem::ColumnPosition { columns, found: expr.to_string() }))
        }
        _ => Ok(()),
    }
}

fn group_by(select: &ast::Select, selected: &[Selected<'_>]) -> Result<Vec<Expr>, QueryError> {
    let GroupByExpr::Expressions(exprs, modifiers) = &select.group_by else {
        return Err(QueryError::on(&select.group_by, QueryProblem::Unsupported));
    };
    if !modifiers.is_empty() {
        return Err(QueryError::on(&select.group_by, QueryProblem::Unsupported));
    }
    exprs
        .iter()
        .map(|expr| match named_column(expr, selected) {
            Some(i) => match &selected[i].1 {
                Output::Value(compiled) => Ok(compiled.clone()),
                _ => Err(QueryError::on(expr, QueryProblem::GroupByCount)),
            },
            None => {
                out_of_range(expr, selected.len())?;
                Ok(Expr::compile(expr)?)
            }
        })
        .collect()
}

/// In a grouped query, a column as its `GROUP BY` key or its count.
fn grouping(output: Output, at: &dyn Spanned, keys: &[Expr]) -> Result<Output, QueryError> {
    let position = Position::from(at.span().start);
    match output {
        Output::Value(expr) => keys
            .iter()
            .position(|key| *key == expr)
            .map(Output::Key)
            .ok_or_else(|| QueryError::at(position, QueryProblem::NotGrouped)),
        Output::Event => Err(QueryError::at(position, QueryProblem::EventGrouped)),
        other => Ok(other),
    }
}

fn order_by(
    query: &ast::Query,
    selected: &[Selected<'_>],
    keys: &[Expr],
    grouped: bool,
) -> Result<Vec<SortKey>, QueryError> {
    let Some(order) = &query.order_by else { return Ok(Vec::new()) };
    let OrderByKind::Expressions(exprs) = &order.kind else {
        return Err(QueryError::on(order, QueryProblem::Unsupported));
    };
    if order.interpolate.is_some() {
        return Err(QueryError::on(order, QueryProblem::Unsupported));
    }
    let mut sort = Vec::new();
    for item in exprs {
        let descending = match &item.options.sort {
            None | Some(OrderBySort::Asc) => false,
            Some(OrderBySort::Desc) => true,
            Some(OrderBySort::Using(_)) => return Err(QueryError::on(item, QueryProblem::Unsupported)),
        };
        if item.with_fill.is_some() {
            return Err(QueryError::on(item, QueryProblem::Unsupported));
        }
        let (by, time) = match named_column(&item.expr, selected) {
            Some(i) => {
                let time = matches!(&selected[i].1, Output::Value(expr) if expr.is_time());
                (Sort::Column(i), time)
            }
            None => {
                out_of_range(&item.expr, selected.len())?;
                let output = match count(&item.expr)? {
                    Some(counted) if grouped => counted,
                    Some(_) => return Err(QueryError::on(&item.expr, QueryProblem::CountUngrouped)),
                    None => Output::Value(Expr::compile(&item.expr)?),
                };
                match (output, grouped) {
                    (Output::Value(expr), true) => {
                        let key = keys
                            .iter()
                            .position(|key| *key == expr)
                            .ok_or_else(|| QueryError::on(&item.expr, QueryProblem::NotGrouped))?;
                        (Sort::Output(Output::Key(key)), expr.is_time())
                    }
                    (output, _) => {
                        let time = matches!(&output, Output::Value(expr) if expr.is_time());
                        (Sort::Output(output), time)
                    }
                }
            }
        };
        // NULL last unless NULLS FIRST is written, ascending or descending.
        sort.push(SortKey { by, descending, nulls_first: item.options.nulls_first.unwrap_or(false), time });
    }
    Ok(sort)
}

fn limits(query: &ast::Query) -> Result<(Option<usize>, usize), QueryError> {
    let (limit, offset) = match &query.limit_clause {
        None => (None, None),
        Some(LimitClause::LimitOffset { limit, offset, limit_by }) if limit_by.is_empty() => {
            (limit.as_ref(), offset.as_ref().map(|offset| &offset.value))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(limit), Some(offset)),
        Some(other) => return Err(QueryError::on(other, QueryProblem::Unsupported)),
    };
    let number = |expr: &Sql| {
        match expr {
            Sql::Value(value) => match &value.value {
                ast::Value::Number(n, _) => n.parse::<usize>().ok(),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| QueryError::on(expr, QueryProblem::NotAWholeNumber { found: expr.to_string() }))
    };
    Ok((limit.map(number).transpose()?, offset.map(number).transpose()?.unwrap_or(0)))
}

/// The count a `COUNT(…)` asks for; `None` for anything else.
fn count(sql: &Sql) -> Result<Option<Output>, QueryError> {
    let Sql::Function(function) = sql else { return Ok(None) };
    if !function.name.to_string().eq_ignore_ascii_case("count") {
        return Ok(None);
    }
    let FunctionArguments::List(list) = &function.args else {
        return Err(QueryError::on(sql, QueryProblem::BadCount));
    };
    let plain = function.filter.is_none()
        && function.over.is_none()
        && list.clauses.is_empty()
        && matches!(function.parameters, FunctionArguments::None);
    let distinct = match list.duplicate_treatment {
        None | Some(DuplicateTreatment::All) => false,
        Some(DuplicateTreatment::Distinct) => true,
    };
    match (list.args.as_slice(), plain) {
        ([FunctionArg::Unnamed(FunctionArgExpr::Wildcard)], true) if !distinct => {
            Ok(Some(Output::Count { expr: None, distinct }))
        }
        ([FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))], true) => {
            Ok(Some(Output::Count { expr: Some(Expr::compile(expr)?), distinct }))
        }
        _ => Err(QueryError::on(sql, QueryProblem::BadCount)),
    }
}

#[cfg(test)]
mod tests;
