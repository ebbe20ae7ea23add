//! What the planner reads from one index block, in memory or sealed in
//! SQLite, behind one trait so both are evaluated by the same code.

use std::collections::HashMap;

use auditlog_model::fields::{Field, DENSE};
use auditlog_store::block::{codec, words, Block};
use auditlog_store::dict::Dict;
use auditlog_store::meta::{self, BlockMeta, MetaError};
use auditlog_store::rusqlite::{params, Connection, OptionalExtension};

use crate::bits::Bits;

/// Index reads of one block, limited to its first `len()` records.
pub trait Access {
    /// Offset of the block's first record.
    fn first(&self) -> u64;
    /// Visible records (a block can hold records past the snapshot's end).
    fn len(&self) -> usize;
    /// Whether no record is visible.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Smallest and largest record time.
    fn time_range(&self) -> (i64, i64);
    /// The global dictionary.
    fn dict(&self) -> &Dict;
    /// Records with dictionary value `id` of `f`.
    fn postings(&mut self, f: Field, id: u32) -> Result<Bits, MetaError>;
    /// Records with term value `v` of `f`.
    fn term(&mut self, f: Field, v: &str) -> Result<Bits, MetaError>;
    /// Every term value of `f` in the block with its records.
    fn term_values(&mut self, f: Field) -> Result<Vec<(String, Bits)>, MetaError>;
    /// Record times.
    fn times(&mut self) -> Result<Vec<i64>, MetaError>;
    /// First client address of each record (0 = none).
    fn ips(&mut self) -> Result<Vec<u128>, MetaError>;
    /// Id hash of each record.
    fn id_hashes(&mut self) -> Result<Vec<u64>, MetaError>;
    /// Dense column `i` (see [`DENSE`]).
    fn dense(&mut self, i: usize) -> Result<Vec<u32>, MetaError>;
    /// Groups of [`words::GROUP_RECORDS`] records that may hold word hash `h`.
    fn word_groups(&mut self, h: u64) -> Result<Vec<usize>, MetaError>;
    /// Per-value record counts of dense column `i`. Sealed blocks override
    /// this with the rollup stored at seal time.
    fn counts(&mut self, i: usize) -> Result<Vec<(u32, u32)>, MetaError> {
        Ok(count_values(self.dense(i)?))
    }
}

/// `(value, records)` pairs of a dense column.
fn count_values(col: Vec<u32>) -> Vec<(u32, u32)> {
    let mut m: HashMap<u32, u32> = HashMap::new();
    for id in col {
        *m.entry(id).or_default() += 1;
    }
    m.into_iter().collect()
}

fn truncate<T>(mut v: Vec<T>, n: usize) -> Vec<T> {
    v.truncate(n);
    v
}

/// A block in memory (active or frozen).
#[derive(Debug)]
pub struct Memory<'a> {
    pub block: &'a Block,
    pub dict: &'a Dict,
    pub len: usize,
}

impl Access for Memory<'_> {
    fn first(&self) -> u64 {
        self.block.first_offset
    }
    fn len(&self) -> usize {
        self.len
    }
    fn time_range(&self) -> (i64, i64) {
        (self.block.min_time, self.block.max_time)
    }
    fn dict(&self) -> &Dict {
        self.dict
    }
    fn postings(&mut self, f: Field, id: u32) -> Result<Bits, MetaError> {
        let list = self.block.postings.get(&(f, id));
        Ok(Bits::from_positions(
            self.len,
            list.into_iter().flatten().map(|r| usize::from(*r)),
        ))
    }
    fn term(&mut self, f: Field, v: &str) -> Result<Bits, MetaError> {
        let list = self.block.terms.get(&f).and_then(|m| m.get(v));
        Ok(Bits::from_positions(
            self.len,
            list.into_iter().flatten().map(|r| usize::from(*r)),
        ))
    }
    fn term_values(&mut self, f: Field) -> Result<Vec<(String, Bits)>, MetaError> {
        Ok(self
            .block
            .terms
            .get(&f)
            .into_iter()
            .flatten()
            .map(|(k, l)| {
                (
                    k.clone(),
                    Bits::from_positions(self.len, l.iter().map(|r| usize::from(*r))),
                )
            })
            .collect())
    }
    fn times(&mut self) -> Result<Vec<i64>, MetaError> {
        Ok(self.block.times.iter().take(self.len).copied().collect())
    }
    fn ips(&mut self) -> Result<Vec<u128>, MetaError> {
        Ok(self.block.ips.iter().take(self.len).copied().collect())
    }
    fn id_hashes(&mut self) -> Result<Vec<u64>, MetaError> {
        Ok(self
            .block
            .id_hashes
            .iter()
            .take(self.len)
            .copied()
            .collect())
    }
    fn dense(&mut self, i: usize) -> Result<Vec<u32>, MetaError> {
        Ok(self
            .block
            .dense
            .get(i)
            .map(|c| c.iter().take(self.len).copied().collect())
            .unwrap_or_default())
    }
    fn word_groups(&mut self, h: u64) -> Result<Vec<usize>, MetaError> {
        Ok(self.block.words.groups_with(h))
    }
}

/// A sealed block, read from the index database.
#[derive(Debug)]
pub struct Sealed<'a> {
    pub conn: &'a Connection,
    pub meta: BlockMeta,
    pub dict: &'a Dict,
    pub len: usize,
    times: Option<Vec<i64>>,
}

impl<'a> Sealed<'a> {
    pub fn new(conn: &'a Connection, meta: BlockMeta, dict: &'a Dict, len: usize) -> Sealed<'a> {
        Sealed {
            conn,
            meta,
            dict,
            len,
            times: None,
        }
    }

    fn column(&self, col: i64) -> Result<Vec<u8>, MetaError> {
        Ok(meta::column(self.conn, self.meta.id, col)?.unwrap_or_default())
    }

    fn list(&self, blob: Option<Vec<u8>>) -> Bits {
        Bits::from_positions(
            self.len,
            blob.map(|b| codec::decode_postings(&b))
                .unwrap_or_default()
                .into_iter()
                .map(usize::from),
        )
    }
}

impl Access for Sealed<'_> {
    fn first(&self) -> u64 {
        self.meta.first_offset
    }
    fn len(&self) -> usize {
        self.len
    }
    fn time_range(&self) -> (i64, i64) {
        (self.meta.min_time, self.meta.max_time)
    }
    fn dict(&self) -> &Dict {
        self.dict
    }
    fn postings(&mut self, f: Field, id: u32) -> Result<Bits, MetaError> {
        let blob = meta::postings(self.conn, f, id, self.meta.id)?;
        Ok(self.list(blob))
    }
    fn term(&mut self, f: Field, v: &str) -> Result<Bits, MetaError> {
        let mut st = self.conn.prepare_cached(
            "SELECT data FROM block_terms WHERE field = ?1 AND value = ?2 AND block = ?3",
        )?;
        let blob: Option<Vec<u8>> = st
            .query_row(params![f as u8, v, self.meta.id], |r| r.get(0))
            .optional()?;
        Ok(self.list(blob))
    }
    fn term_values(&mut self, f: Field) -> Result<Vec<(String, Bits)>, MetaError> {
        let mut st = self.conn.prepare_cached(
            "SELECT value, data FROM block_terms WHERE field = ?1 AND block = ?2",
        )?;
        let rows = st.query_map(params![f as u8, self.meta.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (v, blob) = row?;
            out.push((v, self.list(Some(blob))));
        }
        Ok(out)
    }
    fn times(&mut self) -> Result<Vec<i64>, MetaError> {
        if let Some(t) = &self.times {
            return Ok(t.clone());
        }
        let t = truncate(
            codec::decode_i64s(&self.column(codec::COL_TIMES)?),
            self.len,
        );
        self.times = Some(t.clone());
        Ok(t)
    }
    fn ips(&mut self) -> Result<Vec<u128>, MetaError> {
        Ok(truncate(
            codec::decode_u128s(&self.column(codec::COL_CLIENT_IPS)?),
            self.len,
        ))
    }
    fn id_hashes(&mut self) -> Result<Vec<u64>, MetaError> {
        Ok(truncate(
            codec::decode_u64s(&self.column(codec::COL_ID_HASHES)?),
            self.len,
        ))
    }
    fn dense(&mut self, i: usize) -> Result<Vec<u32>, MetaError> {
        Ok(truncate(
            codec::decode_u32s(&self.column(codec::COL_DENSE + i as i64)?),
            self.len,
        ))
    }
    fn word_groups(&mut self, h: u64) -> Result<Vec<usize>, MetaError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT data FROM block_words WHERE part = ?1 AND block = ?2")?;
        let row: Option<Vec<u8>> = st
            .query_row(params![words::part(h) as i64, self.meta.id], |r| r.get(0))
            .optional()?;
        Ok(row
            .map(|r| words::row_groups_with(&r, h))
            .unwrap_or_default())
    }
    fn counts(&mut self, i: usize) -> Result<Vec<(u32, u32)>, MetaError> {
        if self.len as u64 == self.meta.count {
            return meta::counts(self.conn, self.meta.id, codec::COL_DENSE + i as i64);
        }
        // Part of the block is past the snapshot: count the visible rows.
        Ok(count_values(self.dense(i)?))
    }
}

/// Position of `f` among the dense columns.
pub fn dense_index(f: Field) -> Option<usize> {
    DENSE.iter().position(|d| *d == f)
}
