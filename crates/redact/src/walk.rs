//! The walk over a value: decide, node by node, whether it is secret, and
//! replace (or just report) its string leaves. Positions live on the stack and
//! are rendered only for values that change, so a clean record allocates
//! nothing here.

use auditlog_model::json::Json;
use auditlog_model::path::{push_index, push_key};

use crate::pattern::{Seg, Step};
use crate::Redactor;

/// A position below the walked value: a linked list on the stack.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    parent: Option<&'a At<'a>>,
    step: Step<'a>,
    /// Steps from the walked value to here.
    depth: usize,
}

impl<'a> At<'a> {
    fn child(parent: Option<&'a At<'a>>, step: Step<'a>) -> At<'a> {
        At {
            parent,
            step,
            depth: parent.map_or(0, |p| p.depth) + 1,
        }
    }
}

/// Where the walked value sits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cx<'p> {
    /// Its position relative to the record's `data`, when known; path rules
    /// apply only then.
    pub(crate) prefix: Option<&'p [Step<'p>]>,
    /// Its rendered path, the start of every reported path.
    pub(crate) base: &'p str,
}

impl Cx<'_> {
    fn render(&self, at: Option<&At<'_>>) -> String {
        let mut steps = Vec::with_capacity(at.map_or(0, |a| a.depth));
        let mut cur = at;
        while let Some(a) = cur {
            steps.push(a.step);
            cur = a.parent;
        }
        let mut out = String::with_capacity(self.base.len() + 16 * steps.len());
        out.push_str(self.base);
        for s in steps.iter().rev() {
            match *s {
                Step::Key(k) => push_key(&mut out, k),
                Step::Index(i) => push_index(&mut out, i),
            }
        }
        out
    }
}

/// Whether a rule's segments name exactly `prefix` followed by `at`.
fn path_matches(segs: &[Seg], prefix: &[Step<'_>], at: Option<&At<'_>>) -> bool {
    let depth = at.map_or(0, |a| a.depth);
    if segs.len() != prefix.len() + depth {
        return false;
    }
    let (head, tail) = segs.split_at(prefix.len());
    // The tail is compared leaf first, walking the list towards the root.
    let mut cur = at;
    for seg in tail.iter().rev() {
        let Some(a) = cur else { return false };
        if !seg.matches(a.step) {
            return false;
        }
        cur = a.parent;
    }
    head.iter().zip(prefix).all(|(s, p)| s.matches(*p))
}

/// Whether a secret string is replaced: values that already carry no secret
/// (and are what Confluent's own records hold) stay as they are.
pub(crate) fn needs_replacing(s: &str) -> bool {
    !(s.is_empty() || s == "true" || s == "false" || s == crate::MASK || is_hmac(s))
}

/// `hmac-sha256:` followed by exactly 64 lowercase hex digits (the form this
/// crate writes), so an arbitrary string with that prefix is not exempt.
pub(crate) fn is_hmac(s: &str) -> bool {
    s.strip_prefix(crate::HMAC_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

impl Redactor {
    /// The verdict for one node (see the precedence in the crate docs).
    fn classify(
        &self,
        key: Option<&str>,
        cx: &Cx<'_>,
        at: Option<&At<'_>>,
        inherited: bool,
    ) -> bool {
        if let Some(prefix) = cx.prefix {
            if self.allow_paths.iter().any(|p| path_matches(p, prefix, at)) {
                return false;
            }
            if self.deny_paths.iter().any(|p| path_matches(p, prefix, at)) {
                return true;
            }
        }
        if let Some(k) = key {
            if self.allow_keys.iter().any(|g| g.matches(k)) || (self.defaults && is_valid_flag(k)) {
                return false;
            }
            if self.deny_keys.iter().any(|g| g.matches(k))
                || (self.defaults && crate::words::is_secret_key(k))
            {
                return true;
            }
        }
        inherited
    }

    /// Redact the value at `cx` and everything under it.
    pub(crate) fn redact_root(&self, v: &mut Json, cx: &Cx<'_>, out: &mut Vec<String>) {
        let secret = self.classify(None, cx, None, false);
        self.redact_at(v, cx, None, secret, out);
    }

    /// Report what [`Redactor::redact_root`] would change.
    pub(crate) fn find_root(&self, v: &Json, cx: &Cx<'_>, out: &mut Vec<String>) {
        let secret = self.classify(None, cx, None, false);
        self.find_at(v, cx, None, secret, out);
    }

    fn redact_at(
        &self,
        v: &mut Json,
        cx: &Cx<'_>,
        at: Option<&At<'_>>,
        secret: bool,
        out: &mut Vec<String>,
    ) {
        match v {
            Json::String(s) => {
                if secret && needs_replacing(s) {
                    *s = self.replacement(s);
                    out.push(cx.render(at));
                }
            }
            Json::Object(o) => {
                for (k, child) in o.iter_mut() {
                    let here = At::child(at, Step::Key(k));
                    let s = self.classify(Some(k), cx, Some(&here), secret);
                    self.redact_at(child, cx, Some(&here), s, out);
                }
            }
            Json::Array(a) => {
                for (i, child) in a.iter_mut().enumerate() {
                    let here = At::child(at, Step::Index(i));
                    let s = self.classify(None, cx, Some(&here), secret);
                    self.redact_at(child, cx, Some(&here), s, out);
                }
            }
            Json::Null | Json::Bool(_) | Json::Number(_) => {}
        }
    }

    // The read-only twin of `redact_at`; kept in step with it by the
    // `find_agrees_with_redact` property test.
    fn find_at(
        &self,
        v: &Json,
        cx: &Cx<'_>,
        at: Option<&At<'_>>,
        secret: bool,
        out: &mut Vec<String>,
    ) {
        match v {
            Json::String(s) => {
                if secret && needs_replacing(s) {
                    out.push(cx.render(at));
                }
            }
            Json::Object(o) => {
                for (k, child) in o.iter() {
                    let here = At::child(at, Step::Key(k));
                    let s = self.classify(Some(k), cx, Some(&here), secret);
                    self.find_at(child, cx, Some(&here), s, out);
                }
            }
            Json::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    let here = At::child(at, Step::Index(i));
                    let s = self.classify(None, cx, Some(&here), secret);
                    self.find_at(child, cx, Some(&here), s, out);
                }
            }
            Json::Null | Json::Bool(_) | Json::Number(_) => {}
        }
    }
}

/// The built-in allow rule: Confluent's `"valid.kafka.api.key": "true"`
/// flags say whether a key was checked, not what it is.
fn is_valid_flag(k: &str) -> bool {
    k.as_bytes()
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"valid."))
}
