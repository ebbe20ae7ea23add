//! Path rules: `result.data.user_configs["kafka.api.secret"]`, with `*` for
//! any one step and `[]` / `[*]` for any array index, relative to the record's
//! `data`. The same parser reads a reporting base such as
//! `$.data.request.data`.

/// One step of a concrete position: a member name or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// One segment of a path rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
    /// `*`: any member or element.
    Any,
    /// `[]` or `[*]`: any array element.
    AnyIndex,
}

impl Seg {
    pub(crate) fn matches(&self, s: Step<'_>) -> bool {
        match (self, s) {
            (Seg::Any, _) | (Seg::AnyIndex, Step::Index(_)) => true,
            (Seg::Key(k), Step::Key(s)) => k == s,
            (Seg::Index(i), Step::Index(j)) => *i == j,
            _ => false,
        }
    }
}

/// A parse failure: 1-based character column and why.
pub(crate) type ParseFail = (usize, String);

/// Parse a rule path or a rendered path into segments relative to `data`.
/// A leading `$.data` (as reported paths start) is accepted and dropped.
/// With `wildcards` false, `*` and `[]` are refused (for a reporting base).
pub(crate) fn parse(text: &str, wildcards: bool) -> Result<Vec<Seg>, ParseFail> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser {
        c: &chars,
        i: 0,
        wildcards,
    };
    let mut segs = Vec::new();
    if p.peek() == Some('$') {
        p.i += 1;
        let root = p.segment_after_root()?;
        if root != Some(Seg::Key("data".into())) {
            return Err((
                2,
                "paths are relative to the record's data: drop the leading `$`, or start with `$.data.`".into(),
            ));
        }
    } else if p.peek() == Some('[') {
        segs.push(p.bracket()?);
    } else {
        segs.push(p.name()?);
    }
    while let Some(c) = p.peek() {
        match c {
            '.' => {
                p.i += 1;
                segs.push(p.name()?);
            }
            '[' => segs.push(p.bracket()?),
            c => return Err((p.i + 1, format!("expected `.` or `[`, found {c:?}"))),
        }
    }
    Ok(segs)
}

struct Parser<'a> {
    c: &'a [char],
    i: usize,
    wildcards: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn err<T>(&self, why: impl Into<String>) -> Result<T, ParseFail> {
        Err((self.i + 1, why.into()))
    }

    /// After `$`: `.name` or `[...]`, or nothing.
    fn segment_after_root(&mut self) -> Result<Option<Seg>, ParseFail> {
        match self.peek() {
            None => Ok(None),
            Some('.') => {
                self.i += 1;
                self.name().map(Some)
            }
            Some('[') => self.bracket().map(Some),
            Some(c) => self.err(format!("expected `.` or `[` after `$`, found {c:?}")),
        }
    }

    /// An unquoted member name (anything up to `.` or `[`), or `*`.
    fn name(&mut self) -> Result<Seg, ParseFail> {
        let start = self.i;
        while self.peek().is_some_and(|c| c != '.' && c != '[') {
            if self.peek() == Some(']') {
                return self.err("`]` without `[`");
            }
            self.i += 1;
        }
        let name: String = self
            .c
            .get(start..self.i)
            .unwrap_or_default()
            .iter()
            .collect();
        if name.is_empty() {
            self.i = start;
            return self.err(
                "empty member name; write names with `.` between them, or quote names that contain dots: [\"kafka.api.secret\"]",
            );
        }
        if name == "*" {
            return self.wild(Seg::Any, start);
        }
        if name.contains(['*', '?']) {
            self.i = start;
            return self.err("`*` stands only for a whole step (`user_configs.*`); to match member names by pattern use deny_keys / allow_keys");
        }
        Ok(Seg::Key(name))
    }

    fn wild(&mut self, s: Seg, at: usize) -> Result<Seg, ParseFail> {
        if self.wildcards {
            Ok(s)
        } else {
            self.i = at;
            self.err("a reporting base must be a concrete path, without `*` or `[]`")
        }
    }

    /// `[]`, `[*]`, `[N]` or `["name"]`.
    fn bracket(&mut self) -> Result<Seg, ParseFail> {
        let at = self.i;
        self.i += 1;
        let seg = match self.peek() {
            Some(']') => self.wild(Seg::AnyIndex, at)?,
            Some('*') => {
                self.i += 1;
                self.wild(Seg::AnyIndex, at)?
            }
            Some('"') => {
                self.i += 1;
                self.quoted()?
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                let digits: String = self
                    .c
                    .get(start..self.i)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                match digits.parse() {
                    Ok(n) => Seg::Index(n),
                    Err(_) => return self.err("array index too large"),
                }
            }
            _ => return self.err("after `[` expected `]`, `*]`, an index or a quoted name"),
        };
        if self.peek() != Some(']') {
            return self.err("expected `]`");
        }
        self.i += 1;
        Ok(seg)
    }

    /// The rest of `"name"` (after the opening quote), with `\"` and `\\`.
    fn quoted(&mut self) -> Result<Seg, ParseFail> {
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return self.err("unterminated quoted name; close it with `\"]`"),
                Some('"') => {
                    self.i += 1;
                    return Ok(Seg::Key(s));
                }
                Some('\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => s.push(c),
                        _ => return self.err("only `\\\"` and `\\\\` are escapes in quoted names"),
                    }
                    self.i += 1;
                }
                Some(c) => {
                    s.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

/// Check that a rule can match something redaction looks at: its first two
/// segments must be able to be `request`/`result` and `data`.
pub(crate) fn check_scope(segs: &[Seg]) -> Result<(), String> {
    let first_ok = match segs.first() {
        Some(Seg::Key(k)) => k == "request" || k == "result",
        Some(Seg::Any) => true,
        _ => false,
    };
    let second_ok =
        matches!(segs.get(1), Some(Seg::Any)) || segs.get(1) == Some(&Seg::Key("data".into()));
    if first_ok && second_ok {
        Ok(())
    } else {
        Err("only request.data and result.data are redacted, so a path must start with `request.data` or `result.data` (paths are relative to the record's data, e.g. `result.data.user_configs[\"kafka.api.secret\"]`)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.into())
    }

    #[test]
    fn parses_rules_and_reported_paths() {
        assert_eq!(
            parse("request.data.config.dsn", true).unwrap(),
            [k("request"), k("data"), k("config"), k("dsn")]
        );
        assert_eq!(
            parse(
                "$.data.result.data.user_configs[\"kafka.api.secret\"]",
                true
            )
            .unwrap(),
            [
                k("result"),
                k("data"),
                k("user_configs"),
                k("kafka.api.secret")
            ]
        );
        assert_eq!(
            parse("result.data.items[].x[*][3].*", true).unwrap(),
            [
                k("result"),
                k("data"),
                k("items"),
                Seg::AnyIndex,
                k("x"),
                Seg::AnyIndex,
                Seg::Index(3),
                Seg::Any
            ]
        );
        assert_eq!(parse("[\"a\\\"b\"]", true).unwrap(), [k("a\"b")]);
        assert_eq!(parse("$[\"data\"][\"a\\\"b\"]", true).unwrap(), [k("a\"b")]);
    }

    #[test]
    fn explains_bad_paths() {
        for (bad, col, says) in [
            ("", 1, "empty member name"),
            ("a..b", 3, "empty member name"),
            ("a.b*", 3, "whole step"),
            ("a[\"b", 5, "unterminated"),
            ("a[x]", 3, "after `[`"),
            ("a[1", 4, "expected `]`"),
            ("$.foo.a", 2, "relative to the record's data"),
            ("a]b", 2, "without `[`"),
        ] {
            let (c, why) = parse(bad, true).unwrap_err();
            assert!(why.contains(says), "{bad}: {why}");
            assert_eq!(c, col, "{bad}: {why}");
        }
        assert!(parse("$.data.a[*]", false).is_err());
    }

    #[test]
    fn scope() {
        assert!(check_scope(&parse("request.data", true).unwrap()).is_ok());
        assert!(check_scope(&parse("*.data.x", true).unwrap()).is_ok());
        assert!(check_scope(&parse("user_configs.password", true).unwrap()).is_err());
        assert!(check_scope(&parse("request", true).unwrap()).is_err());
    }
}
