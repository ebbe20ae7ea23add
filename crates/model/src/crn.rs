//! Confluent Resource Names: `crn://confluent.cloud/organization=…/environment=…/…`.
//!
//! The grammar, escaping and ordering rules are specified in `docs/crn.md`.
//! In short: a CRN is an authority and a list of `key=value` segments; values
//! are percent-encoded (RFC 3986 style) wherever they hold a character outside
//! the safe set, and `/`, `=`, `%` and non-ASCII are always encoded.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The authority Confluent Cloud uses, and the one an empty authority means.
pub const CONFLUENT_CLOUD: &str = "confluent.cloud";

/// A parsed Confluent Resource Name.
///
/// Invariants: the authority is a non-empty lowercase host name; every
/// segment has a non-empty key of `[a-z][a-z0-9._-]*` and a non-empty value.
/// The authority and the decoded keys and values share one buffer, because
/// CRNs are parsed several times for every ingested record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Crn {
    /// Authority, then each key and decoded value, back to back.
    buf: String,
    authority_len: u32,
    /// (key end, value end) offsets into `buf`, per segment.
    ends: Vec<(u32, u32)>,
}

/// One `key=value` step of a CRN, borrowed from it. The value is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Segment<'a> {
    /// The resource kind, such as `environment` or `connector`.
    pub key: &'a str,
    /// The resource id, decoded from percent-encoding.
    pub value: &'a str,
}

/// Why a string is not a CRN.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrnErrorKind {
    /// Does not start with `crn://`.
    MissingScheme,
    /// The authority (host) is malformed.
    BadAuthority,
    /// Two slashes in a row, or a trailing slash after segments.
    EmptySegment,
    /// A segment without `=`.
    MissingEquals,
    /// A segment key outside `[a-z][a-z0-9._-]*`.
    BadKey,
    /// A segment with nothing after `=`.
    EmptyValue,
    /// `%` not followed by two hex digits, or encoded bytes that are not UTF-8.
    BadPercentEncoding,
    /// A character that must be percent-encoded.
    MustEscape(char),
}

/// A CRN parse failure, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CRN {input:?}: {} at byte {offset}", describe(.kind))]
pub struct CrnError {
    /// What is wrong.
    pub kind: CrnErrorKind,
    /// Byte offset into the input.
    pub offset: usize,
    /// The input, for the message.
    pub input: String,
}

fn describe(k: &CrnErrorKind) -> String {
    match k {
        CrnErrorKind::MissingScheme => "it must start with \"crn://\"".into(),
        CrnErrorKind::BadAuthority => {
            "the authority must be a host name such as \"confluent.cloud\"".into()
        }
        CrnErrorKind::EmptySegment => "empty segment (doubled or trailing '/')".into(),
        CrnErrorKind::MissingEquals => "segment has no '=' (expected key=value)".into(),
        CrnErrorKind::BadKey => {
            "segment key must be lowercase letters, digits, '.', '_' or '-', starting with a letter"
                .into()
        }
        CrnErrorKind::EmptyValue => "segment value is empty".into(),
        CrnErrorKind::BadPercentEncoding => {
            "'%' must be followed by two hex digits encoding UTF-8".into()
        }
        CrnErrorKind::MustEscape(c) => {
            format!(
                "character {c:?} must be percent-encoded ({})",
                percent_encode_char(*c)
            )
        }
    }
}

fn percent_encode_char(c: char) -> String {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

/// Characters a value may hold without encoding: RFC 3986 unreserved and
/// sub-delims, plus `:` and `@`, minus `=` (the key separator).
const fn safe_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b':'
                | b'@'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
        )
}

/// [`safe_byte`] as a table: CRNs are parsed on every ingested record.
/// (Indexing is checked at compile time here.)
#[allow(clippy::indexing_slicing)]
const SAFE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = safe_byte(i as u8);
        i += 1;
    }
    t
};

fn is_safe(c: u8) -> bool {
    SAFE.get(usize::from(c)).copied().unwrap_or(false)
}

fn is_key(k: &str) -> bool {
    let mut b = k.bytes();
    matches!(b.next(), Some(b'a'..=b'z'))
        && b.all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
}

impl Crn {
    /// A CRN with the given authority and no segments, e.g. `crn://confluent.cloud/`.
    pub fn root(authority: &str) -> Crn {
        Crn {
            buf: authority.to_owned(),
            authority_len: len32(authority.len()),
            ends: Vec::new(),
        }
    }

    /// `crn://confluent.cloud/`.
    pub fn confluent_cloud() -> Crn {
        Crn::root(CONFLUENT_CLOUD)
    }

    fn push_segment(&mut self, key: &str, value: &str) {
        self.buf.push_str(key);
        let k = len32(self.buf.len());
        self.buf.push_str(value);
        self.ends.push((k, len32(self.buf.len())));
    }

    /// Append a segment. Keys that break the grammar are rejected.
    pub fn child(mut self, key: &str, value: &str) -> Result<Crn, CrnError> {
        if !is_key(key) {
            return Err(CrnError {
                kind: CrnErrorKind::BadKey,
                offset: 0,
                input: key.into(),
            });
        }
        if value.is_empty() {
            return Err(CrnError {
                kind: CrnErrorKind::EmptyValue,
                offset: 0,
                input: key.into(),
            });
        }
        self.push_segment(key, value);
        Ok(self)
    }

    /// Parse a CRN.
    pub fn parse(s: &str) -> Result<Crn, CrnError> {
        let err = |kind, offset| CrnError {
            kind,
            offset,
            input: s.to_owned(),
        };
        let rest = s
            .strip_prefix("crn://")
            .ok_or_else(|| err(CrnErrorKind::MissingScheme, 0))?;
        let base = "crn://".len();
        let (auth, path, path_off) = match rest.find('/') {
            Some(i) => (
                rest.get(..i).unwrap_or(""),
                rest.get(i + 1..).unwrap_or(""),
                base + i + 1,
            ),
            None => (rest, "", base + rest.len()),
        };
        let mut crn = Crn {
            buf: String::with_capacity(s.len()),
            authority_len: 0,
            ends: Vec::with_capacity(6),
        };
        // `crn:///kafka=…` is Confluent's documented uncanonical spelling of
        // `crn://confluent.cloud/kafka=…`.
        if auth.is_empty() {
            crn.buf.push_str(CONFLUENT_CLOUD);
        } else {
            let host_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b':');
            if let Some(bad) = auth.bytes().position(|c| !host_byte(c)) {
                return Err(err(CrnErrorKind::BadAuthority, base + bad));
            }
            if auth.starts_with(['.', '-']) {
                return Err(err(CrnErrorKind::BadAuthority, base));
            }
            crn.buf.push_str(auth);
            crn.buf.make_ascii_lowercase();
        }
        crn.authority_len = len32(crn.buf.len());
        if !path.is_empty() {
            let mut off = path_off;
            for raw in path.split('/') {
                if raw.is_empty() {
                    return Err(err(CrnErrorKind::EmptySegment, off));
                }
                let eq = raw
                    .find('=')
                    .ok_or_else(|| err(CrnErrorKind::MissingEquals, off))?;
                let key = raw.get(..eq).unwrap_or("");
                if !is_key(key) {
                    return Err(err(CrnErrorKind::BadKey, off));
                }
                let raw_value = raw.get(eq + 1..).unwrap_or("");
                let voff = off + eq + 1;
                if raw_value.is_empty() {
                    return Err(err(CrnErrorKind::EmptyValue, voff));
                }
                crn.buf.push_str(key);
                let k = len32(crn.buf.len());
                decode_value(raw_value, &mut crn.buf).map_err(|(kind, o)| err(kind, voff + o))?;
                crn.ends.push((k, len32(crn.buf.len())));
                off += raw.len() + 1;
            }
        }
        Ok(crn)
    }

    /// The host part, e.g. `confluent.cloud`.
    pub fn authority(&self) -> &str {
        self.buf.get(..self.authority_len as usize).unwrap_or("")
    }

    fn segment(&self, i: usize) -> Option<Segment<'_>> {
        let start = match i.checked_sub(1) {
            None => self.authority_len,
            Some(p) => self.ends.get(p)?.1,
        };
        let (k, v) = *self.ends.get(i)?;
        Some(Segment {
            key: self.buf.get(start as usize..k as usize)?,
            value: self.buf.get(k as usize..v as usize)?,
        })
    }

    /// The `key=value` segments, outermost first.
    pub fn segments(
        &self,
    ) -> impl ExactSizeIterator<Item = Segment<'_>> + DoubleEndedIterator + Clone + '_ {
        (0..self.ends.len()).map(move |i| self.segment(i).unwrap_or(Segment { key: "", value: "" }))
    }

    /// Number of segments.
    pub fn depth(&self) -> usize {
        self.ends.len()
    }

    /// The value of the first segment named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.segments().find(|s| s.key == key).map(|s| s.value)
    }

    /// The organization id, from `organization=…`.
    pub fn organization(&self) -> Option<&str> {
        self.get("organization")
    }

    /// The environment id, from `environment=…`.
    pub fn environment(&self) -> Option<&str> {
        self.get("environment")
    }

    /// The innermost segment: the resource this CRN names.
    pub fn leaf(&self) -> Option<Segment<'_>> {
        self.segment(self.ends.len().checked_sub(1)?)
    }

    /// The CRN one level up, or `None` at the root.
    pub fn parent(&self) -> Option<Crn> {
        let mut p = self.clone();
        p.ends.pop()?;
        let keep = p.ends.last().map_or(p.authority_len, |e| e.1);
        p.buf.truncate(keep as usize);
        Some(p)
    }

    /// Call `f` with the canonical text of every scope containing this CRN,
    /// outermost first (`crn://a/`, `crn://a/k=v`, …), ending with the CRN
    /// itself. Builds each from the previous one, so it formats once.
    pub fn for_each_prefix(&self, mut f: impl FnMut(&str)) {
        let mut b = String::with_capacity(self.buf.len() + 32);
        b.push_str("crn://");
        b.push_str(self.authority());
        b.push('/');
        f(&b);
        for (i, s) in self.segments().enumerate() {
            if i > 0 {
                b.push('/');
            }
            b.push_str(s.key);
            b.push('=');
            encode_into(s.value, &mut b);
            f(&b);
        }
    }

    /// Whether `other` lies within the scope of `self`: the same authority, and
    /// `self`'s segments are a prefix of `other`'s. A CRN contains itself.
    /// An organization contains its environments, which contain their clusters.
    pub fn contains(&self, other: &Crn) -> bool {
        self.authority() == other.authority()
            && self.depth() <= other.depth()
            && self.segments().zip(other.segments()).all(|(a, b)| a == b)
    }

    /// Whether `self` lies within `scope`; the mirror of [`Crn::contains`].
    pub fn is_within(&self, scope: &Crn) -> bool {
        scope.contains(self)
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Decode a percent-encoded value onto `out`. Errors carry the offset within `raw`.
fn decode_value(raw: &str, out: &mut String) -> Result<(), (CrnErrorKind, usize)> {
    let b = raw.as_bytes();
    if b.iter().all(|&c| is_safe(c)) {
        out.push_str(raw);
        return Ok(());
    }
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = raw
                .get(i + 1..i + 3)
                .ok_or((CrnErrorKind::BadPercentEncoding, i))?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return Err((CrnErrorKind::BadPercentEncoding, i));
            }
            let v =
                u8::from_str_radix(hex, 16).map_err(|_| (CrnErrorKind::BadPercentEncoding, i))?;
            bytes.push(v);
            i += 3;
        } else if is_safe(c) {
            bytes.push(c);
            i += 1;
        } else {
            let ch = raw
                .get(i..)
                .and_then(|r| r.chars().next())
                .unwrap_or('\u{fffd}');
            return Err((CrnErrorKind::MustEscape(ch), i));
        }
    }
    let decoded = String::from_utf8(bytes).map_err(|_| (CrnErrorKind::BadPercentEncoding, 0))?;
    out.push_str(&decoded);
    Ok(())
}

/// Percent-encode `v` onto `out`.
fn encode_into(v: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in v.as_bytes() {
        if is_safe(c) {
            out.push(char::from(c));
        } else {
            out.push('%');
            out.push(char::from(
                HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'),
            ));
            out.push(char::from(
                HEX.get(usize::from(c & 0xf)).copied().unwrap_or(b'0'),
            ));
        }
    }
}

impl fmt::Display for Crn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b = String::with_capacity(self.buf.len() + 32);
        b.push_str("crn://");
        b.push_str(self.authority());
        b.push('/');
        for (i, s) in self.segments().enumerate() {
            if i > 0 {
                b.push('/');
            }
            b.push_str(s.key);
            b.push('=');
            encode_into(s.value, &mut b);
        }
        f.write_str(&b)
    }
}

impl FromStr for Crn {
    type Err = CrnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Crn::parse(s)
    }
}

/// CRNs sort by authority, then segment by segment (key, then decoded value,
/// both by bytes). A scope therefore sorts directly before everything inside
/// it, and siblings sort by kind and then id.
impl Ord for Crn {
    fn cmp(&self, other: &Self) -> Ordering {
        self.authority()
            .cmp(other.authority())
            .then_with(|| self.segments().cmp(other.segments()))
    }
}

impl PartialOrd for Crn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECTOR: &str = "crn://confluent.cloud/organization=3bd538c6-caa8-42ec-b60b-00bbf2e749f1/environment=env-abc123/cloud-cluster=lkc-12j2w5/connector=lcc-pkdrjy";

    #[test]
    fn parses_seed_crns() {
        let c = Crn::parse(CONNECTOR).unwrap();
        assert_eq!(
            c.organization(),
            Some("3bd538c6-caa8-42ec-b60b-00bbf2e749f1")
        );
        assert_eq!(c.environment(), Some("env-abc123"));
        assert_eq!(c.leaf().unwrap().key, "connector");
        assert_eq!(c.depth(), 4);
        assert_eq!(c.to_string(), CONNECTOR);
        for s in [
            "crn://confluent.cloud/",
            "crn://confluent.cloud/service=cc-ksql-api-service",
            "crn://confluent.cloud/organization=a/environment=env-1/flink-region=aws.us-east-1/compute-pool=lfcp-1",
            "crn://confluent.cloud/organization=a/identity-provider=Confluent/identity=u-stgccvzzdqn",
            "crn://confluent.cloud/organization=a/identity-provider=op-V7vN/identity-pool=pool-RpDd",
        ] {
            assert_eq!(Crn::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn uncanonical_authority_and_escapes() {
        assert_eq!(
            Crn::parse("crn:///kafka=lkc-a1b2c").unwrap().to_string(),
            "crn://confluent.cloud/kafka=lkc-a1b2c"
        );
        let c = Crn::parse("crn://confluent.cloud/organization=o/cloud-api-key=%2A").unwrap();
        assert_eq!(c.get("cloud-api-key"), Some("*"));
        let c = Crn::root("confluent.cloud")
            .child("topic", "a/b=c%d é")
            .unwrap();
        assert_eq!(
            c.to_string(),
            "crn://confluent.cloud/topic=a%2Fb%3Dc%25d%20%C3%A9"
        );
        assert_eq!(Crn::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn containment_and_order() {
        let org = Crn::parse("crn://confluent.cloud/organization=o").unwrap();
        let env = Crn::parse("crn://confluent.cloud/organization=o/environment=env-1").unwrap();
        let cl = Crn::parse(
            "crn://confluent.cloud/organization=o/environment=env-1/cloud-cluster=lkc-1",
        )
        .unwrap();
        let other = Crn::parse("crn://confluent.cloud/organization=o/environment=env-2").unwrap();
        assert!(org.contains(&env) && env.contains(&cl) && org.contains(&cl) && cl.contains(&cl));
        assert!(!cl.contains(&env) && !env.contains(&other));
        assert!(cl.is_within(&org));
        let mut v = vec![other.clone(), cl.clone(), org.clone(), env.clone()];
        v.sort();
        assert_eq!(v, vec![org, env, cl, other]);
    }

    #[test]
    fn prefixes_match_display() {
        let c = Crn::parse("crn://confluent.cloud/organization=o/environment=env-1/topic=a%2Fb")
            .unwrap();
        let mut got = Vec::new();
        c.for_each_prefix(|s| got.push(s.to_owned()));
        let mut want = vec![c.to_string()];
        let mut p = c.parent();
        while let Some(x) = p {
            want.push(x.to_string());
            p = x.parent();
        }
        want.reverse();
        assert_eq!(got, want);
    }

    #[test]
    fn clear_errors() {
        let k = |s: &str| Crn::parse(s).unwrap_err().kind;
        assert_eq!(k("https://x"), CrnErrorKind::MissingScheme);
        assert_eq!(
            k("crn://confluent.cloud/organization"),
            CrnErrorKind::MissingEquals
        );
        assert_eq!(
            k("crn://confluent.cloud/organization="),
            CrnErrorKind::EmptyValue
        );
        assert_eq!(
            k("crn://confluent.cloud/a=b//c=d"),
            CrnErrorKind::EmptySegment
        );
        assert_eq!(k("crn://confluent.cloud/a=b/"), CrnErrorKind::EmptySegment);
        assert_eq!(k("crn://confluent.cloud/Org=b"), CrnErrorKind::BadKey);
        assert_eq!(
            k("crn://confluent.cloud/a=b c"),
            CrnErrorKind::MustEscape(' ')
        );
        assert_eq!(
            k("crn://confluent.cloud/a=%zz"),
            CrnErrorKind::BadPercentEncoding
        );
        assert_eq!(
            k("crn://confluent.cloud/a=%ff"),
            CrnErrorKind::BadPercentEncoding
        );
        assert_eq!(k("crn://bad host/a=b"), CrnErrorKind::BadAuthority);
        let e = Crn::parse("crn://confluent.cloud/organization=o/environment").unwrap_err();
        assert_eq!(e.offset, 37);
        assert!(e.to_string().contains("no '='"), "{e}");
    }
}
