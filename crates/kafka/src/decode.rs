//! One Kafka message to record bytes (structured or binary content mode,
//! per the CloudEvents Kafka binding), or the reason it must go to
//! quarantine; and the partition key of a record. Pure: no I/O.

use auditlog_model::binary::structured_from_binary;
use auditlog_model::json::to_canonical;

/// The content type of structured-mode CloudEvents.
pub const STRUCTURED: &str = "application/cloudevents+json";

/// Record bytes to store, or why the message cannot be a record.
pub fn decode(
    payload: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
) -> Result<Vec<u8>, String> {
    let Some(payload) = payload.filter(|p| !p.is_empty()) else {
        return Err("the message has no value (a tombstone or an empty message); an audit record is a JSON object".into());
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| *v)
    };
    if header("ce_specversion").is_none() {
        // Structured mode (or a bare JSON record): the value is the event.
        return Ok(payload.to_vec());
    }
    // Binary mode: attributes in ce_* headers, the value is `data`.
    let mut attributes = Vec::new();
    for (k, v) in headers {
        let Some(attr) = k.strip_prefix("ce_") else {
            continue;
        };
        let value = v.unwrap_or_default();
        let text = std::str::from_utf8(value).map_err(|_| format!("header {k} is not UTF-8"))?;
        attributes.push((attr, text.to_owned()));
    }
    let content_type = header("content-type").map(|v| String::from_utf8_lossy(v).into_owned());
    let event =
        structured_from_binary(attributes, content_type.as_deref(), payload).map_err(|e| {
            format!(
                "binary-mode value is not JSON: {} at line {} column {}",
                e.kind, e.line, e.column
            )
        })?;
    Ok(to_canonical(&event))
}

/// The organization id a record belongs to (its partition key, so each
/// tenant's records stay in order within one partition): the first
/// `organization=` segment of a CRN in the record.
pub fn organization_key(record: &[u8]) -> Option<&str> {
    const NEEDLE: &[u8] = b"organization=";
    let at = record.windows(NEEDLE.len()).position(|w| w == NEEDLE)? + NEEDLE.len();
    let rest = record.get(at..)?;
    let end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'"' || b == b'\\')
        .unwrap_or(rest.len());
    std::str::from_utf8(rest.get(..end)?)
        .ok()
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_passes_through_binary_is_folded() {
        assert_eq!(
            decode(Some(b"{\"id\":\"1\"}"), &[]).unwrap(),
            b"{\"id\":\"1\"}"
        );
        let h: Vec<(&str, Option<&[u8]>)> = vec![
            ("ce_specversion", Some(b"1.0")),
            ("ce_id", Some(b"a-1")),
            ("ce_source", Some(b"crn://confluent.cloud/")),
            ("content-type", Some(b"application/json")),
        ];
        let got = String::from_utf8(decode(Some(b"{\"methodName\":\"X\"}"), &h).unwrap()).unwrap();
        assert_eq!(
            got,
            r#"{"data":{"methodName":"X"},"datacontenttype":"application/json","id":"a-1","source":"crn://confluent.cloud/","specversion":"1.0"}"#
        );
        assert!(decode(None, &[]).unwrap_err().contains("no value"));
        assert!(decode(Some(b"{"), &h).unwrap_err().contains("not JSON"));
        let bad: Vec<(&str, Option<&[u8]>)> =
            vec![("ce_specversion", Some(b"1.0")), ("ce_id", Some(&[0xff]))];
        assert!(decode(Some(b"{}"), &bad)
            .unwrap_err()
            .contains("ce_id is not UTF-8"));
    }

    #[test]
    fn the_key_is_the_organization() {
        let r = br#"{"subject":"crn://confluent.cloud/organization=3bd5-aa/environment=env-1"}"#;
        assert_eq!(organization_key(r), Some("3bd5-aa"));
        assert_eq!(organization_key(b"{}"), None);
        assert_eq!(organization_key(b"organization="), None);
    }
}
