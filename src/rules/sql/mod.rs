//! The rule language: a SQL boolean expression over an event's JSON view ([`super::view`]),
//! parsed by `sqlparser`, compiled once into a [`Condition`], and evaluated with SQL's
//! three-valued logic. No I/O here.
//!
//! Semantics, in full (the property tests check them against a reference evaluator):
//! - A field is a dotted path (`detail.service`); `detail-type` (no spaces) and `"detail-type"`
//!   name the field with a dash. Every path is checked against the view's schema
//!   ([`super::schema`]): a name the event never holds is an error with the nearest known name,
//!   except below open maps (`detail.eventMetadata.…`, entities' `tags.…`,
//!   `delibird.account.tags.…`). A missing field and JSON `null` are both NULL. A path that meets
//!   an array continues into each element and yields the array of what it found
//!   (`detail.affectedEntities.entityValue`).
//! - `=`, `<>`, `<`, `<=`, `>`, `>=` compare numbers with numbers, text with text (by code
//!   point), booleans with booleans, and a number with text that is a JSON number; anything else
//!   (NULL, arrays, objects, mixed types) is NULL.
//! - Times compare as instants: when one side of a comparison (`BETWEEN` and `IN` included) is a
//!   time field (`detail.startTime`, `endTime`, `lastUpdatedTime`, an entity's, `time`,
//!   `delibird.startTime`, …), a text on the other side must name a time (`'2024-07-17'`, its
//!   midnight UTC; `'2024-07-17T12:00:00Z'`; an offset; Health's own form), or the rule is
//!   refused; every side is then read as that instant.
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
//!
//! The query engine (`delibird query`, in `delibird-tools`) builds on this module's public
//! part: [`parser`] and [`on_a_large_stack`] to parse a statement, [`Expression`] for each of
//! its expressions, [`SqlError`] and [`Position`] for what is wrong and where.

mod compile;
mod error;
mod eval;
mod expr;
mod like;
mod time;

use std::borrow::Cow;

use serde_json::Value;
use sqlparser::ast::Expr as Sql;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::rules::schema;

pub use error::{Literal, Position, SqlError, SqlProblem};

use compile::{check_condition, compile};
use eval::truth;
use expr::Expr;

/// Longest condition accepted, in bytes: far above any real rule, and low enough that the
/// deepest expression it can spell stays well within a thread's stack.
pub const MAX_CONDITION_BYTES: usize = 8_192;

/// Deepest nesting sqlparser may recurse to (parentheses, `NOT`s).
const MAX_PARSER_DEPTH: usize = 48;

/// Deepest expression tree delibird compiles: chains of `AND` / `OR` nest one level per term
/// without sqlparser recursing, so they are counted here.
pub const MAX_DEPTH: usize = 256;

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
            return Err(SqlError::at(Position::START, SqlProblem::TooLong { max: MAX_CONDITION_BYTES }));
        }
        if text.trim().is_empty() {
            return Err(SqlError::at(Position::end_of(text), SqlProblem::Empty));
        }
        let mut parser = parser(text)?;
        let sql = parser.parse_expr().map_err(|error| SqlError::from_parser(error, text))?;
        let next = parser.peek_token();
        if next.token != Token::EOF {
            let kind = SqlProblem::TrailingText { found: next.token.to_string() };
            return Err(SqlError::at(Position::from(next.span.start), kind));
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

/// A compiled SQL expression of the rule language (a query's column, `GROUP BY` key or `WHERE`
/// condition), evaluated over events' views by `delibird query`. Fields are checked against the
/// schema and times compared as instants, exactly as in a rule.
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

    /// True when it is a field holding a time (`detail.startTime`, …): its values order as the
    /// times they name ([`instant`]), not as their text.
    pub fn is_time(&self) -> bool {
        matches!(&self.0, Expr::Field(path) if schema::shape_of(path) == Ok(schema::Shape::Time))
    }
}

/// The instant a time's text names, in the form the rule language compares times in (ISO 8601
/// UTC to the second, whose text order is time order); `None` when it names none.
pub fn instant(text: &str) -> Option<String> {
    time::instant(text)
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

#[cfg(test)]
mod tests;
