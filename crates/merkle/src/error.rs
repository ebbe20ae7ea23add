//! Errors: [`TreeError`] when computing a root or proof from stored hashes,
//! [`VerifyError`] when a proof does not check out.

use std::fmt;

use crate::hash::Hash;

/// Why a root, proof or append could not be computed from stored hashes.
/// `E` is the [`crate::HashReader`]'s error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeError<E> {
    /// An inclusion proof was asked for a leaf the tree does not have.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The leaf asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeLarger {
        /// The first (old) size.
        old_size: u64,
        /// The second (new) size.
        new_size: u64,
    },
    /// A size beyond what the store holds (reported by stores that know
    /// their size, such as [`crate::Tree`]).
    #[error("tree size {size} is beyond the {stored} leaves stored")]
    SizeBeyondStored {
        /// The size asked for.
        size: u64,
        /// How many leaves the store holds.
        stored: u64,
    },
    /// A size beyond [`crate::MAX_TREE_SIZE`].
    #[error("tree size {size} exceeds the maximum of {max}", max = crate::MAX_TREE_SIZE)]
    SizeTooLarge {
        /// The size asked for.
        size: u64,
    },
    /// The reader broke its contract and returned the wrong number of hashes.
    #[error("hash reader returned {returned} hashes for {requested} indexes")]
    ReadCount {
        /// How many hashes were asked for.
        requested: usize,
        /// How many came back.
        returned: usize,
    },
    /// The reader failed.
    #[error("reading stored hashes")]
    Read(#[source] E),
}

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The leaf index is not below the tree size, so no proof can exist.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The old size of a consistency proof is larger than the new size.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeLarger {
        /// The claimed old size.
        old_size: u64,
        /// The claimed new size.
        new_size: u64,
    },
    /// The proof has the wrong number of hashes for the sizes (and index)
    /// claimed: the sizes alone fix the length.
    #[error("proof has {got} hashes; these sizes need exactly {want}")]
    WrongProofLength {
        /// Hashes in the proof.
        got: usize,
        /// Hashes the sizes require.
        want: usize,
    },
    /// The root recomputed from an inclusion proof is not the expected root.
    #[error("inclusion proof gives root {}, expected {}", Hex(.computed), Hex(.expected))]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The root it had to lead to.
        expected: Hash,
    },
    /// The old root recomputed from a consistency proof is not the old root
    /// given (for an old size of 0, the old root given is not
    /// [`crate::empty_root`]).
    #[error("consistency proof gives old root {}, expected {}", Hex(.computed), Hex(.expected))]
    OldRootMismatch {
        /// The old root the proof leads to.
        computed: Hash,
        /// The old root given.
        expected: Hash,
    },
    /// The new root recomputed from a consistency proof is not the new root
    /// given.
    #[error("consistency proof gives new root {}, expected {}", Hex(.computed), Hex(.expected))]
    NewRootMismatch {
        /// The new root the proof leads to.
        computed: Hash,
        /// The new root given.
        expected: Hash,
    },
    /// Old and new size are equal but the roots differ: the log forked.
    #[error("two trees of size {size} have different roots {} and {}", Hex(.old_root), Hex(.new_root))]
    RootsDiffer {
        /// The common size.
        size: u64,
        /// The old root given.
        old_root: Hash,
        /// The new root given.
        new_root: Hash,
    },
}

/// Lowercase hex, for messages.
struct Hex<'a>(&'a Hash);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}
