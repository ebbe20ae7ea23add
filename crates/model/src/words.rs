//! Free-text words: what full-text search sees in a record. One scanner
//! serves both the index (word hashes, on every ingested record, so it is
//! allocation-free on ASCII) and verification (word strings, exact).
//!
//! A word is a maximal run of alphanumeric characters (Unicode), lower-cased,
//! inside a string value or a literal (numbers, `true`, `false`, `null`).
//! Member names are not words: searching for `methodName` would match every
//! record. Escapes are decoded; whitespace escapes separate words. The input
//! is expected in canonical form (no space between a member name and `:`),
//! which is how records are stored.

/// Receives the bytes of each word (lower-cased UTF-8) and its end.
trait Sink {
    fn byte(&mut self, b: u8);
    fn end(&mut self);
}

/// A streaming 64-bit hash of a word's lower-cased UTF-8 bytes. The index
/// key of a word; [`word_hash`] gives the same value for a query word.
#[derive(Debug, Clone, Copy)]
pub struct WordHasher {
    h: u64,
    len: u64,
}

const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

impl Default for WordHasher {
    fn default() -> Self {
        WordHasher { h: SEED, len: 0 }
    }
}

impl WordHasher {
    /// Feed one byte. FxHash-style mixing: a word is a few bytes, so a
    /// per-byte multiply is cheaper than a block hash called per word.
    #[inline]
    pub fn push(&mut self, b: u8) {
        self.h = (self.h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
        self.len += 1;
    }

    /// The hash; the final avalanche (murmur3 fmix64) spreads the low-entropy
    /// state over all 64 bits, which the word index slices into bit positions.
    #[inline]
    pub fn finish(&self) -> u64 {
        let mut x = self.h ^ self.len.wrapping_mul(SEED);
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^= x >> 33;
        x
    }
}

/// The hash of a free-text word (already lower-cased, as [`query_words`] gives).
pub fn word_hash(w: &str) -> u64 {
    let mut h = WordHasher::default();
    for b in w.bytes() {
        h.push(b);
    }
    h.finish()
}

struct Hashes<'a> {
    h: WordHasher,
    out: &'a mut Vec<u64>,
}

impl Sink for Hashes<'_> {
    #[inline]
    fn byte(&mut self, b: u8) {
        self.h.push(b);
    }
    #[inline]
    fn end(&mut self) {
        self.out.push(self.h.finish());
        self.h = WordHasher::default();
    }
}

struct Strings<F: FnMut(&str)> {
    word: Vec<u8>,
    f: F,
}

impl<F: FnMut(&str)> Sink for Strings<F> {
    fn byte(&mut self, b: u8) {
        self.word.push(b);
    }
    fn end(&mut self) {
        if let Ok(s) = std::str::from_utf8(&self.word) {
            (self.f)(s);
        }
        self.word.clear();
    }
}

/// The hashes of every word of a JSON text, in order, duplicates included.
pub fn json_word_hashes(json: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(96);
    scan(
        json,
        &mut Hashes {
            h: WordHasher::default(),
            out: &mut out,
        },
    );
    out
}

/// Call `f` with every word of a JSON text, in order.
pub fn json_words(json: &str, f: impl FnMut(&str)) {
    scan(
        json,
        &mut Strings {
            word: Vec::with_capacity(64),
            f,
        },
    );
}

/// The words of a free-text query, split and lower-cased like record text.
pub fn query_words(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut w = String::new();
    for c in q.chars() {
        if c.is_alphanumeric() {
            w.extend(c.to_lowercase());
        } else if !w.is_empty() {
            out.push(std::mem::take(&mut w));
        }
    }
    if !w.is_empty() {
        out.push(w);
    }
    out
}

/// Whether the words of `phrase` occur one after another among the words
/// of `json` (free-text search semantics). An empty phrase matches.
pub fn json_contains_phrase(json: &str, phrase: &[String]) -> bool {
    if phrase.is_empty() {
        return true;
    }
    let mut words: Vec<String> = Vec::new();
    json_words(json, |w| words.push(w.to_owned()));
    words
        .windows(phrase.len())
        .any(|win| win.iter().zip(phrase).all(|(a, b)| a == b))
}

fn scan(json: &str, sink: &mut impl Sink) {
    let b = json.as_bytes();
    let n = b.len();
    let mut in_word = false;
    let mut in_string = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_alphanumeric() {
            sink.byte(c.to_ascii_lowercase());
            in_word = true;
            i += 1;
            continue;
        }
        if c == b'\\' && in_string {
            let (ch, len) = unescape(b, i);
            in_word = push_char(ch, in_word, sink);
            i += len;
            continue;
        }
        if c < 0x80 {
            if in_word {
                sink.end();
                in_word = false;
            }
            match c {
                b'"' if !in_string => {
                    // A string followed by ':' is a member name: skip it.
                    let end = string_end(b, i + 1);
                    if b.get(end + 1) == Some(&b':') {
                        i = end + 2;
                    } else {
                        in_string = true;
                        i += 1;
                    }
                }
                b'"' => {
                    in_string = false;
                    i += 1;
                }
                _ => i += 1,
            }
            continue;
        }
        let (ch, len) = json
            .get(i..)
            .and_then(|r| r.chars().next())
            .map_or((' ', 1), |ch| (ch, ch.len_utf8()));
        in_word = push_char(ch, in_word, sink);
        i += len;
        debug_assert!(i <= n);
    }
    if in_word {
        sink.end();
    }
}

/// Add a non-ASCII or escaped character; returns whether a word is open.
fn push_char(ch: char, in_word: bool, sink: &mut impl Sink) -> bool {
    if ch.is_alphanumeric() {
        let mut buf = [0u8; 4];
        for lc in ch.to_lowercase() {
            for &x in lc.encode_utf8(&mut buf).as_bytes() {
                sink.byte(x);
            }
        }
        true
    } else {
        if in_word {
            sink.end();
        }
        false
    }
}

/// Index of the closing quote of a string whose content starts at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    loop {
        match b.get(i..).and_then(|r| memchr::memchr2(b'"', b'\\', r)) {
            None => return b.len(),
            Some(k) => {
                i += k;
                if b.get(i) == Some(&b'"') {
                    return i;
                }
                i += 2;
            }
        }
    }
}

/// Decode the escape starting at `b[i]` (a backslash): the character and the
/// bytes consumed. Whitespace escapes become a space.
fn unescape(b: &[u8], i: usize) -> (char, usize) {
    let hex = |at: usize| {
        b.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    match b.get(i + 1) {
        Some(b'u') => match hex(i + 2) {
            Some(hi @ 0xD800..=0xDBFF) if b.get(i + 6) == Some(&b'\\') => match hex(i + 8) {
                Some(lo @ 0xDC00..=0xDFFF) => (
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).unwrap_or(' '),
                    12,
                ),
                _ => (' ', 6),
            },
            Some(code) => (char::from_u32(code).unwrap_or(' '), 6),
            None => (' ', 2),
        },
        Some(b'n' | b't' | b'r' | b'b' | b'f') => (' ', 2),
        Some(&other) => (char::from(other), 2),
        None => (' ', 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_values_not_member_names() {
        let mut w = Vec::new();
        json_words(
            r#"{"methodName":"CreateConnector","n":1.5e3,"s":"Lcc-23orvm \u00c9t\u00e9\nnext","é":"Ünïcode","b":true}"#,
            |x| w.push(x.to_owned()),
        );
        assert_eq!(
            w,
            [
                "createconnector",
                "1",
                "5e3",
                "lcc",
                "23orvm",
                "été",
                "next",
                "ünïcode",
                "true"
            ]
        );
        assert!(json_contains_phrase(
            r#"{"a":"lcc-23orvm"}"#,
            &query_words("LCC 23ORVM")
        ));
        assert!(!json_contains_phrase(
            r#"{"a":"lcc x 23orvm"}"#,
            &query_words("lcc 23orvm")
        ));
    }

    #[test]
    fn hashes_agree_with_query_words() {
        let json = r#"{"k":"Hello wörld\u0041BC","x":["Ünï-42"]}"#;
        let mut words = Vec::new();
        json_words(json, |w| words.push(w.to_owned()));
        let expected: Vec<u64> = words.iter().map(|w| word_hash(w)).collect();
        assert_eq!(json_word_hashes(json), expected);
        for q in query_words("HELLO WÖRLDabc ünï 42") {
            assert!(expected.contains(&word_hash(&q)), "{q}");
        }
        assert_ne!(word_hash("ab"), word_hash("ba"));
    }

    #[test]
    fn never_panics_on_truncated_escapes() {
        for s in [
            r#"{"a":"\"#,
            r#"{"a":"\u12"#,
            r#""\ud800\u"#,
            "\"",
            "{\"a\":",
            "é",
        ] {
            json_words(s, |_| {});
            let _ = json_word_hashes(s);
        }
    }
}
