//! Every problem at once: a non-empty list of errors of one kind, shown joined by `; `, for the
//! parts of delibird that report everything wrong in one go (configuration, rules, webhooks).

use std::fmt;

/// Every problem found (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems<E>(pub Vec<E>);

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

impl<E: fmt::Debug + fmt::Display> std::error::Error for Problems<E> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_every_problem_joined() {
        assert_eq!(Problems(vec!["a", "b", "c"]).to_string(), "a; b; c");
    }
}
