//! What can be wrong with a query, and where: a [`QueryError`] is a [`Position`] and a
//! [`QueryProblem`], either the rule language's own ([`SqlProblem`]) or a clause of the query's.

use delibird::rules::sql::{Position, SqlError, SqlProblem};

/// A query that cannot be run: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {kind}")]
pub struct QueryError {
    /// Where the problem starts.
    pub position: Position,
    /// What is wrong.
    pub kind: QueryProblem,
}

impl QueryError {
    /// A problem at `position`.
    pub fn at(position: Position, kind: QueryProblem) -> Self {
        Self { position, kind }
    }

    /// A problem at the start of `node`.
    pub fn on(node: &(impl sqlparser::ast::Spanned + ?Sized), kind: QueryProblem) -> Self {
        Self::at(Position::start_of(node), kind)
    }
}

impl From<SqlError> for QueryError {
    fn from(error: SqlError) -> Self {
        Self { position: error.position, kind: QueryProblem::Sql(error.kind) }
    }
}

/// The statement delibird runs, for messages about what it does not.
const FORM: &str = "SELECT [DISTINCT] columns FROM health [WHERE …] [GROUP BY …] [ORDER BY …] [LIMIT n [OFFSET m]]";

/// What is wrong with a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryProblem {
    /// In an expression: what the rule language says.
    #[error(transparent)]
    Sql(SqlProblem),
    /// Longer than a query may be.
    #[error("the query is too long (more than {max} bytes)")]
    TooLong {
        /// The most bytes accepted.
        max: usize,
    },
    /// More than one statement.
    #[error("Expected: one SELECT statement")]
    OneStatement,
    /// A statement that is not a `SELECT`.
    #[error("Expected: SELECT … FROM health")]
    NotASelect,
    /// A clause or modifier delibird does not run.
    #[error("not supported: delibird runs {FORM}")]
    Unsupported,
    /// A `SELECT` item that is neither an expression nor a plain `*`.
    #[error("not supported in SELECT: {item}")]
    UnsupportedItem {
        /// The item, as sqlparser writes it.
        item: String,
    },
    /// `FROM` naming something else, or several things.
    #[error("Expected: FROM health{}", .found.as_ref().map_or(" (one table, no joins)".to_owned(), |f| format!(", found: {f}")))]
    NotFromHealth {
        /// The one table named, when it was one.
        found: Option<String>,
    },
    /// A column position out of range.
    #[error("Expected: a column position from 1 to {columns}, found: {found}")]
    ColumnPosition {
        /// How many columns there are.
        columns: usize,
        /// The position written.
        found: String,
    },
    /// `GROUP BY` naming a `COUNT` or `*` column.
    #[error("Expected: a column that is not COUNT or *")]
    GroupByCount,
    /// In a grouped query, a column that is neither a `GROUP BY` expression nor a count.
    #[error("Expected: a GROUP BY expression or COUNT(…) in a grouped query")]
    NotGrouped,
    /// `*` in a grouped query.
    #[error("* cannot be shown in a grouped query")]
    EventGrouped,
    /// `COUNT` in `ORDER BY` of a query that is not grouped.
    #[error("COUNT(…) in ORDER BY needs a grouped query")]
    CountUngrouped,
    /// `LIMIT` or `OFFSET` with something other than a whole number.
    #[error("Expected: a whole number, found: {found}")]
    NotAWholeNumber {
        /// What was written.
        found: String,
    },
    /// `COUNT` with other arguments than one expression or `*`.
    #[error("Expected: COUNT(*), COUNT(expression) or COUNT(DISTINCT expression)")]
    BadCount,
}
