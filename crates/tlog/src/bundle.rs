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

use auditlog_merkle::{leaf_hash, node_hash, Hash, VerifyError};
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
    /// A record's proof contradicts a hash that an earlier record's proof,
    /// verified against the same root, established (see [`Verifier`]).
    #[error("line {line} (offset {offset}): the record is not in the log as checkpointed: {why}")]
    Contradicts {
        /// 1-based line number.
        line: usize,
        /// The record's offset.
        offset: u64,
        /// What disagrees, and with which record's proof.
        why: String,
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

/// Length of a SHA-256 hash in padded base64.
const B64_HASH: usize = 44;

/// A record line taken apart without a JSON parser: it must be exactly what
/// [`entry_line`] writes (so canonical by construction), and the record's
/// bytes need no parsing — its leaf hash either matches the log or not.
/// The proof's hashes are left as base64 text (`items`, 44 bytes each):
/// most are only compared with text already verified, never decoded.
fn parse_entry<'a>(line: &'a [u8], items: &mut Vec<&'a [u8]>) -> Result<(u64, &'a [u8]), String> {
    let rest = line
        .strip_prefix(b"{\"offset\":")
        .ok_or("not a bundle record line (it must start with {\"offset\":)")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (num, rest) = rest.split_at(digits);
    if num.is_empty() || (num.len() > 1 && num.first() == Some(&b'0')) {
        return Err("the offset is not a decimal number without leading zeros".into());
    }
    let offset: u64 = std::str::from_utf8(num)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("the offset does not fit 64 bits")?;
    let mut rest = rest
        .strip_prefix(b",\"proof\":[")
        .ok_or("not in canonical form (expected ,\"proof\":[ after the offset)")?;
    items.clear();
    if let Some(r) = rest.strip_prefix(b"]") {
        rest = r;
    } else {
        loop {
            // `"` + 44 base64 characters + `"`, then `,` or `]`.
            let (item, after) = rest
                .strip_prefix(b"\"")
                .and_then(|r| r.split_at_checked(B64_HASH))
                .and_then(|(item, r)| Some((item, r.strip_prefix(b"\"")?)))
                .ok_or_else(|| {
                    format!("proof[{}] is not a quoted base64 SHA-256 hash", items.len())
                })?;
            items.push(item);
            rest = after;
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

/// Verify a whole bundle held in memory against the log's public key, on
/// `threads` threads. The same as [`Verifier`] fed the whole bundle at once.
pub fn verify(
    bundle: &[u8],
    verifier: &NoteVerifier,
    threads: usize,
) -> Result<Verified, BundleError> {
    let header_end = memchr::memchr(b'\n', bundle).map_or(bundle.len(), |i| i + 1);
    let (header, records) = bundle.split_at(header_end);
    let mut v = Verifier::new(header, verifier, threads)?;
    // Count first: a bundle with lines missing or extra says so, rather
    // than whatever the first odd line looks like.
    let found = Lines(records).count() as u64;
    if found != v.promised {
        return Err(BundleError::Count {
            promised: v.promised,
            found,
        });
    }
    v.feed(records)?;
    v.finish()
}

/// Verifies a bundle that arrives in pieces — the header line, then record
/// lines in any number of [`Verifier::feed`] calls — so a caller can stream
/// a file of any size through a few buffers. Each call checks its lines on
/// up to `threads` threads.
///
/// Each thread keeps what earlier records' proofs established ([`Known`]):
/// consecutive records share most of their paths, so a record usually
/// costs its leaf hash, one or two node hashes and byte comparisons of the
/// rest of its proof, instead of ~20 node hashes and base64 decodings.
pub struct Verifier {
    checkpoint: Checkpoint,
    promised: u64,
    lines: u64,
    last_offset: Option<u64>,
    known: Vec<Box<Known>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("checkpoint", &self.checkpoint)
            .field("promised", &self.promised)
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Check the header line (with or without its newline) and the
    /// checkpoint's signature.
    pub fn new(
        header: &[u8],
        verifier: &NoteVerifier,
        threads: usize,
    ) -> Result<Verifier, BundleError> {
        let first = header;
        if first.is_empty() {
            return Err(BundleError::Header("the bundle is empty".into()));
        }
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
        Ok(Verifier {
            checkpoint,
            promised: header.count,
            lines: 0,
            last_offset: None,
            known: (0..threads.clamp(1, 64)).map(|_| Box::default()).collect(),
        })
    }

    /// The verified checkpoint every record is checked against.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Check the next record lines: whole lines, each ending with a
    /// newline (a last line without one is refused as not canonical).
    pub fn feed(&mut self, lines: &[u8]) -> Result<(), BundleError> {
        if lines.is_empty() {
            return Ok(());
        }
        let parts = split_lines(lines, self.known.len());
        let cp = &self.checkpoint;
        let results: Vec<PartResult> = if parts.len() == 1 {
            let known = self.known.iter_mut().next();
            match (parts.first(), known) {
                (Some(part), Some(k)) => vec![check_part(part, k, cp)],
                _ => Vec::new(),
            }
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .iter()
                    .zip(self.known.iter_mut())
                    .map(|(part, known)| s.spawn(move || check_part(part, known, cp)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err((0, BundleError::Header("a verifier thread panicked".into())))
                        })
                    })
                    .collect()
            })
        };
        for r in results {
            // Line numbers count from 1, the header being line 1.
            let base = usize::try_from(self.lines).unwrap_or(usize::MAX) + 2;
            let part = r.map_err(|(_, e)| e.at_line(base))?;
            if let Some((lo, hi)) = part.offsets {
                if let Some(prev) = self.last_offset.filter(|l| lo <= *l) {
                    return Err(BundleError::Line {
                        line: base,
                        why: format!("offset {lo} does not follow the previous record's ({prev})"),
                    });
                }
                self.last_offset = Some(hi);
            }
            self.lines += part.lines as u64;
        }
        Ok(())
    }

    /// After the last line: the count must be the header's.
    pub fn finish(self) -> Result<Verified, BundleError> {
        if self.lines != self.promised {
            return Err(BundleError::Count {
                promised: self.promised,
                found: self.lines,
            });
        }
        Ok(Verified {
            checkpoint: self.checkpoint,
            records: self.lines,
        })
    }
}

impl BundleError {
    /// A line number counted within a part, made absolute.
    fn at_line(mut self, base: usize) -> Self {
        match &mut self {
            BundleError::Line { line, .. }
            | BundleError::Proof { line, .. }
            | BundleError::Contradicts { line, .. } => *line = line.saturating_add(base),
            _ => {}
        }
        self
    }
}

/// `lines` cut into at most `n` runs of whole lines of about equal size.
fn split_lines(lines: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::with_capacity(n);
    let mut rest = lines;
    for k in (1..=n).rev() {
        if rest.is_empty() {
            break;
        }
        let want = rest.len() / k;
        let cut = if k == 1 {
            rest.len()
        } else {
            rest.get(want.saturating_sub(1)..)
                .and_then(|r| memchr::memchr(b'\n', r))
                .map_or(rest.len(), |i| want.saturating_sub(1) + i + 1)
        };
        let (part, tail) = rest.split_at(cut.min(rest.len()));
        parts.push(part);
        rest = tail;
    }
    parts
}

/// One part's lines and first and last offset, or the first problem with
/// its 0-based line number within the part (also in the error's `line`).
struct PartOk {
    lines: usize,
    offsets: Option<(u64, u64)>,
}
type PartResult = Result<PartOk, (usize, BundleError)>;

/// Check consecutive record lines.
fn check_part(part: &[u8], known: &mut Known, cp: &Checkpoint) -> PartResult {
    let mut offsets: Option<(u64, u64)> = None;
    let mut items: Vec<&[u8]> = Vec::with_capacity(64);
    let mut lines = 0;
    for (line, raw) in Lines(part).enumerate() {
        lines = line + 1;
        let bad = |why: String| (line, BundleError::Line { line, why });
        let (offset, record) = parse_entry(raw, &mut items).map_err(bad)?;
        if let Some((_, prev)) = offsets {
            if offset <= prev {
                return Err(bad(format!(
                    "offset {offset} does not follow the previous record's ({prev})"
                )));
            }
        }
        known
            .check(offset, record, &items, cp.size, &cp.root)
            .map_err(|f| {
                let e = match f {
                    Failure::Verify(why) => BundleError::Proof { line, offset, why },
                    Failure::Item(why) => BundleError::Line { line, why },
                    Failure::Contradicts(why) => BundleError::Contradicts { line, offset, why },
                };
                (line, e)
            })?;
        offsets = Some((offsets.map_or(offset, |r| r.0), offset));
    }
    Ok(PartOk { lines, offsets })
}

/// Why a record failed, before the line number is attached.
enum Failure {
    Verify(VerifyError),
    Item(String),
    Contradicts(String),
}

/// More levels than any tree of up to 2⁶⁴ leaves has.
const LEVELS: usize = 65;

/// A node of the tree of the checkpoint's size: `(level, index)` covers the
/// leaves `index·2^level .. min((index+1)·2^level, size)`. Its *genuine*
/// hash is the RFC 6962 `MTH` of those leaves in the checkpointed log.
#[derive(Clone, Copy)]
struct NodeFact {
    index: u64,
    hash: Hash,
    /// The offset of the record whose proof established it (for messages).
    by: u64,
}

/// A proof element as it appears in the bundle (base64 text) and decoded.
#[derive(Clone, Copy)]
struct SiblingFact {
    index: u64,
    text: [u8; B64_HASH],
    hash: Hash,
    by: u64,
}

/// What one verifying thread knows: genuine hashes of nodes (by level, the
/// ones on the paths it verified last) and of proof elements (siblings,
/// with their exact base64 text).
///
/// Why it is sound — why a record accepted with its help is exactly one
/// the plain RFC 9162 verifier ([`auditlog_merkle::verify_inclusion`])
/// accepts, under the same assumption that verifier makes (SHA-256 is
/// collision-resistant):
///
/// 1. Only genuine hashes get in. A record's walk is committed only after
///    the walk ended at the checkpoint's root. In a chain of
///    `SHA-256(0x01 ‖ l ‖ r)` ending at the genuine root, every
///    intermediate value and every proof element is the genuine hash of
///    its node, or the chain contains a collision. Which node a value
///    belongs to is fixed by `(offset, size)` alone — RFC 9162's `fn`/`sn`
///    walk, with the right edge's climbs — so `(level, index)` names it
///    unambiguously, and all records of a bundle share one tree (one
///    checkpoint, one size). A fact, once true, stays true.
/// 2. A walk reaching a known node must reproduce its genuine hash: a
///    record (or proof element below that node) that differs from the
///    genuine one would need a collision to hash to it. The record is then
///    proven at its offset exactly as if the walk had gone on to the root.
/// 3. Every proof element is either hashed (below the first known node, or
///    wherever its sibling is not known) or compared byte for byte with the
///    base64 text of the genuine hash of that same node. A 32-byte hash has
///    exactly one padded base64 encoding that the strict decoder accepts,
///    so a differing text is a different (or invalid) value: since a valid
///    proof consists of exactly the genuine hashes, it cannot verify, and
///    is refused at once, naming the element and the record whose proof
///    established the genuine one.
/// 4. A hash is skipped only when both inputs are genuine (the running
///    value is a known node or computed from genuine inputs, and the
///    element's text is known) and the parent's genuine hash is known: the
///    result is that hash by definition. And the walk still ends by
///    comparing with the checkpoint's root.
///
/// So altering any byte of a record or of any proof element still fails,
/// with a message saying where; offsets and line structure are checked as
/// before; the cache only ever saves work.
struct Known {
    nodes: [Option<NodeFact>; LEVELS],
    siblings: [Option<SiblingFact>; LEVELS],
    // The record being checked: facts to commit once its walk verifies.
    new_nodes: Vec<(usize, NodeFact)>,
    new_siblings: Vec<(usize, SiblingFact)>,
}

impl Default for Known {
    fn default() -> Self {
        Known {
            nodes: [None; LEVELS],
            siblings: [None; LEVELS],
            new_nodes: Vec::with_capacity(LEVELS),
            new_siblings: Vec::with_capacity(LEVELS),
        }
    }
}

/// "the subtree over offsets a..b", for messages.
fn subtree(level: usize, index: u64, size: u64) -> String {
    let lo = u32::try_from(level)
        .ok()
        .and_then(|l| index.checked_shl(l))
        .unwrap_or(u64::MAX);
    let hi = u32::try_from(level)
        .ok()
        .and_then(|l| index.checked_add(1)?.checked_shl(l))
        .unwrap_or(u64::MAX)
        .min(size);
    if hi.saturating_sub(lo) == 1 {
        format!("the record at offset {lo}")
    } else {
        format!("the subtree over offsets {lo}..{hi}")
    }
}

/// The number of proof hashes for leaf `index` of a tree of `size` leaves
/// (the dry run of the walk in [`Known::check`]).
fn path_len(index: u64, size: u64) -> usize {
    let (mut fn_, mut sn, mut n) = (index, size.saturating_sub(1), 0);
    while sn != 0 {
        if fn_ & 1 == 1 || fn_ == sn {
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        }
        fn_ >>= 1;
        sn >>= 1;
        n += 1;
    }
    n
}

impl Known {
    fn node(&self, level: usize, index: u64) -> Option<&NodeFact> {
        self.nodes
            .get(level)
            .and_then(Option::as_ref)
            .filter(|f| f.index == index)
    }

    fn sibling(&self, level: usize, index: u64) -> Option<&SiblingFact> {
        self.siblings
            .get(level)
            .and_then(Option::as_ref)
            .filter(|f| f.index == index)
    }

    /// RFC 9162 §2.1.3.2, the same walk as `verify_inclusion`, using and
    /// extending what is known (the soundness argument is on [`Known`]).
    fn check(
        &mut self,
        offset: u64,
        record: &[u8],
        items: &[&[u8]],
        size: u64,
        root: &Hash,
    ) -> Result<(), Failure> {
        if offset >= size {
            return Err(Failure::Verify(VerifyError::IndexOutOfRange {
                index: offset,
                size,
            }));
        }
        let want = path_len(offset, size);
        if items.len() != want {
            return Err(Failure::Verify(VerifyError::WrongProofLength {
                got: items.len(),
                want,
            }));
        }
        self.new_nodes.clear();
        self.new_siblings.clear();
        let mut r = leaf_hash(record);
        // Whether `r` is known to be the genuine hash of the current node.
        let mut genuine = false;
        let (mut fn_, mut sn, mut level) = (offset, size - 1, 0usize);
        for (s, item) in items.iter().enumerate() {
            // The fn/sn walk: which side the element joins on, climbing
            // the right edge where a node has no sibling.
            let left = if fn_ & 1 == 1 || fn_ == sn {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                    level += 1;
                }
                true
            } else {
                false
            };
            // A right child's sibling is fn − 1, a left child's fn + 1.
            let sib = fn_ ^ 1;
            let (parent_level, parent) = (level + 1, fn_ >> 1);
            let known_sib = self.sibling(level, sib).copied();
            let p = match &known_sib {
                Some(k) => {
                    if k.text.as_slice() != *item {
                        return Err(Failure::Contradicts(format!(
                            "proof[{s}] is not the hash of {}, which the proof of offset {} (verified against the checkpoint's root) gave",
                            subtree(level, sib, size),
                            k.by
                        )));
                    }
                    k.hash
                }
                None => {
                    let mut h = [0u8; 32];
                    match B64.decode_slice(item, &mut h) {
                        Ok(32) => h,
                        _ => {
                            return Err(Failure::Item(format!(
                                "proof[{s}] is not a base64 SHA-256 hash"
                            )))
                        }
                    }
                }
            };
            let shortcut = if genuine && known_sib.is_some() {
                self.node(parent_level, parent).map(|n| n.hash)
            } else {
                None
            };
            if let Some(h) = shortcut {
                r = h;
            } else {
                r = if left {
                    node_hash(&p, &r)
                } else {
                    node_hash(&r, &p)
                };
                let last = s + 1 == items.len();
                match self.node(parent_level, parent) {
                    // At the top the root comparison below says it.
                    Some(n) if n.hash != r && !last => {
                        return Err(Failure::Contradicts(format!(
                            "the record and proof[0..={s}] give {} another hash than the proof of offset {} (verified against the checkpoint's root) gave: the record or one of those proof hashes was altered",
                            subtree(parent_level, parent, size),
                            n.by
                        )));
                    }
                    Some(n) => genuine = n.hash == r,
                    None => genuine = genuine && known_sib.is_some(),
                }
                self.new_nodes.push((
                    parent_level,
                    NodeFact {
                        index: parent,
                        hash: r,
                        by: offset,
                    },
                ));
            }
            if known_sib.is_none() {
                let mut text = [0u8; B64_HASH];
                if item.len() == B64_HASH {
                    text.copy_from_slice(item);
                }
                self.new_siblings.push((
                    level,
                    SiblingFact {
                        index: sib,
                        text,
                        hash: p,
                        by: offset,
                    },
                ));
            }
            fn_ >>= 1;
            sn >>= 1;
            level += 1;
        }
        if r != *root {
            return Err(Failure::Verify(VerifyError::RootMismatch {
                computed: r,
                expected: *root,
            }));
        }
        // The walk ended at the root: everything it computed is genuine.
        for (l, f) in self.new_nodes.drain(..) {
            if let Some(slot) = self.nodes.get_mut(l) {
                *slot = Some(f);
            }
        }
        for (l, f) in self.new_siblings.drain(..) {
            if let Some(slot) = self.siblings.get_mut(l) {
                *slot = Some(f);
            }
        }
        Ok(())
    }
}
