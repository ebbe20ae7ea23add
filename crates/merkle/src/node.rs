//! Coordinates of complete subtrees ([`NodeId`]) and the stored-hash index:
//! the dense order in which an append-only store keeps their hashes.
//!
//! The order is the one of Go's `golang.org/x/mod/sumdb/tlog`
//! (`StoredHashIndex`, after Crosby and Wallach §3.3): leaf `j`'s hash, then
//! the hash of every subtree that leaf `j` completes, lowest level first; then
//! leaf `j + 1`. A tree of `n` leaves therefore owns exactly the indexes
//! `0..stored_hash_count(n)`, and an append only ever adds indexes at the end,
//! so a store can be a flat file of 32-byte records or an integer-keyed table.

use std::ops::Range;

/// The largest tree size this crate handles: 2⁶² leaves.
///
/// Chosen so that every stored index and leaf boundary fits a `u64` with room
/// to spare; a log appending a billion leaves a second reaches it after 146
/// years. Proof and root functions refuse larger sizes with an error.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// A complete subtree: the `2^level` leaves
/// `index * 2^level .. (index + 1) * 2^level`. Level 0 is a single leaf.
///
/// Its hash is the same in every tree that contains all its leaves, which is
/// why it can be computed once, on the append that completes it, and stored.
///
/// Invariant: its last leaf is below [`MAX_TREE_SIZE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    level: u32,
    index: u64,
}

impl NodeId {
    /// The subtree at `level` and horizontal `index`, or `None` if it
    /// reaches past [`MAX_TREE_SIZE`] leaves.
    pub fn new(level: u32, index: u64) -> Option<Self> {
        let width = 1u64.checked_shl(level)?;
        let end = index.checked_add(1)?.checked_mul(width)?;
        (end <= MAX_TREE_SIZE).then_some(Self { level, index })
    }

    /// Leaf `index` (level 0), or `None` at or past [`MAX_TREE_SIZE`].
    pub fn leaf(index: u64) -> Option<Self> {
        Self::new(0, index)
    }

    // Callers guarantee the invariant (they derive nodes from a size already
    // checked against MAX_TREE_SIZE).
    pub(crate) const fn new_in_range(level: u32, index: u64) -> Self {
        Self { level, index }
    }

    /// Height above the leaves: 0 for a leaf.
    pub const fn level(self) -> u32 {
        self.level
    }

    /// Position among the subtrees of the same level, from 0 at the left.
    pub const fn index(self) -> u64 {
        self.index
    }

    /// The leaves it covers.
    pub const fn leaves(self) -> Range<u64> {
        (self.index << self.level)..((self.index + 1) << self.level)
    }

    /// Where its hash sits in the stored-hash order (module docs): right
    /// after its last leaf's hash and the `level - 1` hashes completed before
    /// it by that same leaf.
    pub fn stored_index(self) -> u64 {
        let last_leaf = ((self.index + 1) << self.level) - 1;
        stored_hash_count(last_leaf) + u64::from(self.level)
    }

    /// The node whose hash sits at `stored_index`, or `None` if that index
    /// belongs to a tree larger than [`MAX_TREE_SIZE`].
    pub fn from_stored_index(stored_index: u64) -> Option<Self> {
        if stored_index >= stored_hash_count(MAX_TREE_SIZE) {
            return None;
        }
        // Find the leaf j whose append wrote this index:
        // stored_hash_count(j) <= stored_index < stored_hash_count(j + 1).
        // Since 2j - 64 <= stored_hash_count(j) <= 2j, j starts at
        // stored_index / 2 and is at most 32 steps further on.
        let mut leaf = stored_index / 2;
        while stored_hash_count(leaf + 1) <= stored_index {
            leaf += 1;
        }
        let level = u32::try_from(stored_index - stored_hash_count(leaf)).ok()?;
        // Leaf j completes subtrees (l, j >> l) for each trailing one bit of j.
        Some(Self::new_in_range(level, leaf >> level))
    }
}

/// How many hashes a tree of `size` leaves stores: `2·size − popcount(size)`
/// (every leaf, plus one interior node per merge). The hashes appended for
/// leaf `size` therefore start at stored index `stored_hash_count(size)`.
///
/// Meaningful for `size <= MAX_TREE_SIZE`; above it the result saturates and
/// means nothing.
pub const fn stored_hash_count(size: u64) -> u64 {
    size.saturating_mul(2) - size.count_ones() as u64
}

/// The complete subtrees that tile the leaves `lo..hi`, left to right, each
/// as large as alignment allows.
///
/// When `lo` is a multiple of a power of two at least `hi - lo` (true of every
/// range the RFC 6962 recursion visits, and of `0..size`), these are the
/// subtrees whose hashes, folded from the right with [`crate::node_hash`],
/// give `MTH(D[lo:hi])`.
pub(crate) fn subtrees(lo: u64, hi: u64) -> Subtrees {
    Subtrees { lo, hi }
}

/// Iterator returned by [`subtrees`].
#[derive(Debug)]
pub(crate) struct Subtrees {
    lo: u64,
    hi: u64,
}

impl Iterator for Subtrees {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.lo >= self.hi {
            return None;
        }
        // The largest power of two that fits the remaining width and that
        // `lo` is a multiple of.
        let fits = 63 - (self.hi - self.lo).leading_zeros();
        let level = fits.min(self.lo.trailing_zeros());
        let node = NodeId::new_in_range(level, self.lo >> level);
        self.lo += 1 << level;
        Some(node)
    }
}
