//! Roots and proofs at any size from stored hashes: [`tree_hash`],
//! [`inclusion_proof`] and [`consistency_proof`] (RFC 6962 §2.1,
//! RFC 9162 §2.1.3.1 and §2.1.4.1).
//!
//! Each proof hash is the `MTH` of a range of leaves, and every range the
//! RFC recursion visits is aligned, so its `MTH` is the right fold of the
//! complete subtrees tiling it ([`subtrees`]). A proof is planned as a list
//! of ranges, all their subtrees are read in one call, and each range is
//! folded. Only the ranges on the tree's right edge are incomplete, so a
//! proof reads at most about 2·log₂(size) hashes.

use crate::error::TreeError;
use crate::frontier::fold_right;
use crate::hash::{empty_root, Hash};
use crate::node::{subtrees, NodeId, MAX_TREE_SIZE};
use crate::reader::{read_nodes, HashReader};

/// The root (RFC 6962 `MTH`) of the tree of the first `size` leaves.
///
/// Reads `popcount(size)` stored hashes; [`empty_root`] for 0.
pub fn tree_hash<R: HashReader + ?Sized>(
    size: u64,
    reader: &R,
) -> Result<Hash, TreeError<R::Error>> {
    check_size(size)?;
    let mut plan = Plan::default();
    plan.range(0, size);
    let root = plan.execute(reader)?.pop();
    Ok(root.unwrap_or_else(empty_root))
}

/// The inclusion proof (audit path) of leaf `index` in the tree of `size`
/// leaves, `PATH(index, D[0:size])` of RFC 6962 §2.1.1: sibling hashes from
/// the leaf up to the root.
pub fn inclusion_proof<R: HashReader + ?Sized>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    check_size(size)?;
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    // Walk down from the root, noting each sibling range; the proof lists
    // them bottom-up.
    let mut siblings = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + split(hi - lo);
        if index < mid {
            siblings.push((mid, hi));
            hi = mid;
        } else {
            siblings.push((lo, mid));
            lo = mid;
        }
    }
    let mut plan = Plan::default();
    for (lo, hi) in siblings.into_iter().rev() {
        plan.range(lo, hi);
    }
    plan.execute(reader)
}

/// The consistency proof from the tree of `old_size` leaves to the tree of
/// `new_size` leaves, `PROOF(old_size, D[0:new_size])` of RFC 6962 §2.1.2.
/// Empty when `old_size` is 0 or equal to `new_size`.
pub fn consistency_proof<R: HashReader + ?Sized>(
    old_size: u64,
    new_size: u64,
    reader: &R,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(TreeError::OldSizeLarger { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), walked down from the root. Invariant:
    // lo < old_size <= hi. `known` is b: whether the verifier already has
    // MTH(D[lo:hi]) (it does while the range is a prefix of the old tree).
    let mut ranges = Vec::new();
    let (mut lo, mut hi, mut known) = (0, new_size, true);
    loop {
        if old_size == hi {
            if !known {
                ranges.push((lo, hi));
            }
            break;
        }
        let mid = lo + split(hi - lo);
        if old_size <= mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
            known = false;
        }
    }
    let mut plan = Plan::default();
    for (lo, hi) in ranges.into_iter().rev() {
        plan.range(lo, hi);
    }
    plan.execute(reader)
}

fn check_size<E>(size: u64) -> Result<(), TreeError<E>> {
    if size > MAX_TREE_SIZE {
        return Err(TreeError::SizeTooLarge { size });
    }
    Ok(())
}

/// RFC 6962's `k`: the largest power of two smaller than `width` (≥ 2).
fn split(width: u64) -> u64 {
    1 << (63 - (width - 1).leading_zeros())
}

/// Hashes to compute, each the `MTH` of a range of leaves, and the stored
/// subtrees they are folded from.
#[derive(Default)]
struct Plan {
    nodes: Vec<NodeId>,
    // How many consecutive entries of `nodes` make up each output hash.
    parts: Vec<usize>,
}

impl Plan {
    /// Adds the output `MTH(D[lo:hi])`, for an aligned, non-empty range.
    fn range(&mut self, lo: u64, hi: u64) {
        let before = self.nodes.len();
        self.nodes.extend(subtrees(lo, hi));
        self.parts.push(self.nodes.len() - before);
    }

    /// Reads every subtree in one call and folds each output.
    fn execute<R: HashReader + ?Sized>(self, reader: &R) -> Result<Vec<Hash>, TreeError<R::Error>> {
        let hashes = read_nodes(reader, &self.nodes)?;
        let mut hashes = hashes.into_iter();
        let mut out = Vec::with_capacity(self.parts.len());
        for n in self.parts {
            let part: Vec<Hash> = hashes.by_ref().take(n).collect();
            // `read_nodes` checked the count and every part is non-empty,
            // so `fold_right` always has something to fold.
            out.extend(fold_right(part.into_iter()));
        }
        Ok(out)
    }
}
