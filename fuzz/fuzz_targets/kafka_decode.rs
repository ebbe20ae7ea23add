//! Fuzz the indexer's reading of Kafka messages — anyone who can write to
//! an audit topic sends these: structured or binary mode (`ce_*` headers),
//! any bytes. No input may panic; a structured-mode value is stored exactly
//! as it came; a binary-mode one becomes a canonical JSON object that reads
//! back the same in structured mode; the organization key found in a record
//! is a slice of it, and its partition is in range.
//!
//! Input layout: byte 0 = header count (mod 8); per header a key length
//! byte, the key, a value length byte (255: no value), the value; the rest
//! is the message value (none if the input ends first).
#![no_main]

use auditlog_kafka::decode::{decode, organization_key};
use auditlog_kafka::partition::partition_for_key;
use libfuzzer_sys::fuzz_target;

/// `(headers, value)` from the input, or `None` if it ends inside a header.
fn split(data: &[u8]) -> Option<(Vec<(&str, Option<&[u8]>)>, Option<&[u8]>)> {
    let (&count, mut rest) = data.split_first()?;
    let mut headers = Vec::new();
    for _ in 0..count % 8 {
        let (&klen, r) = rest.split_first()?;
        let (key, r) = r.split_at_checked(usize::from(klen))?;
        let key = std::str::from_utf8(key).ok()?;
        let (&vlen, r) = r.split_first()?;
        if vlen == 255 {
            headers.push((key, None));
            rest = r;
        } else {
            let (value, r) = r.split_at_checked(usize::from(vlen))?;
            headers.push((key, Some(value)));
            rest = r;
        }
    }
    let value = (!rest.is_empty()).then_some(rest);
    Some((headers, value))
}

fuzz_target!(|data: &[u8]| {
    let Some((headers, value)) = split(data) else {
        return;
    };
    let binary = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("ce_specversion") && v.is_some());
    match decode(value, &headers) {
        Ok(record) => {
            if binary {
                let v = auditlog_model::json::parse(&record).expect("binary mode gives JSON");
                assert!(v.as_object().is_some(), "binary mode gives an object");
                assert_eq!(
                    auditlog_model::json::to_canonical(&v),
                    record,
                    "and canonical bytes"
                );
                assert_eq!(decode(Some(&record), &[]).as_deref(), Ok(&record[..]));
            } else {
                assert_eq!(
                    Some(&record[..]),
                    value,
                    "structured mode stores the value as it came"
                );
            }
            let _ = auditlog_model::parse_record(&record);
            if let Some(org) = organization_key(&record) {
                let range = record.as_ptr_range();
                assert!(range.contains(&org.as_ptr()) || org.is_empty());
                for n in [1, 3, 64] {
                    assert!((0..n).contains(&partition_for_key(org.as_bytes(), n)));
                }
            }
        }
        Err(reason) => assert!(!reason.is_empty(), "a refusal says why"),
    }
});
