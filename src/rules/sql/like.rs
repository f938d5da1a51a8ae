//! SQL's `LIKE` pattern matching. No I/O here.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    Any,
    One,
    Char(char),
}

/// SQL `LIKE`: `%` matches any run of characters, `_` one; `escape` makes the next one literal.
pub(crate) fn like(text: &str, pattern: &str, escape: Option<char>) -> bool {
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
    use super::*;

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
}
