//! Findings across records: the same (source, id) used twice.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::diagnostic::{Code, Diagnostic};

/// Remembers (source, id) pairs to report reuse across a batch of records.
#[derive(Debug, Default)]
pub struct DuplicateTracker {
    seen: HashMap<(String, String), (u64, String)>,
}

impl DuplicateTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record one record's identity and content. `location` names it in
    /// messages (e.g. `file.json record 2`). Returns a finding when an earlier
    /// record had the same (source, id).
    pub fn observe(
        &mut self,
        source: Option<&str>,
        id: Option<&str>,
        canonical: &[u8],
        location: &str,
    ) -> Option<Diagnostic> {
        let (source, id) = (source?, id?);
        let mut h = DefaultHasher::new();
        canonical.hash(&mut h);
        let hash = h.finish();
        let key = (source.to_owned(), id.to_owned());
        match self.seen.get(&key) {
            Some((prev, first)) if *prev == hash => Some(Diagnostic::new(
                Code::DuplicateRecord,
                "$.id",
                format!("identical to {first}; an idempotent log stores it once"),
            )),
            Some((_, first)) => Some(Diagnostic::new(
                Code::IdConflict,
                "$.id",
                format!("id {id:?} from source {source:?} was already used by {first} with different content; consumers that deduplicate on (source, id) will drop one of them"),
            )),
            None => {
                self.seen.insert(key, (hash, location.to_owned()));
                None
            }
        }
    }
}
