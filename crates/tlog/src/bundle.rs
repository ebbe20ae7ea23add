//! Verifiable export bundles (`auditlog-bundle/1`): records with their log
//! offsets, an inclusion proof for each against one signed checkpoint, and
//! that checkpoint — checkable offline with only the log's public key.
//!
//! The bundle is NDJSON, every line in canonical form (keys sorted, no
//! spaces), so that changing any byte either changes what is proven (and a
//! proof fails) or breaks the canonical form (and the line is refused):
//!
//! ```text
//! {"checkpoint":"<signed note>","count":N,"format":"auditlog-bundle/1"}
//! {"offset":O,"proof":["<base64 hash>",…],"record":<the record's stored canonical bytes>}
//! …  (N lines, offsets strictly increasing)
//! ```
//!
//! A bundle proves each record it holds is in the log, unaltered, at that
//! offset. It does not prove that a filter matched nothing else.

use auditlog_merkle::{leaf_hash, verify_inclusion, Hash, VerifyError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::NoteVerifier;

/// The format name in the header line.
pub const FORMAT: &str = "auditlog-bundle/1";

/// Why a bundle did not verify. Line numbers count from 1 (the header).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The header line is wrong.
    #[error("line 1 (the header): {0}")]
    Header(String),
    /// The checkpoint does not verify.
    #[error("line 1: the checkpoint does not verify: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A record line is malformed or not canonical.
    #[error("line {line}: {why}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A record's proof does not lead to the checkpoint's root.
    #[error("line {line} (offset {offset}): the record is not in the log as checkpointed: {why}")]
    Proof {
        /// 1-based line number.
        line: usize,
        /// The record's offset.
        offset: u64,
        /// The verifier's reason.
        why: VerifyError,
    },
    /// Lines are missing or extra.
    #[error("the header promises {promised} records but the bundle holds {found}")]
    Count {
        /// From the header.
        promised: u64,
        /// Lines present.
        found: u64,
    },
}

/// What a verified bundle proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The checkpoint every record was proven against.
    pub checkpoint: Checkpoint,
    /// Records proven.
    pub records: u64,
}

/// The header line (with its newline).
pub fn header_line(signed_checkpoint: &str, count: u64) -> String {
    let note = serde_json::Value::from(signed_checkpoint).to_string();
    format!("{{\"checkpoint\":{note},\"count\":{count},\"format\":\"{FORMAT}\"}}\n")
}

/// One record's line (with its newline). `record` must be the record's
/// stored canonical bytes, which are canonical JSON.
pub fn entry_line(offset: u64, proof: &[Hash], record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 48 * proof.len() + 32);
    out.extend_from_slice(b"{\"offset\":");
    out.extend_from_slice(offset.to_string().as_bytes());
    out.extend_from_slice(b",\"proof\":[");
    for (i, h) in proof.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(B64.encode(h).as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"record\":");
    out.extend_from_slice(record);
    out.extend_from_slice(b"}\n");
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    checkpoint: String,
    count: u64,
    format: String,
}

/// A record line taken apart without a JSON parser: it must be exactly what
/// [`entry_line`] writes (so canonical by construction), and the record's
/// bytes need no parsing — its leaf hash either matches the log or not.
/// About three times faster than parsing the line as JSON.
fn parse_entry<'a>(line: &'a [u8], proof: &mut Vec<Hash>) -> Result<(u64, &'a [u8]), String> {
    let rest = line
        .strip_prefix(b"{\"offset\":")
        .ok_or("not a bundle record line (it must start with {\"offset\":)")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (num, rest) = rest.split_at(digits);
    if num.is_empty() || (num.len() > 1 && num[0] == b'0') {
        return Err("the offset is not a decimal number without leading zeros".into());
    }
    let offset: u64 = std::str::from_utf8(num)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("the offset does not fit 64 bits")?;
    let mut rest = rest
        .strip_prefix(b",\"proof\":[")
        .ok_or("not in canonical form (expected ,\"proof\":[ after the offset)")?;
    proof.clear();
    if let Some(r) = rest.strip_prefix(b"]") {
        rest = r;
    } else {
        loop {
            // A SHA-256 hash in padded base64 is 44 characters.
            let item = rest
                .strip_prefix(b"\"")
                .and_then(|r| r.get(..45))
                .filter(|r| r[44] == b'"')
                .ok_or_else(|| {
                    format!("proof[{}] is not a quoted base64 SHA-256 hash", proof.len())
                })?;
            let mut h = [0u8; 32];
            match B64.decode_slice(&item[..44], &mut h) {
                Ok(32) => proof.push(h),
                _ => {
                    return Err(format!(
                        "proof[{}] is not a base64 SHA-256 hash",
                        proof.len()
                    ))
                }
            }
            rest = &rest[46..];
            match rest.split_first() {
                Some((b',', r)) => rest = r,
                Some((b']', r)) => {
                    rest = r;
                    break;
                }
                _ => return Err("not in canonical form (the proof list is malformed)".into()),
            }
        }
    }
    let record = rest
        .strip_prefix(b",\"record\":")
        .and_then(|r| r.strip_suffix(b"}\n"))
        .ok_or("not in canonical form (expected ,\"record\":…} and a newline)")?;
    Ok((offset, record))
}

/// Lines with their newlines (the last may lack one), split with memchr.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', self.0).map_or(self.0.len(), |i| i + 1);
        let (line, rest) = self.0.split_at(end);
        self.0 = rest;
        Some(line)
    }
}

/// Verify a whole bundle against the log's public key, on `threads`
/// threads (records are independent once the checkpoint is known).
pub fn verify(
    bundle: &[u8],
    verifier: &NoteVerifier,
    threads: usize,
) -> Result<Verified, BundleError> {
    let mut lines = Lines(bundle);
    let first = lines
        .next()
        .ok_or_else(|| BundleError::Header("the bundle is empty".into()))?;
    let header: Header = serde_json::from_slice(first)
        .map_err(|e| BundleError::Header(format!("not a bundle header: {e}")))?;
    if header.format != FORMAT {
        return Err(BundleError::Header(format!(
            "format {:?} is not {FORMAT:?}",
            header.format
        )));
    }
    if header_line(&header.checkpoint, header.count).as_bytes() != first {
        return Err(BundleError::Header(
            "not in canonical form (was it edited?)".into(),
        ));
    }
    let checkpoint = Checkpoint::open(&header.checkpoint, verifier)?;
    let entries: Vec<&[u8]> = lines.collect();
    if entries.len() as u64 != header.count {
        return Err(BundleError::Count {
            promised: header.count,
            found: entries.len() as u64,
        });
    }
    let threads = threads.clamp(1, 64);
    let chunk = entries.len().div_ceil(threads).max(1);
    let results: Vec<Result<Option<(u64, u64)>, BundleError>> = std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(chunk)
            .enumerate()
            .map(|(i, part)| {
                let cp = &checkpoint;
                s.spawn(move || check_entries(part, 2 + i * chunk, cp))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BundleError::Header("a verifier thread panicked".into()))
                })
            })
            .collect()
    });
    // Offsets increase within each part; check across parts too.
    let mut last: Option<u64> = None;
    for (i, r) in results.into_iter().enumerate() {
        if let Some((lo, hi)) = r? {
            if last.is_some_and(|l| lo <= l) {
                return Err(BundleError::Line {
                    line: 2 + i * chunk,
                    why: format!("offset {lo} does not follow the previous record's"),
                });
            }
            last = Some(hi);
        }
    }
    Ok(Verified {
        checkpoint,
        records: entries.len() as u64,
    })
}

/// Check consecutive record lines; the first and last offset.
fn check_entries(
    lines: &[&[u8]],
    first_line: usize,
    cp: &Checkpoint,
) -> Result<Option<(u64, u64)>, BundleError> {
    let mut range: Option<(u64, u64)> = None;
    let mut proof = Vec::with_capacity(64);
    for (i, raw) in lines.iter().enumerate() {
        let line = first_line + i;
        let bad = |why: String| BundleError::Line { line, why };
        let (offset, record) = parse_entry(raw, &mut proof).map_err(bad)?;
        if let Some((_, prev)) = range {
            if offset <= prev {
                return Err(bad(format!(
                    "offset {offset} does not follow the previous record's ({prev})"
                )));
            }
        }
        verify_inclusion(&leaf_hash(record), offset, cp.size, &proof, &cp.root)
            .map_err(|why| BundleError::Proof { line, offset, why })?;
        range = Some((range.map_or(offset, |r| r.0), offset));
    }
    Ok(range)
}
