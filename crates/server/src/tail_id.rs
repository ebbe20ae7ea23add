//! Live-tail event ids (`id:` of `GET /v1/tail`) that mean the same on
//! every node of a Kafka group.
//!
//! A store offset is a position in one node's store: after a rebalance a
//! tenant's tail runs on another node, whose offsets differ, so a client
//! resuming with `Last-Event-ID` = an offset would skip or repeat records.
//! In Kafka mode an id therefore also names the record — its CloudEvents
//! `source` and `id`, unique per log and the same on every node — as
//! `OFFSET.SOURCE.ID` (both base64url without padding, so the id stays one
//! header-safe token). The node that resumes looks the record up in its own
//! store. Plain offsets stay valid everywhere (and are what a server
//! without Kafka sends).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;

/// Where a `Last-Event-ID` says the client was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LastId {
    /// An offset of this node's store.
    Offset(u64),
    /// A record, wherever it is stored.
    Record { source: String, id: String },
}

/// The event id of the record at `offset` with these bytes: `OFFSET.SOURCE.ID`,
/// or the plain offset when the record has no string `source` and `id`.
pub(crate) fn encode(offset: u64, bytes: &[u8]) -> String {
    let named = auditlog_model::json::parse(bytes).ok().and_then(|v| {
        let s = v.get("source")?.as_str()?.to_owned();
        let i = v.get("id")?.as_str()?.to_owned();
        Some((s, i))
    });
    match named {
        Some((s, i)) => format!("{offset}.{}.{}", B64.encode(s), B64.encode(i)),
        None => offset.to_string(),
    }
}

/// Read a `Last-Event-ID`; `None` if it is neither form.
pub(crate) fn parse(s: &str) -> Option<LastId> {
    let mut parts = s.split('.');
    let offset = parts.next()?.parse::<u64>().ok()?;
    match (parts.next(), parts.next(), parts.next()) {
        (None, _, _) => Some(LastId::Offset(offset)),
        (Some(src), Some(id), None) => {
            let text = |p: &str| String::from_utf8(B64.decode(p).ok()?).ok();
            Some(LastId::Record {
                source: text(src)?,
                id: text(id)?,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_the_record_and_read_back() {
        let rec = br#"{"id":"a.b/c=d","source":"crn://confluent.cloud/organization=\u00e9","specversion":"1.0"}"#;
        let id = encode(42, rec);
        assert!(id.starts_with("42."), "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_graphic()), "{id}");
        assert_eq!(
            parse(&id),
            Some(LastId::Record {
                source: "crn://confluent.cloud/organization=é".into(),
                id: "a.b/c=d".into()
            })
        );
    }

    #[test]
    fn plain_offsets_and_records_without_names() {
        assert_eq!(encode(7, br#"{"id":1}"#), "7");
        assert_eq!(encode(7, b"not json"), "7");
        assert_eq!(parse("7"), Some(LastId::Offset(7)));
        for bad in ["", "x", "7.", "7.a", "7.a.b.c", "-1", "7.!!.aa"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
