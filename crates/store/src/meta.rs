//! The index database (`index.db`, SQLite in WAL mode): dictionaries, sealed
//! blocks with their column and posting blobs, and the id table used for
//! idempotency and reads by id. Everything here is derived from the log and
//! can be rebuilt from it.

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::block::codec::{self, COL_DENSE, COL_ID_HASHES, COL_POSITIONS, COL_TIMES};
use crate::block::Block;
use crate::dict::Dict;
use auditlog_model::fields::Field;

/// Schema version, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE dict(field INTEGER NOT NULL, id INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY(field, id)) WITHOUT ROWID;
CREATE TABLE blocks(
  id INTEGER PRIMARY KEY,
  first_offset INTEGER NOT NULL UNIQUE,
  count INTEGER NOT NULL,
  min_time INTEGER NOT NULL,
  max_time INTEGER NOT NULL,
  end_segment INTEGER NOT NULL,
  end_pos INTEGER NOT NULL
);
CREATE TABLE block_columns(block INTEGER NOT NULL, col INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(block, col)) WITHOUT ROWID;
CREATE TABLE block_postings(field INTEGER NOT NULL, value INTEGER NOT NULL, block INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(field, value, block)) WITHOUT ROWID;
CREATE TABLE block_terms(field INTEGER NOT NULL, value TEXT NOT NULL, block INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(field, value, block)) WITHOUT ROWID;
CREATE TABLE ids(hash INTEGER NOT NULL, offset INTEGER NOT NULL, PRIMARY KEY(hash, offset)) WITHOUT ROWID;
CREATE TABLE block_words(part INTEGER NOT NULL, block INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(part, block)) WITHOUT ROWID;
CREATE TABLE block_counts(block INTEGER NOT NULL, col INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(block, col)) WITHOUT ROWID;
";

/// Index database failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    #[error("index database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("index database schema version {found} is newer than this build reads ({SCHEMA_VERSION}); upgrade auditlog")]
    TooNew { found: i64 },
}

/// A sealed block, as the store keeps it in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMeta {
    pub id: i64,
    pub first_offset: u64,
    pub count: u64,
    pub min_time: i64,
    pub max_time: i64,
    /// Where the frame after the block's last record starts.
    pub end: (u64, u64),
}

impl BlockMeta {
    pub fn end_offset(&self) -> u64 {
        self.first_offset + self.count
    }
}

fn to_i64(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

fn to_u64(x: i64) -> u64 {
    u64::try_from(x).unwrap_or(0)
}

/// Open (creating if needed) the index database for writing.
pub fn open_rw(path: &std::path::Path) -> Result<Connection, MetaError> {
    let c = Connection::open(path)?;
    // The index is derived from the fsync'd log, so NORMAL is enough: a
    // transaction lost at power failure is rebuilt from the log on open.
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA busy_timeout=5000;")?;
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v > 0 && v < SCHEMA_VERSION {
        // Everything here is derived from the log, so an older index is
        // dropped and the store's recovery re-indexes the whole log.
        tracing::info!(
            from = v,
            to = SCHEMA_VERSION,
            "index schema is older; rebuilding the index from the log"
        );
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for t in tables {
            c.execute_batch(&format!("DROP TABLE \"{t}\""))?;
        }
    }
    if v < SCHEMA_VERSION {
        c.execute_batch(SCHEMA)?;
        c.execute_batch(&format!("PRAGMA user_version={SCHEMA_VERSION}"))?;
    } else if v > SCHEMA_VERSION {
        return Err(MetaError::TooNew { found: v });
    }
    // A WAL left long by an earlier process slows every reader; start clean.
    checkpoint(&c, true);
    Ok(c)
}

/// Move WAL frames into the database file. `truncate` also empties the WAL
/// (waiting for readers up to the busy timeout). A checkpoint that cannot
/// finish now is retried by the next one, so failure is only logged.
pub fn checkpoint(c: &Connection, truncate: bool) {
    let sql = if truncate {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    } else {
        "PRAGMA wal_checkpoint(PASSIVE)"
    };
    if let Err(e) = c.query_row(sql, [], |_| Ok(())) {
        tracing::warn!(error = %e, "index checkpoint failed; will retry");
    }
}

/// Open the index database for reading only.
pub fn open_ro(path: &std::path::Path) -> Result<Connection, MetaError> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    c.execute_batch("PRAGMA busy_timeout=5000;")?;
    Ok(c)
}

/// Load every dictionary entry.
pub fn load_dict(c: &Connection, dict: &mut Dict) -> Result<(), MetaError> {
    let mut st = c.prepare("SELECT field, id, value FROM dict ORDER BY field, id")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let f: i64 = r.get(0)?;
        let id: i64 = r.get(1)?;
        let v: String = r.get(2)?;
        if let Some(field) = u8::try_from(f).ok().and_then(Field::from_code) {
            dict.load(field, u32::try_from(id).unwrap_or(0), &v);
        }
    }
    Ok(())
}

/// Every sealed block, in offset order.
pub fn load_blocks(c: &Connection) -> Result<Vec<BlockMeta>, MetaError> {
    let mut st = c.prepare("SELECT id, first_offset, count, min_time, max_time, end_segment, end_pos FROM blocks ORDER BY first_offset")?;
    let rows = st.query_map([], |r| {
        Ok(BlockMeta {
            id: r.get(0)?,
            first_offset: to_u64(r.get(1)?),
            count: to_u64(r.get(2)?),
            min_time: r.get(3)?,
            max_time: r.get(4)?,
            end: (to_u64(r.get(5)?), to_u64(r.get(6)?)),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Write a full block and the dictionary entries created so far, atomically.
pub fn seal(
    c: &mut Connection,
    id: i64,
    b: &Block,
    dict_entries: &[(Field, u32, String)],
) -> Result<BlockMeta, MetaError> {
    let tx = c.transaction()?;
    for (f, did, v) in dict_entries {
        tx.execute(
            "INSERT OR IGNORE INTO dict(field, id, value) VALUES (?1, ?2, ?3)",
            params![*f as u8, did, v],
        )?;
    }
    let (min_time, max_time) = if b.min_time <= b.max_time {
        (b.min_time, b.max_time)
    } else {
        (0, -1)
    };
    tx.execute(
        "INSERT INTO blocks(id, first_offset, count, min_time, max_time, end_segment, end_pos) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, to_i64(b.first_offset), b.len() as i64, min_time, max_time, to_i64(b.end.0), to_i64(b.end.1)],
    )?;
    {
        let mut st =
            tx.prepare("INSERT INTO block_columns(block, col, data) VALUES (?1, ?2, ?3)")?;
        st.execute(params![id, COL_POSITIONS, codec::encode_u32s(&b.positions)])?;
        st.execute(params![id, COL_TIMES, codec::encode_i64s(&b.times)])?;
        st.execute(params![id, COL_ID_HASHES, codec::encode_u64s(&b.id_hashes)])?;
        st.execute(params![
            id,
            codec::COL_CLIENT_IPS,
            codec::encode_u128s(&b.ips)
        ])?;
        for (i, col) in b.dense.iter().enumerate() {
            st.execute(params![id, COL_DENSE + i as i64, codec::encode_u32s(col)])?;
        }
    }
    {
        let mut keys: Vec<_> = b.postings.keys().copied().collect();
        keys.sort_unstable();
        let mut st = tx.prepare(
            "INSERT INTO block_postings(field, value, block, data) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for k in keys {
            if let Some(list) = b.postings.get(&k) {
                st.execute(params![k.0 as u8, k.1, id, codec::encode_postings(list)])?;
            }
        }
    }
    {
        let mut st = tx.prepare(
            "INSERT INTO block_terms(field, value, block, data) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (f, v, list) in b.term_lists() {
            st.execute(params![f as u8, v, id, codec::encode_postings(list)])?;
        }
    }
    {
        let mut st =
            tx.prepare("INSERT INTO block_words(part, block, data) VALUES (?1, ?2, ?3)")?;
        for p in 0..crate::block::words::PARTS {
            st.execute(params![p as i64, id, b.words.row(p)])?;
        }
        let mut st =
            tx.prepare("INSERT INTO block_counts(block, col, data) VALUES (?1, ?2, ?3)")?;
        for (i, counts) in b.counts().iter().enumerate() {
            st.execute(params![
                id,
                COL_DENSE + i as i64,
                codec::encode_counts(counts)
            ])?;
        }
    }
    {
        let mut pairs: Vec<(u64, u64)> = b
            .id_hashes
            .iter()
            .enumerate()
            .filter(|(_, h)| **h != 0)
            .map(|(i, h)| (*h, b.first_offset + i as u64))
            .collect();
        // Sorted inserts touch each B-tree page once per block.
        pairs.sort_unstable();
        let mut st = tx.prepare("INSERT OR IGNORE INTO ids(hash, offset) VALUES (?1, ?2)")?;
        for (h, off) in pairs {
            // SQLite integers are signed; the cast keeps all 64 bits.
            st.execute(params![h as i64, to_i64(off)])?;
        }
    }
    tx.commit()?;
    Ok(BlockMeta {
        id,
        first_offset: b.first_offset,
        count: b.len() as u64,
        min_time,
        max_time,
        end: b.end,
    })
}

/// Sealed offsets whose id hash is `h`.
pub fn offsets_for_hash(c: &Connection, h: u64) -> Result<Vec<u64>, MetaError> {
    let mut st = c.prepare_cached("SELECT offset FROM ids WHERE hash = ?1 ORDER BY offset")?;
    let rows = st.query_map(params![h as i64], |r| r.get::<_, i64>(0))?;
    Ok(rows.map(|r| r.map(to_u64)).collect::<Result<_, _>>()?)
}

/// Every id hash of sealed records (to rebuild the bloom filter).
pub fn for_each_hash(c: &Connection, mut f: impl FnMut(u64)) -> Result<(), MetaError> {
    let mut st = c.prepare("SELECT hash FROM ids")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        f(r.get::<_, i64>(0)? as u64);
    }
    Ok(())
}

/// A column blob of a sealed block.
pub fn column(c: &Connection, block: i64, col: i64) -> Result<Option<Vec<u8>>, MetaError> {
    let mut st =
        c.prepare_cached("SELECT data FROM block_columns WHERE block = ?1 AND col = ?2")?;
    Ok(st.query_row(params![block, col], |r| r.get(0)).optional()?)
}

/// Blocks holding term `(field, value)`, with their postings blobs.
pub fn term_blocks(
    c: &Connection,
    field: Field,
    value: &str,
) -> Result<Vec<(i64, Vec<u8>)>, MetaError> {
    let mut st = c.prepare_cached(
        "SELECT block, data FROM block_terms WHERE field = ?1 AND value = ?2 ORDER BY block",
    )?;
    let rows = st.query_map(params![field as u8, value], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every sealed block's word-filter row for the partition of word hash `h`,
/// as (block, row); see [`crate::block::words::row_groups_with`].
pub fn word_rows(c: &Connection, h: u64) -> Result<Vec<(i64, Vec<u8>)>, MetaError> {
    let mut st =
        c.prepare_cached("SELECT block, data FROM block_words WHERE part = ?1 ORDER BY block")?;
    let rows = st.query_map(params![crate::block::words::part(h) as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Per-value counts of dense column `col` in a sealed block.
pub fn counts(c: &Connection, block: i64, col: i64) -> Result<Vec<(u32, u32)>, MetaError> {
    let mut st = c.prepare_cached("SELECT data FROM block_counts WHERE block = ?1 AND col = ?2")?;
    let blob: Option<Vec<u8>> = st.query_row(params![block, col], |r| r.get(0)).optional()?;
    Ok(blob.map(|b| codec::decode_counts(&b)).unwrap_or_default())
}

/// Postings of every sealed block for `(field, value)`, as (block, blob).
pub fn postings_blocks(
    c: &Connection,
    field: Field,
    value: u32,
) -> Result<Vec<(i64, Vec<u8>)>, MetaError> {
    let mut st = c.prepare_cached(
        "SELECT block, data FROM block_postings WHERE field = ?1 AND value = ?2 ORDER BY block",
    )?;
    let rows = st.query_map(params![field as u8, value], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Distinct values of a term field across sealed blocks.
pub fn term_values(c: &Connection, field: Field) -> Result<Vec<String>, MetaError> {
    let mut st = c.prepare_cached("SELECT DISTINCT value FROM block_terms WHERE field = ?1")?;
    let rows = st.query_map(params![field as u8], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The postings blob of `(field, value)` in a sealed block.
pub fn postings(
    c: &Connection,
    field: Field,
    value: u32,
    block: i64,
) -> Result<Option<Vec<u8>>, MetaError> {
    let mut st = c.prepare_cached(
        "SELECT data FROM block_postings WHERE field = ?1 AND value = ?2 AND block = ?3",
    )?;
    Ok(st
        .query_row(params![field as u8, value, block], |r| r.get(0))
        .optional()?)
}
