//! Index blocks: the index over a run of up to [`BLOCK_RECORDS`] consecutive
//! offsets. The newest block is built in memory by the writer; full blocks are
//! frozen, then sealed into SQLite as column and posting blobs.

pub mod codec;
pub mod words;

use rustc_hash::FxHashMap as HashMap;

use crate::dict::Dict;
use auditlog_model::fields::{ip_number, Field, FieldKind, Fields, DENSE};

/// Records per block. Block-relative offsets fit in a `u16`.
pub const BLOCK_RECORDS: usize = 1 << 16;

/// The index of one block, in memory.
#[derive(Debug, Clone)]
pub struct Block {
    /// Offset of the first record.
    pub first_offset: u64,
    /// Frame position of each record within its segment.
    pub positions: Vec<u32>,
    /// `time` of each record (nanoseconds), `i64::MIN` when absent.
    pub times: Vec<i64>,
    /// Id hash of each record, 0 when it has none.
    pub id_hashes: Vec<u64>,
    /// One column per [`DENSE`] field: the record's first value's dictionary id (0 = none).
    pub dense: Vec<Vec<u32>>,
    /// `(field, value id)` -> block-relative offsets, ascending (dictionary fields).
    pub postings: HashMap<(Field, u32), Vec<u16>>,
    /// field -> value -> block-relative offsets, ascending (term fields).
    /// Keyed so a lookup by `&str` hashes once and allocates only for a new value.
    pub terms: HashMap<Field, hashbrown::HashMap<String, Vec<u16>, rustc_hash::FxBuildHasher>>,
    /// The first client IP of each record as a 128-bit number, 0 when none.
    /// Further addresses of a record are kept as `ClientIp` terms.
    pub ips: Vec<u128>,
    /// Free-text word filter, per group of records.
    pub words: words::WordFilter,
    /// Smallest and largest `time`; `min_time` is [`NO_TIME`] when some record has none.
    pub min_time: i64,
    pub max_time: i64,
    /// Where the frame after this block's last record starts: (segment base, byte).
    pub end: (u64, u64),
}

/// A time that is absent.
pub const NO_TIME: i64 = i64::MIN;

impl Block {
    /// An empty block starting at `first_offset`.
    pub fn new(first_offset: u64, end: (u64, u64)) -> Block {
        Block {
            first_offset,
            positions: Vec::new(),
            times: Vec::new(),
            id_hashes: Vec::new(),
            dense: vec![Vec::new(); DENSE.len()],
            postings: HashMap::default(),
            terms: HashMap::default(),
            ips: Vec::new(),
            words: words::WordFilter::default(),
            min_time: i64::MAX,
            max_time: i64::MIN,
            end,
        }
    }

    /// Records in the block.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether the block holds no records.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Whether no more records fit.
    pub fn is_full(&self) -> bool {
        self.len() >= BLOCK_RECORDS
    }

    /// One past the last offset.
    pub fn end_offset(&self) -> u64 {
        self.first_offset + self.len() as u64
    }

    /// Add the next record. `frame_end` is where the frame after it starts.
    pub fn push(
        &mut self,
        offset: u64,
        pos: u32,
        frame_end: (u64, u64),
        fields: &Fields,
        id_hash: u64,
        dict: &mut Dict,
    ) {
        debug_assert_eq!(offset, self.end_offset());
        let rel = u16::try_from(self.len()).unwrap_or(u16::MAX);
        self.positions.push(pos);
        let t = fields.time.unwrap_or(NO_TIME);
        self.times.push(t);
        // A record without a time pulls `min_time` down to NO_TIME, so a
        // zone map can tell "every record has a time within the bounds".
        self.min_time = self.min_time.min(t);
        self.max_time = self.max_time.max(t);
        self.id_hashes.push(id_hash);
        for col in &mut self.dense {
            col.push(0);
        }
        self.ips.push(0);
        for (f, v) in fields.terms() {
            let list = match f.kind() {
                FieldKind::Column => {
                    let n = ip_number(v).unwrap_or(0);
                    match self.ips.last_mut() {
                        Some(slot) if *slot == 0 && n != 0 => {
                            *slot = n;
                            continue;
                        }
                        // A second address (or one that does not parse) is a term.
                        _ => self.terms.entry(f).or_default().entry_ref(v).or_default(),
                    }
                }
                FieldKind::Term => self.terms.entry(f).or_default().entry_ref(v).or_default(),
                FieldKind::Dictionary => {
                    let id = dict.intern(f, v);
                    if let Some(i) = DENSE.iter().position(|d| *d == f) {
                        if let Some(slot) = self.dense.get_mut(i).and_then(|c| c.last_mut()) {
                            if *slot == 0 {
                                *slot = id;
                            }
                        }
                    }
                    self.postings.entry((f, id)).or_default()
                }
            };
            if list.last() != Some(&rel) {
                list.push(rel);
            }
        }
        for h in &fields.tokens {
            self.words.add(usize::from(rel), *h);
        }
        self.words.cover(usize::from(rel) + 1);
        self.end = frame_end;
    }

    /// The frame position of `offset`, if it is in this block.
    pub fn position(&self, offset: u64) -> Option<u32> {
        let rel = usize::try_from(offset.checked_sub(self.first_offset)?).ok()?;
        self.positions.get(rel).copied()
    }

    /// Every term `(field, value, postings)`, in a stable order.
    pub fn term_lists(&self) -> Vec<(Field, &str, &Vec<u16>)> {
        let mut v: Vec<(Field, &str, &Vec<u16>)> = self
            .terms
            .iter()
            .flat_map(|(f, m)| m.iter().map(move |(k, l)| (*f, &**k, l)))
            .collect();
        v.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v
    }

    /// Per dense column, how many records have each dictionary id (0 = none).
    pub fn counts(&self) -> Vec<Vec<(u32, u32)>> {
        self.dense
            .iter()
            .map(|col| {
                let mut m: HashMap<u32, u32> = HashMap::default();
                for id in col {
                    *m.entry(*id).or_default() += 1;
                }
                let mut v: Vec<(u32, u32)> = m.into_iter().collect();
                v.sort_unstable();
                v
            })
            .collect()
    }

    /// Offsets in this block whose id hash is `h`.
    pub fn offsets_with_id_hash(&self, h: u64) -> impl Iterator<Item = u64> + '_ {
        self.id_hashes
            .iter()
            .enumerate()
            .filter(move |(_, x)| **x == h)
            .map(|(i, _)| self.first_offset + i as u64)
    }
}
