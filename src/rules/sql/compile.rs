//! sqlparser's expression tree → [`Expr`], checked as it goes: every field against the view's
//! schema ([`crate::rules::schema`]), severities against the card's, functions and their
//! arguments, conditions that can be TRUE, and times compared as instants. No I/O here.

use serde_json::Value;
use sqlparser::ast::{
    self, BinaryOperator, DuplicateTreatment, Expr as Sql, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    InTarget, UnaryOperator,
};

use super::MAX_DEPTH;
use super::error::{Literal, SqlError, SqlProblem};
use super::expr::{Comparison, Expr, Function, Kind};
use super::time::instant;
use crate::rules::schema::{self, PathError, SEVERITIES, Shape};
use crate::suggest::closest;

/// Compiles one sqlparser expression (`depth` levels down).
pub(crate) fn compile(sql: &Sql, depth: usize) -> Result<Expr, SqlError> {
    if depth > MAX_DEPTH {
        return Err(SqlError::on(sql, SqlProblem::TooDeep { limit: Some(MAX_DEPTH) }));
    }
    let sub = |inner: &Sql| compile(inner, depth + 1);
    let condition = |inner: &Sql| -> Result<Box<Expr>, SqlError> {
        let compiled = compile(inner, depth + 1)?;
        check_condition(&compiled, inner)?;
        Ok(Box::new(compiled))
    };
    let compare = |op: Comparison, left: &Sql, right: &Sql| -> Result<Expr, SqlError> {
        let (a, b) = (sub(left)?, sub(right)?);
        check_severity(&a, &b, sql)?;
        let [a, b] = as_instants([(a, left), (b, right)])?;
        Ok(Expr::Compare(op, Box::new(a), Box::new(b)))
    };
    Ok(match sql {
        Sql::Identifier(ident) => field(std::slice::from_ref(ident), sql)?,
        Sql::CompoundIdentifier(idents) => field(idents, sql)?,
        Sql::Value(value) => literal(&value.value, sql)?,
        Sql::Nested(inner) => compile(inner, depth + 1)?,
        Sql::UnaryOp { op: UnaryOperator::Not, expr } => Expr::Not(condition(expr)?),
        Sql::UnaryOp { op: op @ (UnaryOperator::Minus | UnaryOperator::Plus), expr } => match sub(expr)? {
            Expr::Literal(Value::Number(number)) => Expr::Literal(
                signed_number(&number.to_string(), *op == UnaryOperator::Minus)
                    .ok_or_else(|| SqlError::on(sql, SqlProblem::BadNumber { text: sql.to_string() }))?,
            ),
            _ => return Err(SqlError::on(sql, SqlProblem::Arithmetic { dash: false })),
        },
        Sql::BinaryOp { left, op, right } => match op {
            BinaryOperator::And => Expr::And(condition(left)?, condition(right)?),
            BinaryOperator::Or => Expr::Or(condition(left)?, condition(right)?),
            BinaryOperator::Eq => compare(Comparison::Eq, left, right)?,
            BinaryOperator::NotEq => compare(Comparison::NotEq, left, right)?,
            BinaryOperator::Lt => compare(Comparison::Lt, left, right)?,
            BinaryOperator::LtEq => compare(Comparison::LtEq, left, right)?,
            BinaryOperator::Gt => compare(Comparison::Gt, left, right)?,
            BinaryOperator::GtEq => compare(Comparison::GtEq, left, right)?,
            BinaryOperator::Minus => match dashed(sql) {
                Some(idents) => field(&idents, sql)?,
                None => return Err(SqlError::on(sql, SqlProblem::Arithmetic { dash: true })),
            },
            other => return Err(SqlError::on(sql, SqlProblem::UnsupportedOperator { operator: other.to_string() })),
        },
        Sql::IsNull(inner) => Expr::IsNull { expr: Box::new(sub(inner)?), negated: false },
        Sql::IsNotNull(inner) => Expr::IsNull { expr: Box::new(sub(inner)?), negated: true },
        Sql::In { expr, target, negated, .. } => match target {
            InTarget::List(list) if !list.is_empty() => {
                let value = sub(expr)?;
                let mut operands = vec![(value, expr.as_ref())];
                for item in list {
                    let compiled = sub(item)?;
                    check_severity(&operands[0].0, &compiled, sql)?;
                    operands.push((compiled, item));
                }
                let mut operands = instants(operands)?.into_iter();
                let expr = Box::new(operands.next().expect("IN has its value first"));
                Expr::In { expr, list: operands.collect(), negated: *negated }
            }
            _ => return Err(SqlError::on(sql, SqlProblem::InNeedsList)),
        },
        Sql::Between { expr, negated, low, high } => {
            let [expr, low, high] = as_instants([(sub(expr)?, expr), (sub(low)?, low), (sub(high)?, high)])?;
            Expr::Between { expr: Box::new(expr), low: Box::new(low), high: Box::new(high), negated: *negated }
        }
        Sql::Like { negated, any: false, expr, pattern, escape_char } => {
            like_expr(expr, pattern, escape_char.as_deref(), *negated, false, depth)?
        }
        Sql::ILike { negated, any: false, expr, pattern, escape_char } => {
            like_expr(expr, pattern, escape_char.as_deref(), *negated, true, depth)?
        }
        Sql::Function(function) => call_expr(function, sql, depth)?,
        other => return Err(SqlError::on(other, SqlProblem::Unsupported { expression: other.to_string() })),
    })
}

/// A condition must be able to be TRUE: a literal text, number or NULL never is.
pub(crate) fn check_condition(expr: &Expr, sql: &Sql) -> Result<(), SqlError> {
    let found = match expr.kind() {
        Kind::Boolean | Kind::Any => return Ok(()),
        Kind::Text => Literal::Text,
        Kind::Number => Literal::Number,
        Kind::Null => Literal::Null,
    };
    Err(SqlError::on(sql, SqlProblem::NotACondition { found }))
}

/// The time field `expr` reads, when it reads one: a field the schema says holds a time, or a
/// `coalesce` of such fields.
fn time_field(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Field(path) if schema::shape_of(path) == Ok(Shape::Time) => Some(path.join(".")),
        Expr::Call(Function::Coalesce, args) => args.iter().find_map(time_field),
        _ => None,
    }
}

/// The operands of one comparison, as instants when one of them is a time: Health writes
/// `detail.startTime` as `Sat, 30 Nov 2019 01:00:00 GMT`, whose text order is no time order, so
/// every literal text becomes the instant it names (an error when it names none: a rule that
/// could never match), a number or a boolean is an error, and every other operand reads as an
/// instant (NULL when its text is no time).
fn instants(operands: Vec<(Expr, &Sql)>) -> Result<Vec<Expr>, SqlError> {
    let Some(field) = operands.iter().find_map(|(expr, _)| time_field(expr)) else {
        return Ok(operands.into_iter().map(|(expr, _)| expr).collect());
    };
    let mut converted = Vec::with_capacity(operands.len());
    for (expr, sql) in operands {
        let field = field.clone();
        converted.push(match expr {
            Expr::Literal(Value::String(text)) => match instant(&text) {
                Some(at) => Expr::Literal(Value::String(at)),
                None => return Err(SqlError::on(sql, SqlProblem::NotATime { field, found: text })),
            },
            Expr::Literal(Value::Null) => expr,
            Expr::Literal(Value::Bool(_)) => {
                return Err(SqlError::on(sql, SqlProblem::TimeAgainst { field, found: Literal::Boolean }));
            }
            Expr::Literal(_) => {
                return Err(SqlError::on(sql, SqlProblem::TimeAgainst { field, found: Literal::Number }));
            }
            other => Expr::Time(Box::new(other)),
        });
    }
    Ok(converted)
}

/// [`instants`] of a fixed number of operands.
fn as_instants<const N: usize>(operands: [(Expr, &Sql); N]) -> Result<[Expr; N], SqlError> {
    let converted = instants(Vec::from(operands))?;
    Ok(converted.try_into().unwrap_or_else(|_| unreachable!("one operand out for each in")))
}

fn literal(value: &ast::Value, sql: &Sql) -> Result<Expr, SqlError> {
    Ok(Expr::Literal(match value {
        ast::Value::SingleQuotedString(text) => Value::String(text.clone()),
        ast::Value::Number(text, _) => {
            signed_number(text, false).ok_or_else(|| SqlError::on(sql, SqlProblem::BadNumber { text: text.clone() }))?
        }
        ast::Value::Boolean(b) => Value::Bool(*b),
        ast::Value::Null => Value::Null,
        other => return Err(SqlError::on(sql, SqlProblem::UnsupportedLiteral { literal: other.to_string() })),
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

/// A dotted field path, checked against the view's schema.
fn field(idents: &[Ident], sql: &Sql) -> Result<Expr, SqlError> {
    let path: Vec<String> = idents.iter().map(|ident| ident.value.clone()).collect();
    let root = path[0].as_str();
    // sqlparser reads a keyword where an expression ends early (`… AND NOT`) as a name.
    if idents.len() == 1 && idents[0].quote_style.is_none() && KEYWORDS.contains(&root.to_ascii_uppercase().as_str()) {
        return Err(SqlError::on(sql, SqlProblem::ExpectedExpression { found: root.to_owned() }));
    }
    if path == ["delibird"] {
        let known = schema::Fact::ALL.iter().map(|fact| fact.name()).collect();
        let kind = SqlProblem::NotAField { field: root.to_owned(), parent: root.to_owned(), known, suggestion: None };
        return Err(SqlError::on(sql, kind));
    }
    let kind = match schema::shape_of(&path) {
        Ok(_) => return Ok(Expr::Field(path)),
        Err(PathError::Unknown { parent: None, suggestion, .. }) => SqlProblem::UnknownField {
            field: root.to_owned(),
            suggestion,
            quoted: idents[0].quote_style == Some('"') && path.len() == 1,
        },
        Err(PathError::Unknown { path: field, parent: Some(parent), known, suggestion, .. }) => {
            SqlProblem::NotAField { field, parent, known, suggestion }
        }
        Err(PathError::BelowAValue { field, shape }) => SqlProblem::BelowAValue { path: path.join("."), field, shape },
    };
    Err(SqlError::on(sql, kind))
}

/// `delibird.severity` against a text that is not a severity is a mistake, not a rule that never
/// matches.
fn check_severity(a: &Expr, b: &Expr, sql: &Sql) -> Result<(), SqlError> {
    let severity = |e: &Expr| matches!(e, Expr::Field(path) if path == &["delibird", "severity"]);
    for (field, other) in [(a, b), (b, a)] {
        if let (true, Expr::Literal(Value::String(text))) = (severity(field), other)
            && !SEVERITIES.contains(&text.as_str())
        {
            return Err(SqlError::on(sql, SqlProblem::NotASeverity { found: text.clone() }));
        }
    }
    Ok(())
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
            _ => return Err(SqlError::on(sql, SqlProblem::BadEscape)),
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
        let kind = if name.eq_ignore_ascii_case("count") {
            SqlProblem::CountInExpression { name: name.clone() }
        } else {
            let suggestion = closest(&name, Function::NAMES);
            SqlProblem::UnknownFunction { name: name.clone(), suggestion }
        };
        SqlError::on(&function.name, kind)
    })?;
    let plain = function.filter.is_none()
        && function.over.is_none()
        && function.within_group.is_empty()
        && function.null_treatment.is_none()
        && matches!(function.parameters, FunctionArguments::None);
    let FunctionArguments::List(list) = &function.args else {
        return Err(SqlError::on(sql, SqlProblem::NoArguments { name }));
    };
    if !plain || !list.clauses.is_empty() || matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)) {
        return Err(SqlError::on(sql, SqlProblem::PlainArgumentsOnly { name }));
    }
    let args = list
        .args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => compile(expr, depth + 1),
            _ => Err(SqlError::on(sql, SqlProblem::PlainArgumentsOnly { name: name.clone() })),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (min, max) = known.arity();
    if args.len() < min || args.len() > max {
        return Err(SqlError::on(sql, SqlProblem::ArgumentCount { name, min, max, found: args.len() }));
    }
    Ok(Expr::Call(known, args))
}
