//! Proof verifiers: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
//! (consistency). They need nothing but the proof, so clients use them too.
//!
//! Both RFC algorithms walk the same two counters (`fn`, `sn`) and decide
//! from them alone, never from hash values, whether each proof hash joins
//! on the left or on the right. [`Path`] is that walk. Running it dry first
//! gives the exact proof length the sizes require, so a proof of the wrong
//! length is reported as such instead of as a root mismatch.
//!
//! What a proof does not prove: that `size` is the size of the tree `root`
//! belongs to. Sizes are bound to roots by whoever signs them (a signed tree
//! head); a proof for one size can verify under another size with the same
//! path shape against the same root.

use crate::error::VerifyError;
use crate::hash::{empty_root, node_hash, Hash};

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves
/// whose root is `root`, using the inclusion proof `proof`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let computed = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    if computed != *root {
        return Err(VerifyError::RootMismatch {
            computed,
            expected: *root,
        });
    }
    Ok(())
}

/// The root that `proof` leads to from `leaf_hash` at `index` in a tree of
/// `size` leaves (RFC 9162 §2.1.3.2 steps 1–4). Compare it with a trusted
/// root, or use [`verify_inclusion`].
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let path = Path::new(index, size - 1);
    check_len(proof.len(), path.clone().count())?;
    Ok(path.zip(proof).fold(*leaf_hash, |r, (side, p)| match side {
        Side::Left => node_hash(p, &r),
        Side::Right => node_hash(&r, p),
    }))
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a
/// prefix of the tree of `new_size` leaves with root `new_root`, using the
/// consistency proof `proof` (RFC 9162 §2.1.4.2).
///
/// Outside the RFC's `0 < old_size < new_size`: equal sizes need an empty
/// proof and equal roots; an old size of 0 needs an empty proof and
/// `old_root` equal to [`empty_root`] (the empty tree is a prefix of every
/// tree, but its root is fixed).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::OldSizeLarger { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        check_len(proof.len(), 0)?;
        if old_size == 0 && *old_root != empty_root() {
            return Err(VerifyError::OldRootMismatch {
                computed: empty_root(),
                expected: *old_root,
            });
        }
        if old_size == new_size && old_root != new_root {
            return Err(VerifyError::RootsDiffer {
                size: old_size,
                old_root: *old_root,
                new_root: *new_root,
            });
        }
        return Ok(());
    }

    // Step 2: when the old tree is a perfect subtree its root is the seed
    // and the proof omits it; otherwise the proof starts with the seed.
    let old_is_perfect = old_size.is_power_of_two();
    // Steps 3–4: start from the last old leaf and skip the levels where
    // it is a right child, up to the top of the old tree's last complete
    // subtree (the seed).
    let skip = (old_size - 1).trailing_ones();
    let path = Path::new((old_size - 1) >> skip, (new_size - 1) >> skip);
    let want = path.clone().count() + usize::from(!old_is_perfect);
    check_len(proof.len(), want)?;
    let (seed, rest) = match (old_is_perfect, proof.split_first()) {
        (true, _) => (old_root, proof),
        (false, Some((first, rest))) => (first, rest),
        // The length check above makes the proof non-empty here.
        (false, None) => return Err(VerifyError::WrongProofLength { got: 0, want }),
    };

    // Steps 5–6: `fr` rebuilds the old root, `sr` the new one. A hash
    // joining on the left is in both trees; one joining on the right lies
    // past the old tree's end, so only the new root takes it.
    let (fr, sr) = path
        .zip(rest)
        .fold((*seed, *seed), |(fr, sr), (side, c)| match side {
            Side::Left => (node_hash(c, &fr), node_hash(c, &sr)),
            Side::Right => (fr, node_hash(&sr, c)),
        });

    // Step 7.
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch {
            computed: fr,
            expected: *old_root,
        });
    }
    if sr != *new_root {
        return Err(VerifyError::NewRootMismatch {
            computed: sr,
            expected: *new_root,
        });
    }
    Ok(())
}

fn check_len(got: usize, want: usize) -> Result<(), VerifyError> {
    if got != want {
        return Err(VerifyError::WrongProofLength { got, want });
    }
    Ok(())
}

/// Which side of the running hash a proof hash joins on.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// `HASH(0x01 || p || r)`: the proof hash is a left sibling.
    Left,
    /// `HASH(0x01 || r || p)`: the proof hash is a right sibling.
    Right,
}

/// The RFC 9162 walk over `fn` (the node's position at the current level)
/// and `sn` (the last position at that level), yielding one [`Side`] per
/// proof hash until `sn` reaches 0 — which is where a correct proof ends.
#[derive(Clone, Debug)]
struct Path {
    fn_: u64,
    sn: u64,
}

impl Path {
    fn new(fn_: u64, sn: u64) -> Self {
        Self { fn_, sn }
    }
}

impl Iterator for Path {
    type Item = Side;

    fn next(&mut self) -> Option<Side> {
        if self.sn == 0 {
            return None;
        }
        let side = if self.fn_ & 1 == 1 || self.fn_ == self.sn {
            // A right child takes its sibling on the left. A last node
            // with an even position has no sibling at this level (the
            // tree's right edge): climb until it is a right child. It gets
            // there before fn reaches 0, as fn is non-zero and even.
            while self.fn_ & 1 == 0 && self.fn_ != 0 {
                self.fn_ >>= 1;
                self.sn >>= 1;
            }
            Side::Left
        } else {
            Side::Right
        };
        self.fn_ >>= 1;
        self.sn >>= 1;
        Some(side)
    }
}
