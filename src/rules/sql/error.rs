//! What can be wrong with a SQL text of the rule language, and where: [`SqlError`] is a
//! [`Position`] and a [`SqlProblem`], which callers and tests branch on. No I/O here.

use std::fmt;

use sqlparser::ast::Spanned;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::Location;

use crate::rules::schema::{SEVERITIES, Shape};

/// A place in a SQL text: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

impl Position {
    /// The first character of a text.
    pub const START: Self = Self { line: 1, column: 1 };

    /// Where `node` starts (the start of the text, when sqlparser kept no span for it).
    pub fn start_of(node: &(impl Spanned + ?Sized)) -> Self {
        Self::from(node.span().start)
    }

    /// Just after the last character of `text`.
    pub fn end_of(text: &str) -> Self {
        let line = text.split('\n').count() as u64;
        let column = text.rsplit('\n').next().map_or(0, |last| last.chars().count()) as u64 + 1;
        Self { line, column }
    }
}

impl From<Location> for Position {
    fn from(location: Location) -> Self {
        if location.line == 0 { Self::START } else { Self { line: location.line, column: location.column } }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// SQL text that cannot be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {kind}")]
pub struct SqlError {
    /// Where the problem starts.
    pub position: Position,
    /// What is wrong.
    pub kind: SqlProblem,
}

impl SqlError {
    /// A problem at `position`.
    pub fn at(position: Position, kind: SqlProblem) -> Self {
        Self { position, kind }
    }

    /// A problem at the start of `node`.
    pub fn on(node: &(impl Spanned + ?Sized), kind: SqlProblem) -> Self {
        Self::at(Position::start_of(node), kind)
    }

    /// sqlparser's error, with its position taken out of the message (the end of `text` when it
    /// has none: sqlparser gives no position for "found: EOF").
    pub fn from_parser(error: ParserError, text: &str) -> Self {
        let message = match error {
            ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
            ParserError::RecursionLimitExceeded => {
                return Self::at(Position::START, SqlProblem::TooDeep { limit: None });
            }
        };
        let (expected, position) = match message.rsplit_once(" at Line: ") {
            Some((expected, place)) => {
                let mut numbers = place.split(", Column: ").map(|n| n.trim().parse::<u64>().ok());
                match (numbers.next().flatten(), numbers.next().flatten()) {
                    (Some(line), Some(column)) => (expected.to_owned(), Position { line, column }),
                    _ => (message.clone(), Position::end_of(text)),
                }
            }
            None => (message, Position::end_of(text)),
        };
        Self::at(position, SqlProblem::Syntax { message: expected.replace("found: EOF", "found: the end of the text") })
    }
}

/// The operators, values and functions the rule language has, for messages about what it has not.
const SUPPORTED: &str = "supported: = <> < <= > >= AND OR NOT IN LIKE ILIKE IS [NOT] NULL BETWEEN, text in single \
                         quotes, numbers, TRUE, FALSE, NULL, lower(), upper(), length(), contains(), coalesce()";

/// What is wrong with a SQL text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlProblem {
    /// sqlparser could not read it.
    #[error("{message}")]
    Syntax {
        /// sqlparser's words: what it expected and what it found.
        message: String,
    },
    /// Longer than a condition may be.
    #[error("longer than {max} bytes")]
    TooLong {
        /// The most bytes accepted.
        max: usize,
    },
    /// Empty, or only spaces.
    #[error("Expected: a condition, found: nothing")]
    Empty,
    /// Nested deeper than delibird reads (sqlparser's limit: `None`) or compiles.
    #[error("nested too deeply{}", .limit.map_or(String::new(), |n| format!(" (over {n} levels; a long list of ORs reads better as IN (…))")))]
    TooDeep {
        /// delibird's own limit, when it was that one.
        limit: Option<usize>,
    },
    /// More text after a whole condition.
    #[error("Expected: the end of the condition (or AND / OR to combine), found: {found}")]
    TrailingText {
        /// The first token after the condition.
        found: String,
    },
    /// A value where a condition is needed: it can never be TRUE.
    #[error("Expected: a condition (such as detail.service = 'EC2'), found: {found}")]
    NotACondition {
        /// What was found instead.
        found: Literal,
    },
    /// A keyword where an expression should be (`… AND NOT`).
    #[error("Expected: an expression, found: {found}")]
    ExpectedExpression {
        /// The keyword.
        found: String,
    },
    /// A name at the top of a path that is not a field of the view.
    #[error(
        "unknown field {field}: fields are detail.…, delibird.…, or one of {}{}{}",
        top_level_fields(),
        .suggestion.as_ref().map_or(String::new(), |s| format!("; did you mean {s}?")),
        if *.quoted { format!("; text takes single quotes: '{field}'") } else { String::new() },
    )]
    UnknownField {
        /// The name.
        field: String,
        /// The field it most likely means.
        suggestion: Option<String>,
        /// Whether it was in double quotes on its own: most likely text meant as `'…'`.
        quoted: bool,
    },
    /// A name below a field that has no field of that name.
    #[error(
        "{field} is not a field: {}",
        .suggestion.as_ref().map_or_else(|| format!("{parent}.… is one of {}", .known.join(", ")), |s| format!("did you mean {s}?")),
    )]
    NotAField {
        /// The path up to and including the name, dotted.
        field: String,
        /// The field it is below, dotted.
        parent: String,
        /// The names known below `parent`.
        known: Vec<&'static str>,
        /// The path it most likely means, dotted.
        suggestion: Option<String>,
    },
    /// A path going on below a field that holds a value.
    #[error("{path} is not a field: {field} holds {}, not fields", describe(*.shape))]
    BelowAValue {
        /// The whole path, dotted.
        path: String,
        /// The field that holds a value, dotted.
        field: String,
        /// What it holds.
        shape: Shape,
    },
    /// `delibird.severity` against a text that is not a severity: a mistake, not a rule that
    /// never matches.
    #[error("delibird.severity is one of {}, never '{found}'", SEVERITIES.join(", "))]
    NotASeverity {
        /// The text.
        found: String,
    },
    /// A time against text that is not a time.
    #[error(
        "{field} is a time, and '{found}' is not one: write a date ('2024-07-17'), a UTC time ('2024-07-17T12:00:00Z') \
         or a time with its offset ('2024-07-17T14:00:00+02:00')"
    )]
    NotATime {
        /// The time field.
        field: String,
        /// The text.
        found: String,
    },
    /// A time against a number or a boolean.
    #[error("{field} is a time: compare it with a date in single quotes ('2024-07-17'), not {found}")]
    TimeAgainst {
        /// The time field.
        field: String,
        /// What it was compared with.
        found: Literal,
    },
    /// A number too large or otherwise not comparable.
    #[error("{text} is not a number delibird can compare")]
    BadNumber {
        /// The number as written.
        text: String,
    },
    /// Arithmetic, which the language has none of.
    #[error(
        "arithmetic is not supported{}",
        if *.dash {
            "; to name a field with a dash, write it without spaces (detail-type) or in double quotes (\"detail-type\")"
        } else {
            ": a sign goes only before a number"
        }
    )]
    Arithmetic {
        /// Whether it was a `-` between two names, most likely a dashed field name with spaces.
        dash: bool,
    },
    /// An operator the language does not have.
    #[error("operator {operator} is not supported ({SUPPORTED})")]
    UnsupportedOperator {
        /// The operator.
        operator: String,
    },
    /// An expression the language does not have.
    #[error("not supported here: {expression} ({SUPPORTED})")]
    Unsupported {
        /// The expression, as sqlparser writes it.
        expression: String,
    },
    /// `IN` without a list of values.
    #[error("IN takes a list of values: x IN ('a', 'b')")]
    InNeedsList,
    /// A literal the language does not have.
    #[error("{literal} is not supported: text takes single quotes ('EC2')")]
    UnsupportedLiteral {
        /// The literal, as sqlparser writes it.
        literal: String,
    },
    /// `ESCAPE` with something other than one character.
    #[error("ESCAPE takes one character in single quotes: ESCAPE '\\'")]
    BadEscape,
    /// `COUNT(…)` inside an expression.
    #[error("{name}(…) is a column of a query (SELECT COUNT(*) … GROUP BY …), not part of an expression")]
    CountInExpression {
        /// The name as written.
        name: String,
    },
    /// A function the language does not have.
    #[error(
        "unknown function {name}: delibird knows lower, upper, length, contains, coalesce{}",
        .suggestion.map_or(String::new(), |s| format!("; did you mean {s}?"))
    )]
    UnknownFunction {
        /// The name as written.
        name: String,
        /// The function it most likely means.
        suggestion: Option<&'static str>,
    },
    /// A function without its parentheses.
    #[error("{name} takes its arguments in parentheses: {name}(x)")]
    NoArguments {
        /// The function.
        name: String,
    },
    /// `DISTINCT`, `FILTER`, `OVER`, named arguments and the like.
    #[error("{name}: only plain arguments are supported")]
    PlainArgumentsOnly {
        /// The function.
        name: String,
    },
    /// Too few or too many arguments.
    #[error("{name} takes {}, found {found}", arguments(*.min, *.max))]
    ArgumentCount {
        /// The function.
        name: String,
        /// The fewest it takes.
        min: usize,
        /// The most it takes.
        max: usize,
        /// How many it was given.
        found: usize,
    },
}

/// A literal, for messages about where it does not belong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    /// `'text'`.
    Text,
    /// `12`.
    Number,
    /// `TRUE`, `FALSE`.
    Boolean,
    /// `NULL`.
    Null,
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Number => "a number",
            Self::Boolean => "a boolean",
            Self::Null => "NULL",
        })
    }
}

fn top_level_fields() -> String {
    let names: Vec<&str> = crate::rules::schema::ROOT
        .iter()
        .map(|field| field.name)
        .filter(|name| !matches!(*name, "detail" | "delibird"))
        .collect();
    names.join(", ")
}

fn describe(shape: Shape) -> &'static str {
    match shape {
        Shape::Values => "a list of values",
        Shape::Time => "a time",
        _ => "a value",
    }
}

fn arguments(min: usize, max: usize) -> String {
    match (min, max) {
        (1, 1) => "one argument".to_owned(),
        (2, 2) => "two arguments".to_owned(),
        (min, _) => format!("at least {min} argument(s)"),
    }
}
