//! "Did you mean …?": the nearest known name to a misspelled one.

/// The candidate closest to `input` by case-insensitive edit distance, if it
/// is close enough to be a plausible typo (at most a third of the length).
pub fn nearest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input_l = input.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = distance(&input_l, &c.to_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (input.chars().count().max(3) / 3).max(1);
    (d <= limit).then_some(c)
}

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_only() {
        let names = ["CreateConnector", "DeleteConnector", "ListWorkspaces"];
        assert_eq!(nearest("CreateConector", names), Some("CreateConnector"));
        assert_eq!(nearest("listworkspace", names), Some("ListWorkspaces"));
        assert_eq!(nearest("Frobnicate", names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
