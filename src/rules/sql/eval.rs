//! Evaluation of a compiled expression over an event's view, with SQL's three-valued logic: a
//! missing field is NULL, a comparison with NULL is NULL, `AND`/`OR`/`NOT` are Kleene's. No I/O
//! here.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::expr::{Comparison, Expr, Function};
use super::like::like;
use super::time::instant;

const NULL: Value = Value::Null;

impl Expr {
    /// The value of the expression for `view`; `Value::Null` is SQL's NULL.
    pub(crate) fn eval<'a>(&self, view: &'a Value) -> Cow<'a, Value> {
        let boolean = |answer: Option<bool>| Cow::Owned(answer.map_or(Value::Null, Value::Bool));
        match self {
            Self::Field(path) => lookup(view, path),
            Self::Literal(value) => Cow::Owned(value.clone()),
            Self::Time(inner) => match inner.eval(view).as_ref() {
                Value::String(text) => Cow::Owned(instant(text).map_or(Value::Null, Value::String)),
                _ => Cow::Borrowed(&NULL),
            },
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
}

/// The value at `path` in `value`; through arrays, the array of what each element holds there.
pub(crate) fn lookup<'a>(value: &'a Value, path: &[String]) -> Cow<'a, Value> {
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
pub(crate) fn truth(value: &Value) -> Option<bool> {
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
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
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
