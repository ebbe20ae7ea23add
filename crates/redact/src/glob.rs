//! Case-insensitive key globs (`*` any run of characters, `?` exactly one),
//! matched without allocating.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Star,
    One,
    Char(char),
}

/// A compiled key glob.
#[derive(Debug, Clone)]
pub(crate) struct KeyGlob(Vec<Tok>);

/// Case folding one character at a time, so matching needs no buffer; a
/// character whose lower case is several characters compares as itself.
fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

impl KeyGlob {
    /// Compile `text`; the error says why it is not a glob.
    pub(crate) fn new(text: &str) -> Result<KeyGlob, String> {
        if text.is_empty() {
            return Err("it is empty".into());
        }
        let mut toks = Vec::with_capacity(text.len());
        for c in text.chars() {
            toks.push(match c {
                '*' => Tok::Star,
                '?' => Tok::One,
                // Refused rather than taken literally: someone writing them
                // expects character classes, alternation or escapes, and a
                // rule that silently never matches would leak secrets.
                '[' | ']' | '{' | '}' | '\\' => {
                    return Err(format!(
                        "{c:?} is not supported; only `*` (any run of characters) and `?` (one character) are special, and case is ignored"
                    ))
                }
                c if c.is_control() => return Err("it contains a control character".into()),
                c => Tok::Char(fold(c)),
            });
        }
        Ok(KeyGlob(toks))
    }

    /// Whether `key` matches, ignoring case.
    pub(crate) fn matches(&self, key: &str) -> bool {
        let p = &self.0;
        // Iterative matching with one backtrack point: linear in practice,
        // never exponential.
        let (mut pi, mut ki) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        loop {
            let c = key.get(ki..).and_then(|s| s.chars().next());
            let Some(c) = c else { break };
            match p.get(pi) {
                Some(Tok::Star) => {
                    star = Some((pi, ki));
                    pi += 1;
                    continue;
                }
                Some(Tok::One) => {
                    pi += 1;
                    ki += c.len_utf8();
                    continue;
                }
                Some(Tok::Char(x)) if *x == fold(c) => {
                    pi += 1;
                    ki += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            let Some((sp, sk)) = star else { return false };
            let Some(skipped) = key.get(sk..).and_then(|s| s.chars().next()) else {
                return false;
            };
            let sk = sk + skipped.len_utf8();
            star = Some((sp, sk));
            pi = sp + 1;
            ki = sk;
        }
        p.get(pi..)
            .is_some_and(|rest| rest.iter().all(|t| *t == Tok::Star))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(g: &str, k: &str) -> bool {
        KeyGlob::new(g).unwrap().matches(k)
    }

    #[test]
    fn matches_like_a_shell() {
        assert!(m("*.dsn", "sentry.DSN"));
        assert!(m("ssn", "SSN"));
        assert!(!m("ssn", "ssn2"));
        assert!(m("valid.*", "valid.kafka.api.key"));
        assert!(!m("valid.*", "invalid.x"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b", "xxaxxbxxc"));
        assert!(m("*", ""));
        assert!(m("clé*", "CLÉ_x"));
        assert!(m("?", "é"));
    }

    #[test]
    fn refuses_other_syntax() {
        assert!(KeyGlob::new("").is_err());
        let e = KeyGlob::new("pass[wd]").unwrap_err();
        assert!(e.contains("'['"), "{e}");
    }
}
