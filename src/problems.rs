//! Every problem found at once, shown on one line: what configuration, a rules file and the
//! webhook look-ups each report, so that a person fixes them all in one go rather than one per
//! start. No I/O here.
//!
//! ```
//! use delibird::problems::Problems;
//!
//! let found: Problems<String> = Problems(vec!["a: missing".into(), "b: not a number".into()]);
//! assert_eq!(found.to_string(), "a: missing; b: not a number");
//! assert_eq!(Problems::or_ok(Vec::<String>::new(), 7), Ok(7));
//! ```

use std::fmt;
use std::ops::Deref;

/// A list of problems, each [`fmt::Display`], shown joined by `; `. Built with
/// [`Problems::or_ok`] it is never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems<E>(pub Vec<E>);

impl<E> Problems<E> {
    /// `Ok(value)` when nothing was found, else every problem.
    pub fn or_ok<T>(problems: Vec<E>, value: T) -> Result<T, Self> {
        if problems.is_empty() { Ok(value) } else { Err(Self(problems)) }
    }

    /// A single problem.
    pub fn one(problem: E) -> Self {
        Self(vec![problem])
    }
}

impl<E: fmt::Display> fmt::Display for Problems<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Each problem keeps its own `source()` chain; the list has none of its own.
impl<E: std::error::Error> std::error::Error for Problems<E> {}

impl<E> Deref for Problems<E> {
    type Target = [E];

    fn deref(&self) -> &[E] {
        &self.0
    }
}

impl<E> From<Vec<E>> for Problems<E> {
    fn from(problems: Vec<E>) -> Self {
        Self(problems)
    }
}

impl<E> FromIterator<E> for Problems<E> {
    fn from_iter<I: IntoIterator<Item = E>>(problems: I) -> Self {
        Self(problems.into_iter().collect())
    }
}

impl<E> IntoIterator for Problems<E> {
    type Item = E;
    type IntoIter = std::vec::IntoIter<E>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, E> IntoIterator for &'a Problems<E> {
    type Item = &'a E;
    type IntoIter = std::slice::Iter<'a, E>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("problem {0}")]
    struct Numbered(u8);

    #[test]
    fn problems_are_joined_by_semicolons_in_the_order_found() {
        let problems: Problems<Numbered> = [3, 1, 2].into_iter().map(Numbered).collect();
        assert_eq!(problems.to_string(), "problem 3; problem 1; problem 2");
        assert_eq!(Problems::one(Numbered(9)).to_string(), "problem 9");
    }

    #[test]
    fn nothing_found_is_ok_and_anything_found_is_every_problem() {
        assert_eq!(Problems::<String>::or_ok(Vec::new(), "value"), Ok("value"));
        let found = Problems::or_ok(vec!["x".to_owned(), "y".to_owned()], ()).unwrap_err();
        assert_eq!((found.len(), &found[1]), (2, &"y".to_owned()));
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["x", "y"]);
    }
}
