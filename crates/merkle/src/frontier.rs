//! [`Frontier`]: the right edge of the tree, enough to append leaves and
//! know the current root without reading anything.

use crate::error::TreeError;
use crate::hash::{empty_root, node_hash, Hash};
use crate::node::{subtrees, NodeId, MAX_TREE_SIZE};
use crate::reader::{read_nodes, HashReader};

/// The hashes of the complete subtrees that tile a tree's leaves
/// `0..size`, largest (leftmost) first: one per set bit of `size`, so at
/// most 62. Also called a compact range (transparency-dev) or a Merkle
/// mountain range's peaks.
///
/// This is what an ingest path keeps in memory. Each [`Frontier::append`]
/// yields the hashes to store for the new leaf — in stored-index order, at
/// indexes starting from `stored_hash_count(size)` — and [`Frontier::root`]
/// gives the root at the new size; neither reads the store. After a
/// restart, [`Frontier::from_reader`] rebuilds it with one read.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    // Invariant: hashes.len() == size.count_ones(), and hashes[i] is the
    // hash of the i-th subtree of `subtrees(0, size)`.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of the tree of `size` leaves, read from stored hashes.
    pub fn from_reader<R: HashReader + ?Sized>(
        size: u64,
        reader: &R,
    ) -> Result<Self, TreeError<R::Error>> {
        if size > MAX_TREE_SIZE {
            return Err(TreeError::SizeTooLarge { size });
        }
        let nodes: Vec<NodeId> = subtrees(0, size).collect();
        let hashes = read_nodes(reader, &nodes)?;
        Ok(Self { size, hashes })
    }

    /// A frontier from hashes kept elsewhere (for example persisted beside
    /// the tree size), or `None` if there are not exactly `popcount(size)`
    /// of them or `size` exceeds [`MAX_TREE_SIZE`].
    pub fn from_hashes(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        let ok = size <= MAX_TREE_SIZE && hashes.len() == size.count_ones() as usize;
        ok.then_some(Self { size, hashes })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree hashes, largest (leftmost) first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The subtrees whose hashes [`Frontier::hashes`] holds, in the same
    /// order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> {
        subtrees(0, self.size)
    }

    /// The root of the tree: the subtree hashes folded from the right
    /// (RFC 6962 MTH), or [`empty_root`] for no leaves.
    pub fn root(&self) -> Hash {
        fold_right(self.hashes.iter().copied()).unwrap_or_else(empty_root)
    }

    /// Appends a leaf by its hash ([`crate::leaf_hash`] of its bytes) and
    /// pushes onto `new_hashes` the hashes the store must keep for it: the
    /// leaf hash, then the hash of each subtree it completes, lowest first —
    /// `1 + trailing_ones(old size)` hashes, which go at stored indexes
    /// `stored_hash_count(old size)..stored_hash_count(old size + 1)`.
    ///
    /// Appending a batch with one `new_hashes` buffer therefore gives one
    /// contiguous run of stored hashes, starting at
    /// `stored_hash_count(size before the batch)`.
    pub fn append(&mut self, leaf_hash: Hash, new_hashes: &mut Vec<Hash>) {
        let mut hash = leaf_hash;
        new_hashes.push(hash);
        // Each trailing one bit of the old size is a subtree of the same
        // width as the one being carried: merge them, like binary addition.
        let mut carries = self.size.trailing_ones();
        while carries > 0 {
            let Some(left) = self.hashes.pop() else {
                // Unreachable while the invariant holds; stop merging rather
                // than panic.
                break;
            };
            hash = node_hash(&left, &hash);
            new_hashes.push(hash);
            carries -= 1;
        }
        self.hashes.push(hash);
        self.size += 1;
    }
}

/// `MTH` of a run of complete subtrees that tile an aligned range, given
/// their hashes left to right: `h0 · (h1 · (h2 · …))`. `None` if empty.
pub(crate) fn fold_right(hashes: impl DoubleEndedIterator<Item = Hash>) -> Option<Hash> {
    hashes.rev().reduce(|right, left| node_hash(&left, &right))
}
