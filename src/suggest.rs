//! "Did you mean …?": the known name closest to a mistyped one, for the rule language's field
//! names and configuration's variable names. No I/O here.

/// The candidate nearest to `name` by edit distance (insertions, deletions, substitutions and
/// swaps of two neighbours each count one; case is ignored), when it is near enough to be the
/// name meant: at most a third of the longer one's length away (one edit for short names). Ties
/// go to the first candidate.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let lower: Vec<char> = candidate.to_lowercase().chars().collect();
        let allowed = (name.len().max(lower.len()) / 3).max(1);
        let distance = distance(&name, &lower);
        if distance <= allowed && best.is_none_or(|(shortest, _)| distance < shortest) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The optimal string alignment distance between `a` and `b`.
fn distance(a: &[char], b: &[char]) -> usize {
    // rows[i][j]: the distance between a[..i] and b[..j]; three rows are enough.
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1).min(current[j - 1] + 1).min(previous[j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between(a: &str, b: &str) -> usize {
        distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>())
    }

    #[test]
    fn edits_and_swaps_count_one_each() {
        assert_eq!(between("service", "service"), 0);
        assert_eq!(between("servce", "service"), 1);
        assert_eq!(between("sevrice", "service"), 1);
        assert_eq!(between("", "abc"), 3);
        assert_eq!(between("kitten", "sitting"), 3);
    }

    #[test]
    fn the_nearest_close_name_is_suggested() {
        let fields = ["service", "statusCode", "startTime", "eventTypeCode"];
        assert_eq!(closest("servce", fields), Some("service"));
        assert_eq!(closest("StatusCode", fields), Some("statusCode"));
        assert_eq!(closest("eventtypecode", fields), Some("eventTypeCode"));
        assert_eq!(closest("DEDUPE_TABLE", ["DEDUP_TABLE", "DEDUP_TTL_DAYS"]), Some("DEDUP_TABLE"));
    }

    #[test]
    fn nothing_is_suggested_for_a_name_far_from_every_candidate() {
        assert_eq!(closest("colour", ["service", "region"]), None);
        assert_eq!(closest("id", ["ou"]), None);
        assert_eq!(closest("x", []), None);
    }
}
