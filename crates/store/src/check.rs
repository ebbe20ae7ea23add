//! `auditlog check`: verify a data directory end to end. Every frame's
//! checksum and offset, every payload's canonical form, and every sealed index
//! block (positions, times, ids, columns, postings) recomputed from the log.

use std::collections::HashMap;
use std::path::Path;

use auditlog_model::json;

use crate::block::codec;
use crate::block::Block;
use crate::dict::Dict;
use crate::error::{io, StoreError};
use crate::log::frame::{decode_frame, decode_header, FrameError, HEADER_LEN};
use crate::log::list_segments;
use crate::meta::{self, BlockMeta};
use auditlog_model::fields::{extract, id_hash, Fields};

/// One thing wrong with the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The offset concerned, when there is one.
    pub offset: Option<u64>,
    /// What is wrong.
    pub what: String,
}

/// What `check` found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Valid records in the log.
    pub records: u64,
    /// Segment files.
    pub segments: usize,
    /// Bytes in segment files.
    pub bytes: u64,
    /// Sealed index blocks verified.
    pub sealed_blocks: usize,
    /// Things that are wrong. Empty means the store is intact.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not damage (a torn tail the next open repairs).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check `dir`. `progress` is called with (bytes checked, total bytes).
pub fn check(dir: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    match std::fs::read_to_string(dir.join("FORMAT")) {
        Ok(s) if s.trim() == crate::store::FORMAT => {}
        Ok(s) => report.problems.push(Problem {
            offset: None,
            what: format!(
                "FORMAT says {:?}, expected {:?}",
                s.trim(),
                crate::store::FORMAT
            ),
        }),
        Err(e) => {
            return Err(io(format!(
                "{} is not an auditlog data directory (no FORMAT file)",
                dir.display()
            ))(e))
        }
    }
    let db = dir.join("index.db");
    let (mut dict, blocks) = (Dict::new(), Vec::new());
    let mut blocks: Vec<BlockMeta> = blocks;
    let conn = if db.exists() {
        let c = meta::open_ro(&db)?;
        meta::load_dict(&c, &mut dict)?;
        blocks = meta::load_blocks(&c)?;
        Some(c)
    } else {
        None
    };
    report.sealed_blocks = blocks.len();
    let mut expected_first = 0;
    for b in &blocks {
        if b.first_offset != expected_first {
            report.problems.push(Problem {
                offset: Some(expected_first),
                what: format!(
                    "index block {} starts at offset {} instead of {expected_first}",
                    b.id, b.first_offset
                ),
            });
        }
        expected_first = b.end_offset();
    }

    let segments = list_segments(&dir.join("log"))?;
    report.segments = segments.len();
    let total: u64 = segments
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    report.bytes = total;
    let mut done = 0u64;
    let mut expected = segments.first().map_or(0, |s| s.0);
    if expected != 0 {
        report.problems.push(Problem {
            offset: Some(0),
            what: format!("the log starts at offset {expected}, not 0"),
        });
    }
    let mut verifier = BlockVerifier {
        conn: conn.as_ref(),
        dict: &mut dict,
        blocks: &blocks,
        next_block: 0,
        current: None,
        problems: Vec::new(),
    };
    let last = segments.len().saturating_sub(1);
    for (i, (base, path)) in segments.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(io(format!("reading {}", path.display())))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if decode_header(&bytes) != Some(*base) {
            report.problems.push(Problem {
                offset: Some(expected),
                what: format!("{name}: bad segment header"),
            });
            done += bytes.len() as u64;
            continue;
        }
        if *base != expected {
            report.problems.push(Problem { offset: Some(expected), what: format!("{name} starts at offset {base}, but the log continues at {expected}: records are missing") });
            expected = *base;
        }
        let mut pos = HEADER_LEN;
        while pos < bytes.len() {
            match decode_frame(bytes.get(pos..).unwrap_or(&[])) {
                Ok((info, payload)) => {
                    if info.offset != expected {
                        report.problems.push(Problem { offset: Some(expected), what: format!("{name} byte {pos}: frame holds offset {} where {expected} was expected", info.offset) });
                    }
                    check_payload(info.offset, payload, &mut report.problems);
                    let seg_pos = (*base, pos as u64);
                    pos += info.total;
                    verifier.record(info.offset, seg_pos, (*base, pos as u64), payload);
                    report.records += 1;
                    expected = info.offset + 1;
                }
                Err(FrameError::Short) if i == last => {
                    report.notes.push(format!("{name}: {} torn bytes after offset {} (an unacknowledged write cut short by a crash); the next open truncates them", bytes.len() - pos, expected.saturating_sub(1)));
                    break;
                }
                Err(e) => {
                    report.problems.push(Problem { offset: Some(expected), what: format!("{name} byte {pos}: invalid frame ({e:?}); the bytes of offset {expected} do not match their checksum") });
                    break;
                }
            }
            progress(done + pos as u64, total);
        }
        done += bytes.len() as u64;
        progress(done, total);
    }
    verifier.finish();
    report.problems.extend(verifier.problems);
    if expected_first > expected {
        report.problems.push(Problem {
            offset: Some(expected),
            what: format!(
                "the index covers offsets up to {expected_first}, but the log ends at {expected}"
            ),
        });
    }
    Ok(report)
}

fn check_payload(offset: u64, payload: &[u8], problems: &mut Vec<Problem>) {
    match json::parse(payload) {
        Ok(v) => {
            if json::to_canonical(&v) != payload {
                problems.push(Problem {
                    offset: Some(offset),
                    what: "stored bytes are not in canonical form".into(),
                });
            }
            if !matches!(v, json::Json::Object(_)) {
                problems.push(Problem {
                    offset: Some(offset),
                    what: "stored record is not a JSON object".into(),
                });
            }
        }
        Err(e) => problems.push(Problem {
            offset: Some(offset),
            what: format!("stored bytes are not JSON: {e}"),
        }),
    }
}

/// Recomputes each sealed block from the log and compares it with SQLite.
struct BlockVerifier<'a> {
    conn: Option<&'a rusqlite::Connection>,
    dict: &'a mut Dict,
    blocks: &'a [BlockMeta],
    next_block: usize,
    current: Option<(BlockMeta, Block)>,
    problems: Vec<Problem>,
}

impl BlockVerifier<'_> {
    fn record(&mut self, offset: u64, at: (u64, u64), end: (u64, u64), payload: &[u8]) {
        if self.current.is_none() {
            if let Some(b) = self
                .blocks
                .get(self.next_block)
                .filter(|b| b.first_offset == offset)
            {
                self.current = Some((*b, Block::new(offset, at)));
                self.next_block += 1;
            }
        }
        let Some((m, blk)) = self.current.as_mut() else {
            return;
        };
        if offset != blk.end_offset() {
            // Records are missing from the log here (reported by the scan);
            // this block cannot be recomputed.
            let (m, missing) = (*m, blk.end_offset());
            self.current = None;
            self.problem(
                &m,
                format!("cannot be verified: offset {missing} is missing from the log"),
            );
            return;
        }
        let (fields, h) = match auditlog_model::Record::parse(payload) {
            Ok(r) => {
                let mut f = extract(&r);
                f.tokens = auditlog_model::words::json_word_hashes(
                    std::str::from_utf8(payload).unwrap_or(""),
                );
                (f, r.id.as_deref().map_or(0, id_hash))
            }
            Err(_) => (Fields::default(), 0),
        };
        // Values unknown to the stored dictionary are interned here with new
        // ids, so a mismatch shows up in the comparison below.
        blk.push(
            offset,
            u32::try_from(at.1).unwrap_or(u32::MAX),
            end,
            &fields,
            h,
            self.dict,
        );
        if blk.end_offset() == m.end_offset() {
            let (m, blk) = (*m, blk.clone());
            self.current = None;
            self.compare(&m, &blk);
        }
    }

    fn finish(&mut self) {
        if let Some((m, _)) = self.current.take() {
            self.problems.push(Problem {
                offset: Some(m.first_offset),
                what: format!(
                    "index block {} covers offsets {}..{}, past the end of the log",
                    m.id,
                    m.first_offset,
                    m.end_offset()
                ),
            });
        }
    }

    fn problem(&mut self, m: &BlockMeta, what: String) {
        self.problems.push(Problem {
            offset: Some(m.first_offset),
            what: format!("index block {}: {what}", m.id),
        });
    }

    fn compare(&mut self, m: &BlockMeta, b: &Block) {
        let Some(conn) = self.conn else { return };
        if m.end != b.end {
            self.problem(
                m,
                format!("ends at {:?} but the log says {:?}", m.end, b.end),
            );
        }
        let col = |c: i64| {
            meta::column(conn, m.id, c)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let first_diff = |a: &[u8], b: &[u8], width: usize| {
            a.chunks(width)
                .zip(b.chunks(width))
                .position(|(x, y)| x != y)
        };
        let checks = [
            (
                "positions",
                codec::COL_POSITIONS,
                codec::encode_u32s(&b.positions),
                4,
            ),
            ("times", codec::COL_TIMES, codec::encode_i64s(&b.times), 8),
            (
                "id hashes",
                codec::COL_ID_HASHES,
                codec::encode_u64s(&b.id_hashes),
                8,
            ),
            (
                "client IPs",
                codec::COL_CLIENT_IPS,
                codec::encode_u128s(&b.ips),
                16,
            ),
        ];
        for (name, c, want, w) in checks {
            let got = col(c);
            if got != want {
                let at = first_diff(&got, &want, w).unwrap_or(0) as u64;
                self.problem(
                    m,
                    format!(
                        "{name} column differs from the log at offset {}",
                        m.first_offset + at
                    ),
                );
            }
        }
        for (i, dense) in b.dense.iter().enumerate() {
            if col(codec::COL_DENSE + i as i64) != codec::encode_u32s(dense) {
                self.problem(m, format!("dense column {i} differs from the log"));
            }
        }
        let mut stored: HashMap<(u8, u32), Vec<u8>> = HashMap::new();
        if let Ok(mut st) =
            conn.prepare("SELECT field, value, data FROM block_postings WHERE block = ?1")
        {
            if let Ok(rows) = st.query_map([m.id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            }) {
                for (f, v, d) in rows.flatten() {
                    stored.insert(
                        (u8::try_from(f).unwrap_or(0), u32::try_from(v).unwrap_or(0)),
                        d,
                    );
                }
            }
        }
        let mut mismatched = 0;
        for ((f, v), list) in &b.postings {
            if stored
                .remove(&(*f as u8, *v))
                .map(|d| codec::decode_postings(&d))
                != Some(list.clone())
            {
                mismatched += 1;
            }
        }
        mismatched += stored.len();
        let mut terms: HashMap<(u8, String), Vec<u8>> = HashMap::new();
        if let Ok(mut st) =
            conn.prepare("SELECT field, value, data FROM block_terms WHERE block = ?1")
        {
            if let Ok(rows) = st.query_map([m.id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            }) {
                for (f, v, d) in rows.flatten() {
                    terms.insert((u8::try_from(f).unwrap_or(0), v), d);
                }
            }
        }
        for (f, v, list) in b.term_lists() {
            if terms
                .remove(&(f as u8, v.to_owned()))
                .map(|d| codec::decode_postings(&d))
                .as_ref()
                != Some(list)
            {
                mismatched += 1;
            }
        }
        mismatched += terms.len();
        for p in 0..crate::block::words::PARTS {
            let stored: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT data FROM block_words WHERE part = ?1 AND block = ?2",
                    [p as i64, m.id],
                    |r| r.get(0),
                )
                .ok();
            if stored.as_deref() != Some(&b.words.row(p)[..]) {
                mismatched += 1;
            }
        }
        for (i, counts) in b.counts().iter().enumerate() {
            if meta::counts(conn, m.id, codec::COL_DENSE + i as i64)
                .ok()
                .as_ref()
                != Some(counts)
            {
                mismatched += 1;
            }
        }
        if mismatched > 0 {
            self.problem(
                m,
                format!("{mismatched} posting lists or rollups differ from the log"),
            );
        }
        let mut ids_missing = 0;
        for (i, h) in b.id_hashes.iter().enumerate() {
            if *h != 0 {
                let off = b.first_offset + i as u64;
                if !meta::offsets_for_hash(conn, *h)
                    .map(|v| v.contains(&off))
                    .unwrap_or(false)
                {
                    ids_missing += 1;
                }
            }
        }
        if ids_missing > 0 {
            self.problem(
                m,
                format!("{ids_missing} records are missing from the id index"),
            );
        }
    }
}
