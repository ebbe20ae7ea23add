//! CloudEvents binary content mode: context attributes carried outside the
//! body (HTTP `ce-` headers, Kafka `ce_` headers) folded back into one
//! structured event, so both modes are stored the same way.

use crate::json::{parse, Json, Object, ParseError};

/// The structured event for a binary-mode message: each `(attribute, value)`
/// becomes a member (`specversion`, `id`, `source`, `type`, …; values already
/// decoded by the binding), `datacontenttype` is the message's content type
/// when given, and `data` is the body parsed as JSON.
pub fn structured_from_binary<'a>(
    attributes: impl IntoIterator<Item = (&'a str, String)>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Json, ParseError> {
    let data = parse(body)?;
    let mut o = Object::new();
    for (name, value) in attributes {
        o.insert(name, Json::String(value));
    }
    if let Some(ct) = content_type {
        o.insert("datacontenttype", Json::from(ct));
    }
    o.insert("data", data);
    Ok(Json::Object(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_and_body_make_one_event() {
        let v = structured_from_binary(
            [("specversion", "1.0".to_owned()), ("id", "a-1".to_owned())],
            Some("application/json"),
            br#"{"methodName":"CreateConnector"}"#,
        )
        .unwrap();
        assert_eq!(v.get("id").and_then(Json::as_str), Some("a-1"));
        assert_eq!(
            v.get("datacontenttype").and_then(Json::as_str),
            Some("application/json")
        );
        assert!(v.get("data").and_then(|d| d.get("methodName")).is_some());
        assert!(structured_from_binary([], None, b"{").is_err());
    }
}
