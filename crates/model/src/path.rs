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
