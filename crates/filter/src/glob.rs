//! Case-insensitive glob patterns for the `:` operator: `*` matches any run
//! of characters, `?` exactly one, everything else itself.

/// A glob pattern, stored lower-cased.
///
/// Both the pattern and the tested text are lower-cased character by
/// character (not with `str::to_lowercase`, whose final-sigma rule depends on
/// context), so the comparison does not depend on where a letter sits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Glob {
    pattern: String,
}

fn lower(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

impl Glob {
    /// A glob from its text; case is ignored.
    pub fn new(pattern: &str) -> Glob {
        Glob {
            pattern: lower(pattern),
        }
    }

    /// The lower-cased pattern.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern has a `*` or `?`; without one it is plain
    /// case-insensitive equality.
    pub fn has_wildcards(&self) -> bool {
        self.pattern.contains(['*', '?'])
    }

    /// The text before the first wildcard (the whole pattern if it has none),
    /// lower-cased: every match starts with it, so an index can seek to it.
    pub fn literal_prefix(&self) -> &str {
        let end = self.pattern.find(['*', '?']).unwrap_or(self.pattern.len());
        self.pattern.get(..end).unwrap_or("")
    }

    /// Whether `s` matches, ignoring case.
    pub fn matches(&self, s: &str) -> bool {
        let s = lower(s);
        if !self.has_wildcards() {
            return s == self.pattern;
        }
        let p: Vec<char> = self.pattern.chars().collect();
        let s: Vec<char> = s.chars().collect();
        wildcard(&p, &s)
    }
}

/// Greedy matching with backtracking to the last `*` only: a later `*` can
/// absorb whatever an earlier one would have, so O(|p|·|s|) at worst.
fn wildcard(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    // The last `*` seen and the text position it currently absorbs up to.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, si));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == s.get(si) => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or(&[]).iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_case() {
        let g = Glob::new("Delete*");
        assert_eq!(g.as_str(), "delete*");
        assert_eq!(g.literal_prefix(), "delete");
        assert!(g.matches("DeleteConnector"));
        assert!(g.matches("delete"));
        assert!(!g.matches("CreateConnector"));
        let g = Glob::new("*conn?ctor*");
        assert!(g.matches("DeleteConnector") && g.matches("connectors"));
        assert!(!g.matches("Conctor"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("a*b*c").matches("aXbYbZc"));
        assert!(!Glob::new("a*b*c").matches("aXbYbZ"));
        assert!(Glob::new("SUCCESS").matches("success"));
        assert!(!Glob::new("succes").matches("success"));
        assert!(Glob::new("ÉTÉ").matches("été"));
        assert_eq!(Glob::new("?x").literal_prefix(), "");
    }
}
