//! The rule language: a SQL boolean expression over an event's JSON view ([`super::view`]),
//! parsed by `sqlparser`, compiled once into a [`Condition`], and evaluated with SQL's
//! three-valued logic. No I/O here.
//!
//! Semantics, in full (the property tests check them against a reference evaluator):
//! - A field is a dotted path (`detail.service`); `detail-type` (no spaces) and `"detail-type"`
//!   name the field with a dash. A missing field and JSON `null` are both NULL. A path that meets
//!   an array continues into each element and yields the array of what it found
//!   (`detail.affectedEntities.entityValue`).
//! - `=`, `<>`, `<`, `<=`, `>`, `>=` compare numbers with numbers, text with text (by code
//!   point), booleans with booleans, and a number with text that is a JSON number; anything else
//!   (NULL, arrays, objects, mixed types) is NULL.
//! - `AND`, `OR`, `NOT` are Kleene's: `NULL AND FALSE` is `FALSE`, `NULL OR TRUE` is `TRUE`,
//!   `NOT NULL` is NULL. A value that is not a boolean, used as a condition, is NULL.
//! - `x IN (a, b)` is TRUE when `x = a` or `x = b` is TRUE, else NULL when `x` or any comparison
//!   is NULL, else FALSE; `NOT IN` negates that. `x BETWEEN a AND b` is `x >= a AND x <= b`.
//! - `LIKE` (case-sensitive) and `ILIKE` (case-insensitive) match text: `%` any run of
//!   characters, `_` one character, `ESCAPE 'c'` to match them literally; on anything else NULL.
//! - `IS NULL`, `IS NOT NULL` are never NULL themselves.
//! - Functions: `lower(x)`, `upper(x)` (text, else NULL), `length(x)` (characters of text, items
//!   of an array), `contains(x, y)` (text contains text, or an array holds an item equal to `y`),
//!   `coalesce(x, y, …)` (the first that is not NULL).
//! - A rule matches when its condition is TRUE: NULL does not match.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;
use sqlparser::ast::{
    self, BinaryOperator, DuplicateTreatment, Expr as Sql, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    InTarget, Spanned, UnaryOperator,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};

/// Longest condition accepted, in bytes: far above any real rule, and low enough that the
/// deepest expression it can spell stays well within a thread's stack.
pub const MAX_CONDITION_BYTES: usize = 8_192;

/// Deepest nesting sqlparser may recurse to (parentheses, `NOT`s).
const MAX_PARSER_DEPTH: usize = 48;

/// Deepest expression tree delibird compiles: chains of `AND` / `OR` nest one level per term
/// without sqlparser recursing, so they are counted here.
pub const MAX_DEPTH: usize = 256;

/// The top-level names of an event's JSON view: the EventBridge envelope, and `delibird`.
pub const ROOT_FIELDS: &[&str] = &[
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
    "replay-name",
    "delibird",
];

/// The fields delibird adds under `delibird.` (see [`super::view`]).
pub const DELIBIRD_FIELDS: &[&str] =
    &["severity", "account", "title", "valid", "startTime", "endTime", "lastUpdatedTime"];

/// The fields of `delibird.account.`.
pub const ACCOUNT_FIELDS: &[&str] = &["id", "name", "ou", "tags"];

/// The values of `delibird.severity`.
pub const SEVERITIES: &[&str] = &["critical", "high", "warning", "info"];

/// A place in a SQL text: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// SQL text that cannot be used: where, and what was expected or is not supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {problem}")]
pub struct SqlError {
    /// Where the problem starts.
    pub position: Position,
    /// What was expected, or what is wrong.
    pub problem: String,
}

impl SqlError {
    /// An error at `position`.
    pub fn at(position: Position, problem: impl Into<String>) -> Self {
        Self { position, problem: problem.into() }
    }

    /// An error at the start of `node` (or of the text, when sqlparser kept no span for it).
    pub fn on(node: &(impl Spanned + ?Sized), problem: impl Into<String>) -> Self {
        Self::at(position_of(node.span().start), problem)
    }

    /// sqlparser's error, with its position taken out of the message (the end of `text` when it
    /// has none: sqlparser gives no position for "found: EOF").
    pub fn from_parser(error: ParserError, text: &str) -> Self {
        let message = match error {
            ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
            ParserError::RecursionLimitExceeded => {
                return Self::at(Position { line: 1, column: 1 }, "nested too deeply");
            }
        };
        let (problem, position) = match message.rsplit_once(" at Line: ") {
            Some((problem, place)) => {
                let mut numbers = place.split(", Column: ").map(|n| n.trim().parse::<u64>().ok());
                match (numbers.next().flatten(), numbers.next().flatten()) {
                    (Some(line), Some(column)) => (problem.to_owned(), Position { line, column }),
                    _ => (message.clone(), end_of(text)),
                }
            }
            None => (message, end_of(text)),
        };
        Self::at(position, problem.replace("found: EOF", "found: the end of the text"))
    }
}

fn position_of(location: Location) -> Position {
    if location.line == 0 {
        Position { line: 1, column: 1 }
    } else {
        Position { line: location.line, column: location.column }
    }
}

/// The position just after the last character of `text`.
pub fn end_of(text: &str) -> Position {
    let line = text.split('\n').count() as u64;
    let column = text.rsplit('\n').next().map_or(0, |last| last.chars().count()) as u64 + 1;
    Position { line, column }
}

/// A compiled rule condition: evaluate it over any number of events.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: Expr,
    text: String,
}

impl Condition {
    /// Parses and checks a SQL boolean expression, reporting the first problem with its position.
    pub fn compile(text: &str) -> Result<Self, SqlError> {
        on_a_large_stack(|| Self::compile_here(text))
    }

    fn compile_here(text: &str) -> Result<Self, SqlError> {
        if text.len() > MAX_CONDITION_BYTES {
            return Err(SqlError::at(
                Position { line: 1, column: 1 },
                format!("longer than {MAX_CONDITION_BYTES} bytes"),
            ));
        }
        if text.trim().is_empty() {
            return Err(SqlError::at(end_of(text), "Expected: a condition, found: nothing"));
        }
        let mut parser = parser(text)?;
        let sql = parser.parse_expr().map_err(|error| SqlError::from_parser(error, text))?;
        let next = parser.peek_token();
        if next.token != Token::EOF {
            return Err(SqlError::at(
                position_of(next.span.start),
                format!("Expected: the end of the condition (or AND / OR to combine), found: {}", next.token),
            ));
        }
        let expr = compile(&sql, 0)?;
        check_condition(&expr, &sql)?;
        Ok(Self { expr, text: text.to_owned() })
    }

    /// SQL's answer for `view`: `Some(true)`, `Some(false)`, or `None` for NULL.
    pub fn evaluate(&self, view: &Value) -> Option<bool> {
        truth(&self.expr.eval(view))
    }

    /// True when the condition is TRUE for `view` (NULL does not match).
    pub fn matches(&self, view: &Value) -> bool {
        self.evaluate(view) == Some(true)
    }

    /// The text it was compiled from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every field path the condition reads, dotted.
    pub fn fields(&self) -> Vec<String> {
        let mut fields = Vec::new();
        self.expr.visit_fields(&mut |path| fields.push(path.join(".")));
        fields
    }
}

/// Stack for parsing: sqlparser's recursive descent takes frames of tens of kilobytes in
/// unoptimised builds, so that a few dozen `NOT`s overflow a 2 MiB thread (a test's, a tokio
/// worker's). Only the pages touched are ever committed.
const PARSE_STACK_BYTES: usize = 64 << 20;

/// Runs `parse` on a thread of its own with [`PARSE_STACK_BYTES`] of stack, so that no SQL text can
/// overflow the caller's. Whatever sqlparser builds is dropped there too; only delibird's compiled
/// form (at most [`MAX_DEPTH`] deep) comes back.
pub fn on_a_large_stack<T: Send>(parse: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("delibird-sql".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(scope, parse)
            .expect("the system starts a thread to parse SQL on");
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A sqlparser over `text` with delibird's nesting limit.
pub fn parser(text: &str) -> Result<Parser<'static>, SqlError> {
    static DIALECT: GenericDialect = GenericDialect {};
    Parser::new(&DIALECT)
        .with_recursion_limit(MAX_PARSER_DEPTH)
        .try_with_sql(text)
        .map_err(|e| SqlError::from_parser(e, text))
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// A function delibird knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Function {
    Lower,
    Upper,
    Length,
    Contains,
    Coalesce,
}

impl Function {
    fn named(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "lower" => Self::Lower,
            "upper" => Self::Upper,
            "length" => Self::Length,
            "contains" => Self::Contains,
            "coalesce" => Self::Coalesce,
            _ => return None,
        })
    }

    /// Accepted argument counts.
    fn arity(self) -> (usize, usize) {
        match self {
            Self::Lower | Self::Upper | Self::Length => (1, 1),
            Self::Contains => (2, 2),
            Self::Coalesce => (1, usize::MAX),
        }
    }
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Field(Vec<String>),
    Literal(Value),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Comparison, Box<Expr>, Box<Expr>),
    In { expr: Box<Expr>, list: Vec<Expr>, negated: bool },
    Between { expr: Box<Expr>, low: Box<Expr>, high: Box<Expr>, negated: bool },
    Like { expr: Box<Expr>, pattern: Box<Expr>, negated: bool, ignore_case: bool, escape: Option<char> },
    IsNull { expr: Box<Expr>, negated: bool },
    Call(Function, Vec<Expr>),
}

const NULL: Value = Value::Null;

/// A compiled SQL expression of the rule language (a query's column, `GROUP BY` key or `WHERE`
/// condition), evaluated over events' views by `delibird query`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression(Expr);

impl Expression {
    /// Compiles one sqlparser expression.
    pub fn compile(sql: &Sql) -> Result<Self, SqlError> {
        compile(sql, 0).map(Self)
    }

    /// Compiles one sqlparser expression that must be able to be TRUE (a `WHERE`).
    pub fn condition(sql: &Sql) -> Result<Self, SqlError> {
        let expr = compile(sql, 0)?;
        check_condition(&expr, sql)?;
        Ok(Self(expr))
    }

    /// Its value for `view`; `Value::Null` is SQL's NULL.
    pub fn eval<'a>(&self, view: &'a Value) -> Cow<'a, Value> {
        self.0.eval(view)
    }
}

impl Expr {
    /// The value of the expression for `view`; `Value::Null` is SQL's NULL.
    pub(crate) fn eval<'a>(&self, view: &'a Value) -> Cow<'a, Value> {
        let boolean = |answer: Option<bool>| Cow::Owned(answer.map_or(Value::Null, Value::Bool));
        match self {
            Self::Field(path) => lookup(view, path),
            Self::Literal(value) => Cow::Owned(value.clone()),
            Self::Not(inner) => boolean(truth(&inner.eval(view)).map(|b| !b)),
            Self::And(left, right) => boolean(and(truth(&left.eval(view)), truth(&right.eval(view)))),
            Self::Or(left, right) => boolean(or(truth(&left.eval(view)), truth(&right.eval(view)))),
            Self::Compare(op, left, right) => boolean(compare_with(*op, &left.eval(view), &right.eval(view))),
            Self::In { expr, list, negated } => {
                let value = expr.eval(view);
                let answer = list
                    .iter()
                    .map(|item| compare_with(Comparison::Eq, &value, &item.eval(view)))
                    .fold(Some(false), or);
                boolean(if *negated { answer.map(|b| !b) } else { answer })
            }
            Self::Between { expr, low, high, negated } => {
                let value = expr.eval(view);
                let answer = and(
                    compare_with(Comparison::GtEq, &value, &low.eval(view)),
                    compare_with(Comparison::LtEq, &value, &high.eval(view)),
                );
                boolean(if *negated { answer.map(|b| !b) } else { answer })
            }
            Self::Like { expr, pattern, negated, ignore_case, escape } => {
                let answer = match (expr.eval(view).as_ref(), pattern.eval(view).as_ref()) {
                    (Value::String(text), Value::String(pattern)) if *ignore_case => {
                        Some(like(&text.to_lowercase(), &pattern.to_lowercase(), *escape))
                    }
                    (Value::String(text), Value::String(pattern)) => Some(like(text, pattern, *escape)),
                    _ => None,
                };
                boolean(if *negated { answer.map(|b| !b) } else { answer })
            }
            Self::IsNull { expr, negated } => boolean(Some(expr.eval(view).is_null() != *negated)),
            Self::Call(function, args) => call(*function, args, view),
        }
    }

    fn visit_fields(&self, visit: &mut impl FnMut(&[String])) {
        match self {
            Self::Field(path) => visit(path),
            Self::Literal(_) => {}
            Self::Not(inner) => inner.visit_fields(visit),
            Self::And(a, b) | Self::Or(a, b) | Self::Compare(_, a, b) => {
                a.visit_fields(visit);
                b.visit_fields(visit);
            }
            Self::In { expr, list, .. } => {
                expr.visit_fields(visit);
                list.iter().for_each(|item| item.visit_fields(visit));
            }
            Self::Between { expr, low, high, .. } => {
                for part in [expr, low, high] {
                    part.visit_fields(visit);
                }
            }
            Self::Like { expr, pattern, .. } => {
                expr.visit_fields(visit);
                pattern.visit_fields(visit);
            }
            Self::IsNull { expr, .. } => expr.visit_fields(visit),
            Self::Call(_, args) => args.iter().for_each(|arg| arg.visit_fields(visit)),
        }
    }

    /// What the expression yields, as far as compilation can tell.
    fn kind(&self) -> Kind {
        match self {
            Self::Literal(Value::Bool(_)) => Kind::Boolean,
            Self::Literal(Value::String(_)) => Kind::Text,
            Self::Literal(Value::Number(_)) => Kind::Number,
            Self::Literal(_) => Kind::Null,
            Self::Field(_) | Self::Call(Function::Coalesce, _) => Kind::Any,
            Self::Call(Function::Lower | Function::Upper, _) => Kind::Text,
            Self::Call(Function::Length, _) => Kind::Number,
            Self::Call(Function::Contains, _)
            | Self::Not(_)
            | Self::And(..)
            | Self::Or(..)
            | Self::Compare(..)
            | Self::In { .. }
            | Self::Between { .. }
            | Self::Like { .. }
            | Self::IsNull { .. } => Kind::Boolean,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Boolean,
    Text,
    Number,
    Null,
    Any,
}

/// A condition must be able to be TRUE: a literal text, number or NULL never is.
pub(crate) fn check_condition(expr: &Expr, sql: &Sql) -> Result<(), SqlError> {
    let found = match expr.kind() {
        Kind::Boolean | Kind::Any => return Ok(()),
        Kind::Text => "text",
        Kind::Number => "a number",
        Kind::Null => "NULL",
    };
    Err(SqlError::on(sql, format!("Expected: a condition (such as detail.service = 'EC2'), found: {found}")))
}

/// Compiles one sqlparser expression (`depth` levels down).
pub(crate) fn compile(sql: &Sql, depth: usize) -> Result<Expr, SqlError> {
    if depth > MAX_DEPTH {
        return Err(SqlError::on(
            sql,
            format!("nested too deeply (over {MAX_DEPTH} levels; a long list of ORs reads better as IN (…))"),
        ));
    }
    let sub = |inner: &Sql| compile(inner, depth + 1).map(Box::new);
    let condition = |inner: &Sql| -> Result<Box<Expr>, SqlError> {
        let compiled = compile(inner, depth + 1)?;
        check_condition(&compiled, inner)?;
        Ok(Box::new(compiled))
    };
    Ok(match sql {
        Sql::Identifier(ident) => field(std::slice::from_ref(ident), sql)?,
        Sql::CompoundIdentifier(idents) => field(idents, sql)?,
        Sql::Value(value) => literal(&value.value, sql)?,
        Sql::Nested(inner) => compile(inner, depth + 1)?,
        Sql::UnaryOp { op: UnaryOperator::Not, expr } => Expr::Not(condition(expr)?),
        Sql::UnaryOp { op: op @ (UnaryOperator::Minus | UnaryOperator::Plus), expr } => match compile(expr, depth + 1)?
        {
            Expr::Literal(Value::Number(number)) => Expr::Literal(
                signed_number(&number.to_string(), *op == UnaryOperator::Minus)
                    .ok_or_else(|| SqlError::on(sql, "not a number delibird can compare"))?,
            ),
            _ => return Err(SqlError::on(sql, "arithmetic is not supported: a sign goes only before a number")),
        },
        Sql::BinaryOp { left, op, right } => match op {
            BinaryOperator::And => Expr::And(condition(left)?, condition(right)?),
            BinaryOperator::Or => Expr::Or(condition(left)?, condition(right)?),
            BinaryOperator::Eq => comparison(Comparison::Eq, sub(left)?, sub(right)?, sql)?,
            BinaryOperator::NotEq => comparison(Comparison::NotEq, sub(left)?, sub(right)?, sql)?,
            BinaryOperator::Lt => comparison(Comparison::Lt, sub(left)?, sub(right)?, sql)?,
            BinaryOperator::LtEq => comparison(Comparison::LtEq, sub(left)?, sub(right)?, sql)?,
            BinaryOperator::Gt => comparison(Comparison::Gt, sub(left)?, sub(right)?, sql)?,
            BinaryOperator::GtEq => comparison(Comparison::GtEq, sub(left)?, sub(right)?, sql)?,
            BinaryOperator::Minus => match dashed(sql) {
                Some(idents) => field(&idents, sql)?,
                None => {
                    return Err(SqlError::on(
                        sql,
                        "arithmetic is not supported; to name a field with a dash, write it without spaces \
                         (detail-type) or in double quotes (\"detail-type\")",
                    ));
                }
            },
            other => return Err(SqlError::on(sql, format!("operator {other} is not supported{SUPPORTED}"))),
        },
        Sql::IsNull(inner) => Expr::IsNull { expr: sub(inner)?, negated: false },
        Sql::IsNotNull(inner) => Expr::IsNull { expr: sub(inner)?, negated: true },
        Sql::In { expr, target, negated, .. } => match target {
            InTarget::List(list) if !list.is_empty() => {
                let list = list.iter().map(|item| compile(item, depth + 1)).collect::<Result<Vec<_>, _>>()?;
                let expr = sub(expr)?;
                for item in &list {
                    check_severity(&expr, item, sql)?;
                }
                Expr::In { expr, list, negated: *negated }
            }
            _ => return Err(SqlError::on(sql, "IN takes a list of values: x IN ('a', 'b')")),
        },
        Sql::Between { expr, negated, low, high } => {
            Expr::Between { expr: sub(expr)?, low: sub(low)?, high: sub(high)?, negated: *negated }
        }
        Sql::Like { negated, any: false, expr, pattern, escape_char } => {
            like_expr(expr, pattern, escape_char.as_deref(), *negated, false, depth)?
        }
        Sql::ILike { negated, any: false, expr, pattern, escape_char } => {
            like_expr(expr, pattern, escape_char.as_deref(), *negated, true, depth)?
        }
        Sql::Function(function) => call_expr(function, sql, depth)?,
        other => return Err(SqlError::on(other, format!("not supported here: {other}{SUPPORTED}"))),
    })
}

const SUPPORTED: &str = " (supported: = <> < <= > >= AND OR NOT IN LIKE ILIKE IS [NOT] NULL BETWEEN, text in single quotes, \
                         numbers, TRUE, FALSE, NULL, lower(), upper(), length(), contains(), coalesce())";

fn literal(value: &ast::Value, sql: &Sql) -> Result<Expr, SqlError> {
    Ok(Expr::Literal(match value {
        ast::Value::SingleQuotedString(text) => Value::String(text.clone()),
        ast::Value::Number(text, _) => signed_number(text, false)
            .ok_or_else(|| SqlError::on(sql, format!("{text} is not a number delibird can compare")))?,
        ast::Value::Boolean(b) => Value::Bool(*b),
        ast::Value::Null => Value::Null,
        other => {
            return Err(SqlError::on(sql, format!("{other} is not supported: text takes single quotes ('EC2')")));
        }
    }))
}

/// A number literal as JSON (an integer stays an integer), negated when asked.
fn signed_number(text: &str, negate: bool) -> Option<Value> {
    let text = match (negate, text.strip_prefix('-')) {
        (false, _) => text.to_owned(),
        (true, Some(positive)) => positive.to_owned(),
        (true, None) => format!("-{text}"),
    };
    let number: serde_json::Number = serde_json::from_str(&text).ok()?;
    number.as_f64().filter(|f| f.is_finite())?;
    Some(Value::Number(number))
}

/// The identifiers of `a-b` (or `a.b-c.d`) written without spaces around the dash, as one
/// dotted path whose segment holds the dash; `None` for a real subtraction.
fn dashed(sql: &Sql) -> Option<Vec<Ident>> {
    match sql {
        Sql::Identifier(ident) => Some(vec![ident.clone()]),
        Sql::CompoundIdentifier(idents) => Some(idents.clone()),
        Sql::BinaryOp { left, op: BinaryOperator::Minus, right } => {
            let mut left = dashed(left)?;
            let right = dashed(right)?;
            let (last, first) = (left.last()?, right.first()?);
            let (end, start) = (last.span.end, first.span.start);
            let adjacent = end.line == start.line && end.column + 1 == start.column;
            if !adjacent || last.quote_style.is_some() || first.quote_style.is_some() {
                return None;
            }
            let joined = Ident { value: format!("{}-{}", last.value, first.value), ..last.clone() };
            let n = left.len();
            left[n - 1] = joined;
            left.extend(right.into_iter().skip(1));
            Some(left)
        }
        _ => None,
    }
}

/// Words of the language that are never field names.
const KEYWORDS: &[&str] =
    &["AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "BETWEEN", "ESCAPE", "TRUE", "FALSE"];

/// A dotted field path, checked against the view's known roots and `delibird.` fields.
fn field(idents: &[Ident], sql: &Sql) -> Result<Expr, SqlError> {
    let path: Vec<String> = idents.iter().map(|ident| ident.value.clone()).collect();
    let root = path[0].as_str();
    // sqlparser reads a keyword where an expression ends early (`… AND NOT`) as a name.
    if idents.len() == 1 && idents[0].quote_style.is_none() && KEYWORDS.contains(&root.to_ascii_uppercase().as_str()) {
        return Err(SqlError::on(sql, format!("Expected: an expression, found: {root}")));
    }
    if !ROOT_FIELDS.contains(&root) {
        let quoted = idents[0].quote_style == Some('"') && path.len() == 1;
        let hint = if quoted { format!("; text takes single quotes: '{root}'") } else { String::new() };
        return Err(SqlError::on(
            sql,
            format!(
                "unknown field {root}: fields are detail.…, delibird.…, or one of {}{hint}",
                ROOT_FIELDS
                    .iter()
                    .filter(|f| !matches!(**f, "detail" | "delibird"))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if root == "delibird" {
        let known = |list: &[&str], at: usize| path.get(at).is_none_or(|name| list.contains(&name.as_str()));
        let problem = if !known(DELIBIRD_FIELDS, 1) || path.len() == 1 {
            Some(format!(
                "delibird.{} is not a field: delibird.… is one of {}",
                path[1..].join("."),
                DELIBIRD_FIELDS.join(", ")
            ))
        } else if path[1] == "account" && !known(ACCOUNT_FIELDS, 2) {
            Some(format!(
                "{} is not a field: delibird.account.… is one of {}",
                path.join("."),
                ACCOUNT_FIELDS.join(", ")
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(SqlError::on(sql, problem));
        }
    }
    Ok(Expr::Field(path))
}

/// `delibird.severity` against a text that is not a severity is a mistake, not a rule that never
/// matches.
fn check_severity(a: &Expr, b: &Expr, sql: &Sql) -> Result<(), SqlError> {
    let severity = |e: &Expr| matches!(e, Expr::Field(path) if path == &["delibird", "severity"]);
    for (field, other) in [(a, b), (b, a)] {
        if let (true, Expr::Literal(Value::String(text))) = (severity(field), other)
            && !SEVERITIES.contains(&text.as_str())
        {
            return Err(SqlError::on(
                sql,
                format!("delibird.severity is one of {}, never '{text}'", SEVERITIES.join(", ")),
            ));
        }
    }
    Ok(())
}

fn comparison(op: Comparison, left: Box<Expr>, right: Box<Expr>, sql: &Sql) -> Result<Expr, SqlError> {
    check_severity(&left, &right, sql)?;
    Ok(Expr::Compare(op, left, right))
}

fn like_expr(
    expr: &Sql,
    pattern: &Sql,
    escape: Option<&Sql>,
    negated: bool,
    ignore_case: bool,
    depth: usize,
) -> Result<Expr, SqlError> {
    let escape = match escape {
        None => None,
        Some(sql) => match compile(sql, depth + 1)? {
            Expr::Literal(Value::String(text)) if text.chars().count() == 1 => text.chars().next(),
            _ => return Err(SqlError::on(sql, "ESCAPE takes one character in single quotes: ESCAPE '\\'")),
        },
    };
    Ok(Expr::Like {
        expr: Box::new(compile(expr, depth + 1)?),
        pattern: Box::new(compile(pattern, depth + 1)?),
        negated,
        ignore_case,
        escape,
    })
}

fn call_expr(function: &ast::Function, sql: &Sql, depth: usize) -> Result<Expr, SqlError> {
    let name = function.name.to_string();
    let known = Function::named(&name).ok_or_else(|| {
        let problem = if name.eq_ignore_ascii_case("count") {
            format!("{name}(…) is a column of a query (SELECT COUNT(*) … GROUP BY …), not part of an expression")
        } else {
            format!("unknown function {name}: delibird knows lower, upper, length, contains, coalesce")
        };
        SqlError::on(&function.name, problem)
    })?;
    let plain = function.filter.is_none()
        && function.over.is_none()
        && function.within_group.is_empty()
        && function.null_treatment.is_none()
        && matches!(function.parameters, FunctionArguments::None);
    let FunctionArguments::List(list) = &function.args else {
        return Err(SqlError::on(sql, format!("{name} takes its arguments in parentheses: {name}(x)")));
    };
    if !plain || !list.clauses.is_empty() || matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)) {
        return Err(SqlError::on(sql, format!("{name}: only plain arguments are supported")));
    }
    let args = list
        .args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => compile(expr, depth + 1),
            _ => Err(SqlError::on(sql, format!("{name}: only plain arguments are supported"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (min, max) = known.arity();
    if args.len() < min || args.len() > max {
        let wanted = match (min, max) {
            (1, 1) => "one argument".to_owned(),
            (2, 2) => "two arguments".to_owned(),
            (min, _) => format!("at least {min} argument(s)"),
        };
        return Err(SqlError::on(sql, format!("{name} takes {wanted}, found {}", args.len())));
    }
    Ok(Expr::Call(known, args))
}

/// The value at `path` in `value`; through arrays, the array of what each element holds there.
pub fn lookup<'a>(value: &'a Value, path: &[String]) -> Cow<'a, Value> {
    let Some((first, rest)) = path.split_first() else { return Cow::Borrowed(value) };
    match value {
        Value::Object(map) => map.get(first).map_or(Cow::Borrowed(&NULL), |inner| lookup(inner, rest)),
        Value::Array(items) => Cow::Owned(Value::Array(
            items.iter().map(|item| lookup(item, path)).filter(|found| !found.is_null()).map(Cow::into_owned).collect(),
        )),
        _ => Cow::Borrowed(&NULL),
    }
}

/// A boolean, or NULL for anything else.
fn truth(value: &Value) -> Option<bool> {
    value.as_bool()
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Text that is a JSON number, as a number.
fn numeric(text: &str) -> Option<f64> {
    serde_json::from_str::<serde_json::Number>(text).ok()?.as_f64()
}

/// How two values compare, or `None` (NULL) when they cannot be.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::String(y)) => x.as_f64()?.partial_cmp(&numeric(y)?),
        (Value::String(x), Value::Number(y)) => numeric(x)?.partial_cmp(&y.as_f64()?),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare_with(op: Comparison, a: &Value, b: &Value) -> Option<bool> {
    let order = compare(a, b)?;
    Some(match op {
        Comparison::Eq => order == Ordering::Equal,
        Comparison::NotEq => order != Ordering::Equal,
        Comparison::Lt => order == Ordering::Less,
        Comparison::LtEq => order != Ordering::Greater,
        Comparison::Gt => order == Ordering::Greater,
        Comparison::GtEq => order != Ordering::Less,
    })
}

fn call<'a>(function: Function, args: &[Expr], view: &'a Value) -> Cow<'a, Value> {
    let text = |f: fn(&str) -> String| match args[0].eval(view).as_ref() {
        Value::String(s) => Value::String(f(s)),
        _ => Value::Null,
    };
    Cow::Owned(match function {
        Function::Lower => text(str::to_lowercase),
        Function::Upper => text(str::to_uppercase),
        Function::Length => match args[0].eval(view).as_ref() {
            Value::String(s) => Value::from(s.chars().count()),
            Value::Array(items) => Value::from(items.len()),
            _ => Value::Null,
        },
        Function::Contains => {
            let (haystack, needle) = (args[0].eval(view), args[1].eval(view));
            match (haystack.as_ref(), needle.as_ref()) {
                (_, Value::Null) => Value::Null,
                (Value::String(h), Value::String(n)) => Value::Bool(h.contains(n.as_str())),
                (Value::Array(items), n) => {
                    Value::Bool(items.iter().any(|item| compare(item, n) == Some(Ordering::Equal)))
                }
                _ => Value::Null,
            }
        }
        Function::Coalesce => {
            return args.iter().map(|arg| arg.eval(view)).find(|v| !v.is_null()).unwrap_or(Cow::Borrowed(&NULL));
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Any,
    One,
    Char(char),
}

/// SQL `LIKE`: `%` matches any run of characters, `_` one; `escape` makes the next one literal.
pub fn like(text: &str, pattern: &str, escape: Option<char>) -> bool {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            c if Some(c) == escape => Piece::Char(chars.next().unwrap_or(c)),
            '%' => Piece::Any,
            '_' => Piece::One,
            c => Piece::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with one backtrack point: the last `%` seen.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Piece::One) => (t, p) = (t + 1, p + 1),
            Some(Piece::Char(c)) if *c == text[t] => (t, p) = (t + 1, p + 1),
            Some(Piece::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    star = Some((star_p, star_t + 1));
                    (t, p) = (star_t + 1, star_p + 1);
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|token| *token == Piece::Any)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event() -> Value {
        json!({
            "detail-type": "AWS Health Event", "region": "ap-northeast-2", "account": "111122223333",
            "resources": ["i-1", "i-2"],
            "detail": {"service": "EC2", "eventTypeCategory": "issue", "page": "2",
                       "affectedEntities": [{"entityValue": "i-1"}, {"entityValue": "i-2", "status": "IMPAIRED"}]},
            "delibird": {"severity": "high", "account": {"id": "111122223333", "name": "payments-prod",
                         "ou": "Production / Payments", "tags": {"Owner": "team-payments"}}}
        })
    }

    fn check(text: &str) -> Option<bool> {
        Condition::compile(text).unwrap_or_else(|e| panic!("{text}: {e}")).evaluate(&event())
    }

    #[test]
    fn the_issue_example_matches() {
        let text =
            "detail.service = 'EC2' AND detail.eventTypeCategory IN ('issue','scheduledChange') AND region LIKE 'ap-%'";
        assert_eq!(check(text), Some(true));
    }

    #[test]
    fn missing_fields_are_null_and_null_does_not_match() {
        assert_eq!(check("detail.nothing = 'x'"), None);
        assert_eq!(check("NOT detail.nothing = 'x'"), None);
        assert_eq!(check("detail.nothing IS NULL"), Some(true));
        assert_eq!(check("detail.nothing = 'x' OR region = 'ap-northeast-2'"), Some(true));
        assert_eq!(check("detail.nothing = 'x' AND region = 'eu-west-1'"), Some(false));
    }

    #[test]
    fn dashed_names_work_bare_or_quoted() {
        assert_eq!(check("detail-type = 'AWS Health Event'"), Some(true));
        assert_eq!(check("\"detail-type\" = 'AWS Health Event'"), Some(true));
        let spaced = Condition::compile("detail - type = 'x'").unwrap_err();
        assert!(spaced.problem.contains("arithmetic is not supported"), "{spaced}");
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
        assert_eq!(check("coalesce(detail.nothing, delibird.account.tags.Owner) = 'team-payments'"), Some(true));
        assert_eq!(check("delibird.account.name ILIKE '%-PROD'"), Some(true));
        assert_eq!(check("delibird.account.name LIKE '%-PROD'"), Some(false));
    }

    #[test]
    fn like_handles_wildcards_and_escapes() {
        assert!(like("ap-northeast-2", "ap-%", None));
        assert!(like("abc", "a_c", None));
        assert!(!like("abc", "a_", None));
        assert!(like("50%", "50!%", Some('!')));
        assert!(!like("500", "50!%", Some('!')));
        assert!(like("", "%", None));
        assert!(like("aXbXc", "%b%c", None));
        assert!(!like("ab", "a%c", None));
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        let error = Condition::compile("detail.service = ").unwrap_err();
        assert_eq!(error.position, Position { line: 1, column: 18 });
        assert!(error.problem.contains("Expected: an expression"), "{error}");
        let error = Condition::compile("detail.service = 'EC2' region = 'x'").unwrap_err();
        assert_eq!(error.position, Position { line: 1, column: 24 });
        let error = Condition::compile("detail.service = \"EC2\"").unwrap_err();
        assert!(error.problem.contains("'EC2'"), "{error}");
        let error = Condition::compile("delibird.severity = 'Critical'").unwrap_err();
        assert!(error.problem.contains("critical, high"), "{error}");
        let error = Condition::compile("delibird.acount.name = 'x'").unwrap_err();
        assert!(error.problem.contains("delibird.acount.name is not a field"), "{error}");
        let error = Condition::compile("detail.service").map(|_| ()).and(Condition::compile("'EC2'").map(|_| ()));
        assert!(error.unwrap_err().problem.contains("Expected: a condition"));
        let error = Condition::compile("region = 'a'\n  AND upper(region) = reverse(region)").unwrap_err();
        assert_eq!(error.position, Position { line: 2, column: 23 });
        assert!(error.problem.contains("unknown function"), "{error}");
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}region = 'x'{}", "(".repeat(500), ")".repeat(500));
        assert!(Condition::compile(&deep).unwrap_err().problem.contains("nested too deeply"));
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
        assert!(Condition::compile(&longest).unwrap_err().problem.contains("nested too deeply"));
        let fine = vec!["region = 'x'"; 100].join(" OR ");
        assert_eq!(Condition::compile(&fine).unwrap().evaluate(&event()), Some(false));
    }
}
