//! The compiled form of the rule language: what [`super::compile`] builds from sqlparser's tree
//! and [`super::eval`] evaluates. No I/O here.

use serde_json::Value;

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
    /// Every function's name, for suggestions.
    pub(crate) const NAMES: [&'static str; 5] = ["lower", "upper", "length", "contains", "coalesce"];

    pub(crate) fn named(name: &str) -> Option<Self> {
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
    pub(crate) fn arity(self) -> (usize, usize) {
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
    /// The instant a text names, as ISO 8601 UTC (`2019-11-30T01:00:00Z`); NULL for anything else.
    /// Wrapped around the non-literal sides of a comparison with a time, whose literal sides are
    /// written in that form when compiled, so that text comparison is time order.
    Time(Box<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Comparison, Box<Expr>, Box<Expr>),
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        ignore_case: bool,
        escape: Option<char>,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Call(Function, Vec<Expr>),
}

/// What an expression yields, as far as compilation can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Boolean,
    Text,
    Number,
    Null,
    Any,
}

impl Expr {
    /// Calls `visit` with every field path the expression reads.
    pub(crate) fn visit_fields(&self, visit: &mut impl FnMut(&[String])) {
        match self {
            Self::Field(path) => visit(path),
            Self::Literal(_) => {}
            Self::Time(inner) | Self::Not(inner) => inner.visit_fields(visit),
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
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Self::Literal(Value::Bool(_)) => Kind::Boolean,
            Self::Literal(Value::String(_)) | Self::Time(_) => Kind::Text,
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
