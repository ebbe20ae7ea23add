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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry<'a> {
    offset: u64,
    #[serde(borrow)]
    proof: Vec<&'a str>,
    #[serde(borrow)]
    record: &'a serde_json::value::RawValue,
}

/// Verify a whole bundle against the log's public key, on `threads`
/// threads (records are independent once the checkpoint is known).
pub fn verify(
    bundle: &[u8],
    verifier: &NoteVerifier,
    threads: usize,
) -> Result<Verified, BundleError> {
    let mut lines = bundle.split_inclusive(|b| *b == b'\n');
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
        let e: Entry<'_> = serde_json::from_slice(raw)
            .map_err(|e| bad(format!("not a bundle record line: {e}")))?;
        proof.clear();
        for (j, p) in e.proof.iter().enumerate() {
            let h: Hash = B64
                .decode(p)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| bad(format!("proof[{j}] is not a base64 SHA-256 hash")))?;
            proof.push(h);
        }
        let record = e.record.get().as_bytes();
        if entry_line(e.offset, &proof, record) != *raw {
            return Err(bad("not in canonical form (was it edited?)".into()));
        }
        if let Some((_, prev)) = range {
            if e.offset <= prev {
                return Err(bad(format!(
                    "offset {} does not follow the previous record's ({prev})",
                    e.offset
                )));
            }
        }
        verify_inclusion(&leaf_hash(record), e.offset, cp.size, &proof, &cp.root).map_err(
            |why| BundleError::Proof {
                line,
                offset: e.offset,
                why,
            },
        )?;
        range = Some((range.map_or(e.offset, |r| r.0), e.offset));
    }
    Ok(range)
}
