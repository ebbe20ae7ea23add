//! JSON path strings used in diagnostics: `$.data.cloudResources[0].scope`.

/// Append `.key`, or `["key"]` when the key is not a plain identifier.
pub fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        && !key.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str("[\"");
        for c in key.chars() {
            match c {
                '"' => path.push_str("\\\""),
                '\\' => path.push_str("\\\\"),
                c if (c as u32) < 0x20 => path.push_str(&format!("\\u{:04x}", c as u32)),
                c => path.push(c),
            }
        }
        path.push_str("\"]");
    }
}

/// Append `[i]`.
pub fn push_index(path: &mut String, i: usize) {
    path.push('[');
    path.push_str(&i.to_string());
    path.push(']');
}

/// `base` followed by `.key`.
pub fn key(base: &str, key: &str) -> String {
    let mut p = String::with_capacity(base.len() + key.len() + 1);
    p.push_str(base);
    push_key(&mut p, key);
    p
}

/// `base` followed by `[i]`.
pub fn index(base: &str, i: usize) -> String {
    let mut p = String::with_capacity(base.len() + 4);
    p.push_str(base);
    push_index(&mut p, i);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_paths() {
        assert_eq!(index(&key("$", "data"), 2), "$.data[2]");
        assert_eq!(key("$", "kafka.api.key"), "$[\"kafka.api.key\"]");
        assert_eq!(key("$", "0a"), "$[\"0a\"]");
    }
}

/// One step of a [`Lazy`] path.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// `$`
    Root,
    /// `.key`
    Key(&'a str),
    /// `[i]`
    Index(usize),
}

/// A JSON path built on the stack and rendered only when needed, so walks
/// over valid records allocate nothing for paths.
#[derive(Debug, Clone, Copy)]
pub struct Lazy<'a> {
    parent: Option<&'a Lazy<'a>>,
    step: Step<'a>,
}

impl<'a> Lazy<'a> {
    /// `$`.
    pub const ROOT: Lazy<'static> = Lazy {
        parent: None,
        step: Step::Root,
    };

    /// This path followed by `.k`.
    pub fn key(&'a self, k: &'a str) -> Lazy<'a> {
        Lazy {
            parent: Some(self),
            step: Step::Key(k),
        }
    }

    /// This path followed by `[i]`.
    pub fn index(&'a self, i: usize) -> Lazy<'a> {
        Lazy {
            parent: Some(self),
            step: Step::Index(i),
        }
    }

    /// The path as text, e.g. `$.data.cloudResources[0]`.
    pub fn render(&self) -> String {
        let mut steps = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            steps.push(p.step);
            cur = p.parent;
        }
        let mut out = String::from("$");
        for s in steps.iter().rev() {
            match s {
                Step::Root => {}
                Step::Key(k) => push_key(&mut out, k),
                Step::Index(i) => push_index(&mut out, *i),
            }
        }
        out
    }
}

#[cfg(test)]
mod lazy_tests {
    use super::*;

    #[test]
    fn renders_like_the_eager_helpers() {
        let root = Lazy::ROOT;
        let d = root.key("data");
        let c = d.key("cloudResources");
        let i = c.index(3);
        let k = i.key("a.b");
        assert_eq!(k.render(), "$.data.cloudResources[3][\"a.b\"]");
        assert_eq!(root.render(), "$");
    }
}
