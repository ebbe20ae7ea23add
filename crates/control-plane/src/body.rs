//! Request bodies: taken as bytes and parsed here, so a malformed body is a
//! 400 the handler answers (and audits) itself, with a detail that says
//! which member is wrong.

use serde_json::{Map, Value};

use crate::errors::ApiError;

pub(crate) type Object = Map<String, Value>;

/// The body as a JSON value.
pub(crate) fn json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON object",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// The body as a JSON object.
pub(crate) fn object(body: &[u8]) -> Result<Object, ApiError> {
    match json(body)? {
        Value::Object(o) => Ok(o),
        other => Err(ApiError::bad_request(format!(
            "the request body must be a JSON object, not {}",
            kind(&other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `o[key]` as a string, if present and not null.
pub(crate) fn opt_str<'a>(o: &'a Object, key: &str) -> Result<Option<&'a str>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{key}` must be a string, not {}",
            kind(other)
        ))),
    }
}

/// `o[key]` as a non-empty string.
pub(crate) fn req_str<'a>(o: &'a Object, key: &str) -> Result<&'a str, ApiError> {
    match opt_str(o, key)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::bad_request(format!(
            "missing required field `{key}`"
        ))),
    }
}

/// `o[key]` as an object, if present and not null.
pub(crate) fn opt_obj<'a>(o: &'a Object, key: &str) -> Result<Option<&'a Object>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{key}` must be an object, not {}",
            kind(other)
        ))),
    }
}

/// `o[key]` as an object.
pub(crate) fn req_obj<'a>(o: &'a Object, key: &str) -> Result<&'a Object, ApiError> {
    opt_obj(o, key)?.ok_or_else(|| ApiError::bad_request(format!("missing required field `{key}`")))
}

/// `o[key]` as a non-negative integer, if present and not null.
pub(crate) fn opt_u32(o: &Object, key: &str) -> Result<Option<u32>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(format!("`{key}` must be a non-negative integer"))
            }),
    }
}

/// `o[key]` as a boolean, if present and not null.
pub(crate) fn opt_bool(o: &Object, key: &str) -> Result<Option<bool>, ApiError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{key}` must be a boolean, not {}",
            kind(other)
        ))),
    }
}

/// 400 unless `name` is 1–`max` characters of `[a-z0-9-]` (or also upper
/// case, `.` and `_` when `relaxed`), starting with a letter or digit.
pub(crate) fn check_name(
    what: &str,
    name: &str,
    max: usize,
    relaxed: bool,
) -> Result<(), ApiError> {
    let ok_char = |b: u8| {
        b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || b == b'-'
            || (relaxed && (b.is_ascii_uppercase() || b == b'.' || b == b'_'))
    };
    let starts_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    if name.len() <= max && starts_ok && name.bytes().all(ok_char) {
        Ok(())
    } else {
        let chars = if relaxed {
            "letters, digits, '.', '_' and '-'"
        } else {
            "lower-case letters, digits and '-'"
        };
        Err(ApiError::bad_request(format!(
            "invalid {what} name {name:?}: use 1 to {max} {chars}, starting with a letter or digit"
        )))
    }
}

/// The value of `key` in a raw query string (`a=1&b=2`), percent-decoded.
/// Read by hand so a strange query never becomes an unaudited rejection.
pub(crate) fn query(raw: Option<&str>, key: &str) -> Option<String> {
    raw?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(v)) => {
                out.push(v);
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
