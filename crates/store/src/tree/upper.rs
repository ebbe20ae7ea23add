//! The tree's upper levels in memory: the hashes of complete subtrees of
//! 256 leaves and more, and every hash of the newest 65,536 leaves, so a
//! proof reads the file only around its leaf, and not at all for a recent
//! one.
//!
//! Why: an inclusion proof at 10M leaves needs 24 hashes from levels 0–23.
//! Levels 0–7 lie next to the leaf in the file (a 256-leaf block's stored
//! hashes are 510 consecutive ones, 16 KiB, read in one `pread`); levels 8
//! and up are scattered across the file, one `pread` each, which with the
//! page cache cold cost ~30 µs apiece on this machine's disk. Held in
//! memory they cost `size / 4` bytes (2.5 MB at 10M leaves, one 32-byte hash
//! per 128 leaves). The newest leaves' hashes (4 MiB) serve the tree's
//! right edge: a proof at a size that is not a multiple of 256 also needs
//! the small subtrees at the end of that size, which would otherwise be a
//! second read, at the other end of the file — and checkpoints, hence
//! proofs, are mostly at recent sizes.
//!
//! Why it never needs invalidating: a complete subtree's hash never
//! changes once written for a committed size (`auditlog-merkle`'s
//! stored-hash invariant), and only such hashes get in — from the writer,
//! once its `pwrite` of the commit that completes them succeeded (computed
//! from the very records the log had already synced), and from the file
//! below the size recovery established at open. (The newest hashes are all
//! of that kind too: each stored hash is a complete subtree.) A reader consults it only
//! for stored indexes below its own (committed) size, exactly as it would
//! read the file. A store's cache lives as long as that open store; the
//! next open (and its recovery) starts a new one. `auditlog verify` never
//! uses it: it checks the file itself.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{RwLock, Weak};

use auditlog_merkle::{stored_hash_count, Hash, NodeId, HASH_SIZE};

use super::hash_pos;

/// The lowest level kept: subtrees of 2⁸ = 256 leaves.
pub const UPPER_LEVEL: u32 = 8;

/// An all-zero entry means "not known": a stored hash is never all zeros
/// (SHA-256 output), and a miss only means reading the file.
const UNKNOWN: Hash = [0; HASH_SIZE];

/// Hashes read from the file per `pread` when filling from an existing
/// tree file (4 MiB).
const FILL_CHUNK: u64 = 1 << 17;

/// The newest stored hashes kept (4 MiB: the newest 65,536 leaves).
const RECENT: usize = 1 << 17;

/// Complete subtrees of level [`UPPER_LEVEL`] and up, by level and index,
/// and the newest stored hashes.
#[derive(Debug, Default)]
pub(crate) struct UpperLevels {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    // levels[l - UPPER_LEVEL][j] is the hash of subtree (l, j), or UNKNOWN.
    levels: Vec<Vec<Hash>>,
    // Stored hashes recent_start.. in order, at most RECENT of them.
    recent: VecDeque<Hash>,
    recent_start: u64,
}

impl UpperLevels {
    /// Add hashes of complete subtrees (others are ignored), and the stored
    /// hashes `first..` as the newest ones.
    pub(crate) fn add(&self, nodes: &[(NodeId, Hash)], first: u64, stored: &[Hash]) {
        // A poisoned lock only loses the cache: readers go to the file.
        let Ok(mut inner) = self.inner.write() else {
            return;
        };
        inner.insert(nodes);
        if stored.is_empty() {
            return;
        }
        let next = inner.recent_start + inner.recent.len() as u64;
        if next != first {
            // Not a continuation (the first add): start afresh.
            inner.recent.clear();
            inner.recent_start = first;
        }
        inner.recent.extend(stored.iter().copied());
        let excess = inner.recent.len().saturating_sub(RECENT);
        inner.recent.drain(..excess);
        inner.recent_start += excess as u64;
    }

    /// Add hashes of complete subtrees (others are ignored).
    pub(crate) fn insert(&self, nodes: &[(NodeId, Hash)]) {
        if nodes.is_empty() {
            return;
        }
        if let Ok(mut inner) = self.inner.write() {
            inner.insert(nodes);
        }
    }
}

impl Inner {
    fn insert(&mut self, nodes: &[(NodeId, Hash)]) {
        let levels = &mut self.levels;
        for (node, hash) in nodes {
            let Some(l) = node.level().checked_sub(UPPER_LEVEL) else {
                continue;
            };
            let (Ok(l), Ok(j)) = (usize::try_from(l), usize::try_from(node.index())) else {
                continue;
            };
            if levels.len() <= l {
                levels.resize_with(l + 1, Vec::new);
            }
            if let Some(level) = levels.get_mut(l) {
                if level.len() <= j {
                    level.resize(j + 1, UNKNOWN);
                }
                if let Some(slot) = level.get_mut(j) {
                    *slot = *hash;
                }
            }
        }
    }
}

impl UpperLevels {
    /// Look up stored hashes: `found(k, hash)` for each `indexes[k]` held
    /// here; the rest are left to the caller.
    pub(crate) fn lookup(&self, indexes: &[u64], mut found: impl FnMut(usize, Hash)) {
        let Ok(inner) = self.inner.read() else {
            return;
        };
        let (levels, recent, start) = (&inner.levels, &inner.recent, inner.recent_start);
        for (k, &index) in indexes.iter().enumerate() {
            let newest = index
                .checked_sub(start)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| recent.get(i));
            if let Some(h) = newest {
                found(k, *h);
                continue;
            }
            if levels.is_empty() {
                continue;
            }
            let Some(node) = NodeId::from_stored_index(index) else {
                continue;
            };
            let Some(l) = node.level().checked_sub(UPPER_LEVEL) else {
                continue;
            };
            let hash = usize::try_from(l)
                .ok()
                .and_then(|l| levels.get(l))
                .zip(usize::try_from(node.index()).ok())
                .and_then(|(level, j)| level.get(j));
            if let Some(h) = hash.filter(|h| **h != UNKNOWN) {
                found(k, *h);
            }
        }
    }
}

/// Put the newest stored hashes of a tree of `size` leaves into `upper`
/// (one `pread` of at most 4 MiB). Done before the writer appends, so what
/// it appends continues them.
pub(crate) fn load_recent(file: &File, size: u64, upper: &UpperLevels) -> std::io::Result<()> {
    let end = stored_hash_count(size);
    let start = end.saturating_sub(RECENT as u64);
    let mut buf = vec![0u8; usize::try_from((end - start) * HASH_SIZE as u64).unwrap_or(0)];
    file.read_exact_at(&mut buf, hash_pos(start))?;
    let hashes: Vec<Hash> = buf
        .chunks_exact(HASH_SIZE)
        .map(|c| {
            let mut h = UNKNOWN;
            h.copy_from_slice(c);
            h
        })
        .collect();
    upper.add(&[], start, &hashes);
    Ok(())
}

/// Fill `upper` with every subtree of level [`UPPER_LEVEL`] and up that is
/// complete within the first `size` leaves, read from the tree file in
/// file order (it reads the whole file once: 640 MB at 10M leaves). Stops
/// early, without error, once the store that owns `upper` is gone.
pub(crate) fn fill_from_file(
    file: &File,
    size: u64,
    upper: &Weak<UpperLevels>,
) -> std::io::Result<()> {
    let end = stored_hash_count(size);
    let hash_bytes = HASH_SIZE as u64;
    let mut buf: Vec<u8> = Vec::new();
    // Stored indexes buf holds: buf_start..buf_end.
    let (mut buf_start, mut buf_end) = (0u64, 0u64);
    let mut batch: Vec<(NodeId, Hash)> = Vec::new();
    for block in 0..(size >> UPPER_LEVEL) {
        // The last leaf of a 256-leaf block completes its subtrees of
        // levels 1..=trailing_ones; those of level 8 and up sit at
        // stored_hash_count(last) + 8 onwards.
        let last = ((block + 1) << UPPER_LEVEL) - 1;
        let top = last.trailing_ones();
        let first = stored_hash_count(last) + u64::from(UPPER_LEVEL);
        let after = first + u64::from(top + 1 - UPPER_LEVEL);
        if after > buf_end {
            let Some(upper) = upper.upgrade() else {
                return Ok(());
            };
            upper.insert(&batch);
            drop(upper);
            batch.clear();
            buf_start = first;
            buf_end = end.min(first + FILL_CHUNK).max(after);
            buf.resize(
                usize::try_from((buf_end - buf_start) * hash_bytes).unwrap_or(0),
                0,
            );
            file.read_exact_at(&mut buf, hash_pos(buf_start))?;
        }
        for (i, level) in (UPPER_LEVEL..=top).enumerate() {
            let at = usize::try_from((first - buf_start) * hash_bytes).unwrap_or(usize::MAX)
                + i * HASH_SIZE;
            let node = NodeId::new(level, last >> level);
            let bytes = buf.get(at..at + HASH_SIZE);
            if let (Some(node), Some(bytes)) = (node, bytes) {
                let mut h = UNKNOWN;
                h.copy_from_slice(bytes);
                batch.push((node, h));
            }
        }
    }
    if let Some(upper) = upper.upgrade() {
        upper.insert(&batch);
    }
    Ok(())
}
