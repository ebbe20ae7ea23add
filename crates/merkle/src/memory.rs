//! In-memory hash storage: [`MemoryHashStore`], and [`Tree`], a whole tree
//! in memory for tests and small uses.

use crate::error::TreeError;
use crate::frontier::Frontier;
use crate::hash::{leaf_hash, Hash};
use crate::node::stored_hash_count;
use crate::prove::{consistency_proof, inclusion_proof, tree_hash};
use crate::reader::HashReader;

/// Stored hashes in a `Vec`, indexed by stored index. It enforces what any
/// store must: hashes are only ever appended, with no gap and no overwrite.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryHashStore {
    hashes: Vec<Hash>,
}

/// Why [`MemoryHashStore`] refused a read or a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryStoreError {
    /// A read asked for a hash that has not been stored.
    #[error("stored hash {index} asked for, but only {stored} are stored")]
    Missing {
        /// The stored index asked for.
        index: u64,
        /// How many hashes are stored.
        stored: u64,
    },
    /// A write did not start right after the last stored hash.
    #[error("hashes written at stored index {first_index}, but the next free index is {stored}")]
    NotContiguous {
        /// Where the write was to start.
        first_index: u64,
        /// How many hashes are stored (the next free index).
        stored: u64,
    },
}

impl MemoryHashStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored hashes (not leaves: see
    /// [`crate::stored_hash_count`]).
    pub fn len(&self) -> u64 {
        self.hashes.len() as u64
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Stores `hashes` at stored indexes `first_index..`; `first_index`
    /// must be [`MemoryHashStore::len`].
    pub fn append(&mut self, first_index: u64, hashes: &[Hash]) -> Result<(), MemoryStoreError> {
        if first_index != self.len() {
            return Err(MemoryStoreError::NotContiguous {
                first_index,
                stored: self.len(),
            });
        }
        self.hashes.extend_from_slice(hashes);
        Ok(())
    }

    /// The stored hash at `index`, if stored.
    pub fn get(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.hashes.get(i).copied()
    }
}

impl HashReader for MemoryHashStore {
    type Error = MemoryStoreError;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Self::Error> {
        indexes
            .iter()
            .map(|&index| {
                self.get(index).ok_or(MemoryStoreError::Missing {
                    index,
                    stored: self.len(),
                })
            })
            .collect()
    }
}

/// A Merkle tree held entirely in memory: a [`Frontier`] for appends and
/// a [`MemoryHashStore`] for roots and proofs at any size. 64 bytes per
/// leaf, so for tests and small uses; a real log keeps the hashes in its
/// own store and uses the free functions.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    frontier: Frontier,
    store: MemoryHashStore,
    // Reused across appends to avoid an allocation per leaf.
    scratch: Vec<Hash>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Appends a leaf by its bytes and returns its index.
    pub fn push(&mut self, bytes: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(bytes))
    }

    /// Appends a leaf by its hash ([`leaf_hash`] of its bytes) and returns
    /// its index.
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash) -> u64 {
        let index = self.frontier.size();
        self.scratch.clear();
        self.frontier.append(leaf_hash, &mut self.scratch);
        // The frontier yields exactly the hashes for the next stored
        // indexes, so the store's contiguity check cannot fail; extend
        // directly rather than carry an impossible error.
        self.store.hashes.extend_from_slice(&self.scratch);
        debug_assert_eq!(self.store.len(), stored_hash_count(self.size()));
        index
    }

    /// The hash of leaf `index`, if the tree has it.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        if index >= self.size() {
            return None;
        }
        self.store.get(crate::NodeId::leaf(index)?.stored_index())
    }

    /// The root when the tree had `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError<MemoryStoreError>> {
        self.check_size(size)?;
        tree_hash(size, &self.store)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, TreeError<MemoryStoreError>> {
        self.check_size(size)?;
        inclusion_proof(index, size, &self.store)
    }

    /// The consistency proof from `old_size` leaves to `new_size` leaves.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, TreeError<MemoryStoreError>> {
        self.check_size(new_size)?;
        consistency_proof(old_size, new_size, &self.store)
    }

    /// The stored hashes, for use with the free functions.
    pub fn store(&self) -> &MemoryHashStore {
        &self.store
    }

    /// The frontier at the current size.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError<MemoryStoreError>> {
        if size > self.size() {
            return Err(TreeError::SizeBeyondStored {
                size,
                stored: self.size(),
            });
        }
        Ok(())
    }
}
