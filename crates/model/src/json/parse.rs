//! A strict RFC 8259 JSON parser that produces the lossless [`Json`] value.
//!
//! Why our own parser: records must round-trip with numbers exactly as
//! written, duplicate member names must be rejected (they cannot be
//! canonicalized), and every error must name the JSON path where it happened.
//! `serde_json` gives none of the three without global feature flags.

use std::fmt;

use super::value::{number_len, Json, Number, Object};

/// Limits that protect the parser from hostile input.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum nesting depth of arrays and objects.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 128 }
    }
}

/// What went wrong while parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// The input starts with a UTF-8 byte-order mark.
    ByteOrderMark,
    /// The input ended in the middle of a value.
    UnexpectedEnd,
    /// The input holds no value at all.
    Empty,
    /// A character that cannot start or continue a value here.
    UnexpectedChar(char),
    /// A malformed number.
    InvalidNumber,
    /// A malformed escape sequence in a string.
    InvalidEscape,
    /// A `\u` escape that is half of a surrogate pair.
    LoneSurrogate,
    /// An unescaped control character inside a string.
    ControlCharacter(u8),
    /// An object names the same member twice.
    DuplicateKey(String),
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep(usize),
    /// Something other than whitespace follows the value.
    TrailingCharacters,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8 byte sequence"),
            ParseErrorKind::ByteOrderMark => {
                f.write_str("input starts with a UTF-8 byte-order mark; remove it")
            }
            ParseErrorKind::UnexpectedEnd => {
                f.write_str("unexpected end of input (truncated JSON?)")
            }
            ParseErrorKind::Empty => f.write_str("no JSON value in input"),
            ParseErrorKind::UnexpectedChar(c) => write!(f, "unexpected character {c:?}"),
            ParseErrorKind::InvalidNumber => f.write_str("invalid number"),
            ParseErrorKind::InvalidEscape => f.write_str("invalid escape sequence in string"),
            ParseErrorKind::LoneSurrogate => {
                f.write_str("\\u escape is an unpaired UTF-16 surrogate")
            }
            ParseErrorKind::ControlCharacter(b) => {
                write!(f, "unescaped control character 0x{b:02x} in string")
            }
            ParseErrorKind::DuplicateKey(k) => write!(f, "duplicate member name {k:?}"),
            ParseErrorKind::TooDeep(n) => write!(f, "nesting deeper than {n} levels"),
            ParseErrorKind::TrailingCharacters => {
                f.write_str("unexpected characters after the JSON value")
            }
        }
    }
}

/// A parse failure with its position and the JSON path of the value being parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at line {line} column {column} (path {path})")]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Byte offset into the input.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in bytes.
    pub column: usize,
    /// JSON path of the innermost value being parsed, e.g. `$.data.cloudResources[0]`.
    pub path: String,
}

/// Parse exactly one JSON value, with optional surrounding whitespace.
pub fn parse(input: &[u8]) -> Result<Json, ParseError> {
    parse_with(input, Limits::default())
}

/// Parse one value, and say whether `input` (without surrounding whitespace)
/// is already in canonical form, in which case its bytes can be stored as
/// they are.
pub fn parse_noting_canonical(
    input: &[u8],
) -> Result<(Json, Option<std::ops::Range<usize>>), ParseError> {
    let text = check_text(input)?;
    let mut p = Parser::new(text, Limits::default());
    p.skip_ws();
    if p.pos >= p.b.len() {
        return Err(p.finish_error(Raw::at(ParseErrorKind::Empty, p.pos)));
    }
    let start = p.pos;
    p.canonical = true;
    let v = p.value().map_err(|e| p.finish_error(e))?;
    let end = p.pos;
    let canonical = p.canonical;
    p.skip_ws();
    if p.pos < p.b.len() {
        return Err(p.finish_error(Raw::at(ParseErrorKind::TrailingCharacters, p.pos)));
    }
    Ok((v, canonical.then_some(start..end)))
}

/// [`parse`] with explicit limits.
pub fn parse_with(input: &[u8], limits: Limits) -> Result<Json, ParseError> {
    let text = check_text(input)?;
    let mut p = Parser::new(text, limits);
    p.skip_ws();
    if p.pos >= p.b.len() {
        return Err(p.finish_error(Raw::at(ParseErrorKind::Empty, p.pos)));
    }
    let v = p.value().map_err(|e| p.finish_error(e))?;
    p.skip_ws();
    if p.pos < p.b.len() {
        return Err(p.finish_error(Raw::at(ParseErrorKind::TrailingCharacters, p.pos)));
    }
    Ok(v)
}

/// One value from a stream of whitespace-separated JSON values.
#[derive(Debug)]
pub struct StreamItem {
    /// Byte offset where the value starts.
    pub offset: usize,
    /// 1-based line where the value starts.
    pub line: usize,
    /// The value, or the error that ended the stream.
    pub value: Result<Json, ParseError>,
}

/// Parse a stream of whitespace-separated JSON values (NDJSON, or several
/// pretty-printed documents one after another). The stream stops at the
/// first error, which is returned as the last item.
pub fn parse_stream(input: &[u8], limits: Limits) -> Vec<StreamItem> {
    let text = match check_text(input) {
        Ok(t) => t,
        Err(e) => {
            return vec![StreamItem {
                offset: e.offset,
                line: e.line,
                value: Err(e),
            }];
        }
    };
    let mut p = Parser::new(text, limits);
    let mut out = Vec::new();
    loop {
        p.skip_ws();
        if p.pos >= p.b.len() {
            break;
        }
        let offset = p.pos;
        let (line, _) = line_col(p.b, offset);
        match p.value() {
            Ok(v) => {
                // A value must be followed by whitespace or the end, so that
                // `{}{}` and `1 2` are accepted but `truex` is not.
                if p.pos < p.b.len() && !is_ws(p.b.get(p.pos).copied().unwrap_or(b' ')) {
                    let after = p.b.get(p.pos).copied().unwrap_or(b' ');
                    if !matches!(after, b'{' | b'[') {
                        let e = p.finish_error(Raw::at(ParseErrorKind::TrailingCharacters, p.pos));
                        out.push(StreamItem {
                            offset,
                            line,
                            value: Err(e),
                        });
                        break;
                    }
                }
                out.push(StreamItem {
                    offset,
                    line,
                    value: Ok(v),
                });
            }
            Err(e) => {
                let e = p.finish_error(e);
                out.push(StreamItem {
                    offset,
                    line,
                    value: Err(e),
                });
                break;
            }
        }
    }
    out
}

fn check_text(input: &[u8]) -> Result<&str, ParseError> {
    if input.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(error_at(
            input,
            ParseErrorKind::ByteOrderMark,
            0,
            String::from("$"),
        ));
    }
    std::str::from_utf8(input).map_err(|e| {
        error_at(
            input,
            ParseErrorKind::InvalidUtf8,
            e.valid_up_to(),
            String::from("$"),
        )
    })
}

fn error_at(b: &[u8], kind: ParseErrorKind, offset: usize, path: String) -> ParseError {
    let (line, column) = line_col(b, offset);
    ParseError {
        kind,
        offset,
        line,
        column,
        path,
    }
}

/// 1-based line and byte column of `offset`.
pub(crate) fn line_col(b: &[u8], offset: usize) -> (usize, usize) {
    let upto = b.get(..offset.min(b.len())).unwrap_or(b);
    let line = 1 + upto.iter().filter(|&&c| c == b'\n').count();
    let col = 1 + upto.iter().rev().take_while(|&&c| c != b'\n').count();
    (line, col)
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// One step of a JSON path, collected while an error unwinds.
#[derive(Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

/// An error before its line, column and path are worked out.
#[derive(Debug)]
struct Raw {
    kind: ParseErrorKind,
    pos: usize,
    /// Innermost segment first.
    rev_path: Vec<Seg>,
}

impl Raw {
    fn at(kind: ParseErrorKind, pos: usize) -> Raw {
        Raw {
            kind,
            pos,
            rev_path: Vec::new(),
        }
    }
    fn within(mut self, seg: Seg) -> Raw {
        self.rev_path.push(seg);
        self
    }
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    limits: Limits,
    /// Still true if every byte so far is exactly what the canonical writer
    /// would produce (no whitespace, sorted keys, canonical escapes). Lets
    /// callers reuse the input instead of re-serializing it.
    canonical: bool,
}

/// Objects up to this size are checked for duplicate names as they grow;
/// larger ones are sorted once at the end to stay O(n log n).
const LINEAR_DUP_CHECK: usize = 16;

impl<'a> Parser<'a> {
    fn new(s: &'a str, limits: Limits) -> Self {
        Parser {
            s,
            b: s.as_bytes(),
            pos: 0,
            depth: 0,
            limits,
            canonical: true,
        }
    }

    fn finish_error(&self, raw: Raw) -> ParseError {
        let mut path = String::from("$");
        for seg in raw.rev_path.iter().rev() {
            match seg {
                Seg::Key(k) => crate::path::push_key(&mut path, k),
                Seg::Index(i) => crate::path::push_index(&mut path, *i),
            }
        }
        error_at(self.b, raw.kind, raw.pos, path)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.pos += 1;
                self.canonical = false;
            } else {
                break;
            }
        }
    }

    fn unexpected(&self) -> Raw {
        match self.s.get(self.pos..).and_then(|r| r.chars().next()) {
            Some(c) => Raw::at(ParseErrorKind::UnexpectedChar(c), self.pos),
            None => Raw::at(ParseErrorKind::UnexpectedEnd, self.pos),
        }
    }

    fn value(&mut self) -> Result<Json, Raw> {
        match self.peek() {
            None => Err(Raw::at(ParseErrorKind::UnexpectedEnd, self.pos)),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, word: &[u8], v: Json) -> Result<Json, Raw> {
        let end = self.pos + word.len();
        match self.b.get(self.pos..end) {
            Some(w) if w == word => {
                self.pos = end;
                Ok(v)
            }
            _ => {
                // Point at the first byte that differs, or the end.
                let mut i = self.pos;
                for &c in word {
                    match self.b.get(i) {
                        Some(&x) if x == c => i += 1,
                        _ => break,
                    }
                }
                self.pos = i;
                Err(self.unexpected())
            }
        }
    }

    fn number(&mut self) -> Result<Json, Raw> {
        let rest = self.b.get(self.pos..).unwrap_or(&[]);
        let Some(n) = number_len(rest) else {
            return Err(Raw::at(ParseErrorKind::InvalidNumber, self.pos));
        };
        let text = self.s.get(self.pos..self.pos + n).unwrap_or("");
        self.pos += n;
        match Number::new(text) {
            Some(num) => Ok(Json::Number(num)),
            None => Err(Raw::at(ParseErrorKind::InvalidNumber, self.pos - n)),
        }
    }

    fn enter(&mut self) -> Result<(), Raw> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(Raw::at(
                ParseErrorKind::TooDeep(self.limits.max_depth),
                self.pos,
            ));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Json, Raw> {
        self.enter()?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            let idx = items.len();
            let v = self.value().map_err(|e| e.within(Seg::Index(idx)))?;
            items.push(v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected().within(Seg::Index(idx))),
            }
        }
        self.depth -= 1;
        Ok(Json::Array(items))
    }

    fn object(&mut self) -> Result<Json, Raw> {
        self.enter()?;
        let start = self.pos;
        self.pos += 1; // '{'
        let mut obj = Object::new();
        let mut sorted = true;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Json::Object(obj));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key_pos = self.pos;
            let key = self.string()?;
            let ascending = match obj.keys().last() {
                None => true,
                Some(prev) => super::write::cmp_utf16(prev, &key) == std::cmp::Ordering::Less,
            };
            if !ascending {
                self.canonical = false;
                sorted = false;
            }
            // Strictly ascending keys cannot repeat; only check otherwise.
            if !sorted && obj.len() < LINEAR_DUP_CHECK && obj.contains_key(&key) {
                return Err(Raw::at(ParseErrorKind::DuplicateKey(key), key_pos));
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected().within(Seg::Key(key)));
            }
            self.pos += 1;
            self.skip_ws();
            let v = match self.value() {
                Ok(v) => v,
                Err(e) => return Err(e.within(Seg::Key(key))),
            };
            obj.push_unchecked(key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected()),
            }
        }
        if !sorted && obj.len() > LINEAR_DUP_CHECK {
            let mut keys: Vec<&str> = obj.keys().collect();
            keys.sort_unstable();
            if let Some(w) = keys.windows(2).find(|w| w.first() == w.get(1)) {
                let k = w.first().copied().unwrap_or_default().to_owned();
                return Err(Raw::at(ParseErrorKind::DuplicateKey(k), start));
            }
        }
        self.depth -= 1;
        Ok(Json::Object(obj))
    }

    /// Parse a string starting at the opening quote; returns the unescaped text.
    fn string(&mut self) -> Result<String, Raw> {
        self.pos += 1; // opening quote
        let start = self.pos;
        // Fast path: no escapes. Find the closing quote or a backslash with
        // memchr2, then check the run for control characters. The input is
        // valid UTF-8 and both stops are ASCII, so slice boundaries are char
        // boundaries.
        let rest = self.b.get(start..).unwrap_or(&[]);
        match memchr::memchr2(b'"', b'\\', rest) {
            None => {
                if let Some(i) = rest.iter().position(|&c| c < 0x20) {
                    let c = rest.get(i).copied().unwrap_or(0);
                    return Err(Raw::at(ParseErrorKind::ControlCharacter(c), start + i));
                }
                return Err(Raw::at(ParseErrorKind::UnexpectedEnd, self.b.len()));
            }
            Some(i) => {
                let run = rest.get(..i).unwrap_or(&[]);
                if let Some(j) = run.iter().position(|&c| c < 0x20) {
                    let c = run.get(j).copied().unwrap_or(0);
                    return Err(Raw::at(ParseErrorKind::ControlCharacter(c), start + j));
                }
                self.pos = start + i;
                if rest.get(i) == Some(&b'"') {
                    let s = self.s.get(start..self.pos).unwrap_or("").to_owned();
                    self.pos += 1;
                    return Ok(s);
                }
            }
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(self.s.get(start..self.pos).unwrap_or(""));
        loop {
            let run_start = self.pos;
            loop {
                match self.peek() {
                    None => return Err(Raw::at(ParseErrorKind::UnexpectedEnd, self.pos)),
                    Some(b'"' | b'\\') => break,
                    Some(c) if c < 0x20 => {
                        return Err(Raw::at(ParseErrorKind::ControlCharacter(c), self.pos))
                    }
                    Some(_) => self.pos += 1,
                }
            }
            out.push_str(self.s.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                _ => {
                    let esc_pos = self.pos;
                    self.pos += 1; // backslash
                    let c = self
                        .peek()
                        .ok_or(Raw::at(ParseErrorKind::UnexpectedEnd, self.pos))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => {
                            self.canonical = false;
                            out.push('/')
                        }
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex_lower = self
                                .b
                                .get(self.pos..self.pos + 4)
                                .is_some_and(|h| !h.iter().any(u8::is_ascii_uppercase));
                            let ch = self.unicode_escape(esc_pos)?;
                            // Canonical form escapes only C0 controls without a short form, in lower-case hex.
                            let short = matches!(ch, '\u{8}' | '\t' | '\n' | '\u{c}' | '\r');
                            if !(hex_lower && (ch as u32) < 0x20 && !short) {
                                self.canonical = false;
                            }
                            out.push(ch);
                        }
                        _ => return Err(Raw::at(ParseErrorKind::InvalidEscape, esc_pos)),
                    }
                }
            }
        }
    }

    fn hex4(&mut self, esc_pos: usize) -> Result<u16, Raw> {
        let digits = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or(Raw::at(ParseErrorKind::InvalidEscape, esc_pos))?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(Raw::at(ParseErrorKind::InvalidEscape, esc_pos));
        }
        let v = u16::from_str_radix(digits, 16)
            .map_err(|_| Raw::at(ParseErrorKind::InvalidEscape, esc_pos))?;
        self.pos += 4;
        Ok(v)
    }

    /// Decode the `XXXX` after `\u`, joining a surrogate pair if one follows.
    fn unicode_escape(&mut self, esc_pos: usize) -> Result<char, Raw> {
        let hi = self.hex4(esc_pos)?;
        match hi {
            0xD800..=0xDBFF => {
                if self.b.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(Raw::at(ParseErrorKind::LoneSurrogate, esc_pos));
                }
                let lo_pos = self.pos;
                self.pos += 2;
                let lo = self.hex4(lo_pos)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(Raw::at(ParseErrorKind::LoneSurrogate, esc_pos));
                }
                let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                char::from_u32(c).ok_or(Raw::at(ParseErrorKind::LoneSurrogate, esc_pos))
            }
            0xDC00..=0xDFFF => Err(Raw::at(ParseErrorKind::LoneSurrogate, esc_pos)),
            _ => {
                char::from_u32(u32::from(hi)).ok_or(Raw::at(ParseErrorKind::InvalidEscape, esc_pos))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> ParseError {
        parse(s.as_bytes()).unwrap_err()
    }

    #[test]
    fn parses_scalars_and_keeps_number_lexemes() {
        assert_eq!(parse(b" null ").unwrap(), Json::Null);
        let v = parse(br#"{"a":1.0,"b":[1e2,-0,12345678901234567890]}"#).unwrap();
        let b = v.get("b").unwrap().as_array().unwrap();
        assert_eq!(v.get("a"), Some(&Json::Number(Number::new("1.0").unwrap())));
        assert_eq!(
            b[2],
            Json::Number(Number::new("12345678901234567890").unwrap())
        );
    }

    #[test]
    fn unescapes_strings() {
        let v = parse(br#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(v.as_str().unwrap(), "a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1F600}");
    }

    #[test]
    fn errors_name_the_path() {
        let e = err(r#"{"data":{"cloudResources":[{"scope":}]}}"#);
        assert_eq!(e.path, "$.data.cloudResources[0].scope");
        assert!(matches!(e.kind, ParseErrorKind::UnexpectedChar('}')));
    }

    #[test]
    fn rejects_bad_input_with_clear_kinds() {
        assert_eq!(err("").kind, ParseErrorKind::Empty);
        assert_eq!(err("{\"a\":1").kind, ParseErrorKind::UnexpectedEnd);
        assert_eq!(err("01").kind, ParseErrorKind::TrailingCharacters);
        assert_eq!(err("\"\\ud800\"").kind, ParseErrorKind::LoneSurrogate);
        assert_eq!(err("\"\\x\"").kind, ParseErrorKind::InvalidEscape);
        assert_eq!(
            err("\"a\nb\"").kind,
            ParseErrorKind::ControlCharacter(b'\n')
        );
        assert_eq!(
            err(r#"{"a":1,"a":2}"#).kind,
            ParseErrorKind::DuplicateKey("a".into())
        );
        assert_eq!(err("tru").kind, ParseErrorKind::UnexpectedEnd);
        assert!(matches!(
            err("[1,]").kind,
            ParseErrorKind::UnexpectedChar(']')
        ));
        let deep = "[".repeat(200);
        assert_eq!(err(&deep).kind, ParseErrorKind::TooDeep(128));
        assert_eq!(
            parse(b"\"\xff\"").unwrap_err().kind,
            ParseErrorKind::InvalidUtf8
        );
        assert_eq!(
            parse(b"\xEF\xBB\xBF{}").unwrap_err().kind,
            ParseErrorKind::ByteOrderMark
        );
    }

    #[test]
    fn duplicate_keys_in_large_objects() {
        let mut s = String::from("{");
        for i in 0..40 {
            s.push_str(&format!("\"k{i}\":{i},"));
        }
        s.push_str("\"k3\":0}");
        assert_eq!(err(&s).kind, ParseErrorKind::DuplicateKey("k3".into()));
    }

    #[test]
    fn notices_canonical_input() {
        let yes: &[&str] = &[
            r#"{"a":1,"b":[true,null,"x\n\u001f"]}"#,
            r#"  {"a":{"b":"é"}}"#,
            "\"\u{7f}\"",
        ];
        for s in yes {
            let (v, r) = parse_noting_canonical(s.as_bytes()).unwrap();
            let r = r.unwrap_or_else(|| panic!("{s} is canonical"));
            assert_eq!(&s.as_bytes()[r], crate::json::to_canonical(&v).as_slice());
        }
        let no: &[&str] = &[
            r#"{"b":1,"a":2}"#,
            r#"{"a": 1}"#,
            r#""\/""#,
            r#""\u0041""#,
            r#""\u001F""#,
            r#""\u000a""#,
            "[1, 2]",
        ];
        for s in no {
            assert!(
                parse_noting_canonical(s.as_bytes()).unwrap().1.is_none(),
                "{s} is not canonical"
            );
        }
    }

    #[test]
    fn line_and_column() {
        let e = err("{\n  \"a\": tru\n}");
        assert_eq!((e.line, e.column), (2, 11));
        assert_eq!(e.kind, ParseErrorKind::UnexpectedChar('\n'));
    }

    #[test]
    fn stream_of_values() {
        let items = parse_stream(b"{\"a\":1}\n{\"b\":2}\n\n[3]", Limits::default());
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].line, 2);
        assert!(items.iter().all(|i| i.value.is_ok()));
        let items = parse_stream(b"{}\n{\"b\":}\n{}", Limits::default());
        assert_eq!(items.len(), 2);
        assert!(items[1].value.is_err());
    }
}
