//! [`stored_hashes_for_append`]: the hashes one append adds, computed from
//! the store instead of from a [`crate::Frontier`].

use crate::error::TreeError;
use crate::hash::{node_hash, Hash};
use crate::node::{NodeId, MAX_TREE_SIZE};
use crate::reader::{read_nodes, HashReader};

/// The hashes to store when leaf number `size` (0-based; the tree grows
/// from `size` to `size + 1` leaves) with hash `leaf_hash` is appended: the
/// leaf hash, then each subtree it completes, lowest first. They go at
/// stored indexes `stored_hash_count(size)..stored_hash_count(size + 1)`.
///
/// Reads the `trailing_ones(size)` left siblings it merges with. For many
/// appends in a row prefer [`crate::Frontier::append`], which reads nothing and
/// does not need the previous appends to be visible to `reader` yet.
pub fn stored_hashes_for_append<R: HashReader + ?Sized>(
    size: u64,
    leaf_hash: Hash,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if size >= MAX_TREE_SIZE {
        return Err(TreeError::SizeTooLarge { size: size + 1 });
    }
    // The left sibling at level l of the path up from leaf `size` is the
    // subtree just before it, (l, (size >> l) - 1); it exists, complete,
    // exactly while bit l of `size` is one.
    let siblings: Vec<NodeId> = (0..size.trailing_ones())
        .map(|level| NodeId::new_in_range(level, (size >> level) - 1))
        .collect();
    let mut hash = leaf_hash;
    let mut out = Vec::with_capacity(siblings.len() + 1);
    out.push(hash);
    for left in read_nodes(reader, &siblings)? {
        hash = node_hash(&left, &hash);
        out.push(hash);
    }
    Ok(out)
}
