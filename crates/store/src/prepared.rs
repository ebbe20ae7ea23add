//! What the writer receives: a record's canonical bytes and index fields.

use auditlog_model::fields::{extract_with_target, Fields};
use auditlog_model::record::ParsedRecord;
use auditlog_model::words::json_word_hashes;
use auditlog_model::Crn;

/// What to do with a record whose (source, id) is already stored with other content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// Refuse it; the caller reports a conflict.
    Reject,
    /// Store it too, and report the earlier offset.
    Store,
}

/// A record ready for the writer: canonical bytes and index fields.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The bytes to store and return.
    pub canonical: Vec<u8>,
    /// `source`, for idempotency.
    pub source: Option<String>,
    /// `id`, for idempotency.
    pub id: Option<String>,
    /// Index fields.
    pub fields: Fields,
    /// Policy for an id reused with other content.
    pub on_conflict: ConflictPolicy,
}

impl Prepared {
    /// Prepare a parsed record.
    pub fn new(p: ParsedRecord, on_conflict: ConflictPolicy) -> Prepared {
        let target = p.record.resource_crn();
        Prepared::with_target(p, on_conflict, target)
    }

    /// [`Prepared::new`] with the target CRN already parsed.
    pub fn with_target(
        p: ParsedRecord,
        on_conflict: ConflictPolicy,
        target: Option<Crn>,
    ) -> Prepared {
        let mut fields = extract_with_target(&p.record, target);
        // Free-text words come from the stored bytes, as search sees them.
        fields.tokens = json_word_hashes(std::str::from_utf8(&p.canonical).unwrap_or(""));
        let r = p.record;
        Prepared {
            canonical: p.canonical,
            source: r.source,
            id: r.id,
            fields,
            on_conflict,
        }
    }

    /// The id hash, when the record has an id.
    pub fn id_hash(&self) -> Option<u64> {
        self.id.as_deref().map(auditlog_model::fields::id_hash)
    }
}
