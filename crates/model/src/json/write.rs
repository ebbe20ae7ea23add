//! Writers for [`Json`]: the canonical form that gets stored and hashed, and a
//! pretty form for people.
//!
//! The canonical form is RFC 8785 (JSON Canonicalization Scheme) with one
//! deliberate difference: numbers are written exactly as they were parsed.
//! RFC 8785 re-renders numbers through IEEE-754 doubles, which would silently
//! change `12345678901234567890` or `1.0`; an audit log must not alter what it
//! accepted. For numbers already in ECMAScript shortest form (all integers up
//! to 2^53, and what JavaScript, Go and Java emit) the output is byte-identical
//! to RFC 8785. `docs/format.md` states the rule for independent verifiers.

use std::cmp::Ordering;

use super::value::Json;

/// Write the canonical form of `v` to `out`.
pub fn write_canonical(v: &Json, out: &mut Vec<u8>) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Number(n) => out.extend_from_slice(n.as_str().as_bytes()),
        Json::String(s) => write_string(s, out),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Json::Object(obj) => {
            let mut members: Vec<(&str, &Json)> = obj.iter().collect();
            members.sort_unstable_by(|a, b| cmp_utf16(a.0, b.0));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
    }
}

/// The canonical bytes of `v`.
pub fn to_canonical(v: &Json) -> Vec<u8> {
    to_canonical_sized(v, 256)
}

/// [`to_canonical`] into a buffer pre-sized for about `hint` bytes.
pub fn to_canonical_sized(v: &Json, hint: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(hint);
    write_canonical(v, &mut out);
    out
}

/// Compare member names by their UTF-16 code units, as RFC 8785 §3.2.3 requires.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.as_bytes().cmp(b.as_bytes());
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Write a string with RFC 8785 escaping: `"` `\\` and control characters only;
/// everything else, including non-ASCII, is written as UTF-8.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0a => b"\\n",
            0x0c => b"\\f",
            0x0d => b"\\r",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(run..i).unwrap_or(&[]));
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
            out.push(HEX.get(usize::from(c & 0xf)).copied().unwrap_or(b'0'));
        } else {
            out.extend_from_slice(esc);
        }
        run = i + 1;
    }
    out.extend_from_slice(bytes.get(run..).unwrap_or(&[]));
    out.push(b'"');
}

/// Write `v` indented by two spaces, members in their stored order.
pub fn to_pretty(v: &Json) -> String {
    let mut out = Vec::with_capacity(512);
    write_pretty(v, 0, &mut out);
    // Only valid UTF-8 is ever written.
    String::from_utf8(out).unwrap_or_default()
}

fn indent(n: usize, out: &mut Vec<u8>) {
    out.push(b'\n');
    out.resize(out.len() + 2 * n, b' ');
}

fn write_pretty(v: &Json, depth: usize, out: &mut Vec<u8>) {
    match v {
        Json::Array(items) if !items.is_empty() => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                indent(depth + 1, out);
                write_pretty(item, depth + 1, out);
            }
            indent(depth, out);
            out.push(b']');
        }
        Json::Object(obj) if !obj.is_empty() => {
            out.push(b'{');
            for (i, (k, v)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                indent(depth + 1, out);
                write_string(k, out);
                out.extend_from_slice(b": ");
                write_pretty(v, depth + 1, out);
            }
            indent(depth, out);
            out.push(b'}');
        }
        other => write_canonical(other, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn canon(s: &str) -> String {
        String::from_utf8(to_canonical(&parse(s.as_bytes()).unwrap())).unwrap()
    }

    /// RFC 8785 §3.2.3, "Sorting of Object Properties": the example object and
    /// the order the RFC gives for it.
    #[test]
    fn rfc8785_property_sorting_vector() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let v = parse(input.as_bytes()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().collect();
        keys.sort_by(|a, b| cmp_utf16(a, b));
        let values: Vec<&str> = keys
            .iter()
            .map(|k| v.get(k).unwrap().as_str().unwrap())
            .collect();
        assert_eq!(
            values,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh",
            ]
        );
    }

    /// RFC 8785 §3.2.2.2 string serialization: only `"`, `\` and C0 controls
    /// are escaped, with the short forms where JSON has them.
    #[test]
    fn rfc8785_string_escaping() {
        assert_eq!(
            canon(r#""\u0041\u00e9\u2028\u001f\n\"\\\/""#),
            "\"Aé\u{2028}\\u001f\\n\\\"\\\\/\""
        );
    }

    #[test]
    fn canonical_sorts_and_strips_whitespace_but_keeps_numbers() {
        assert_eq!(
            canon(r#"{ "b" : [ 1.0 , 2e3 ], "a" : null }"#),
            r#"{"a":null,"b":[1.0,2e3]}"#
        );
    }

    #[test]
    fn pretty_is_parseable_and_equal() {
        let v = parse(br#"{"a":{"b":[1,{"c":"d"}],"e":{}},"f":[]}"#).unwrap();
        let p = to_pretty(&v);
        assert_eq!(parse(p.as_bytes()).unwrap(), v);
        assert!(p.contains("\n  \"a\": {"));
    }
}
