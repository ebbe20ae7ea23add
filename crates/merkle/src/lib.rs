//! An RFC 6962 / RFC 9162 Merkle tree for an append-only log: hashes, the
//! stored-hash layout, appends, roots and proofs at any size, and proof
//! verifiers. Pure: no I/O, no async, no global state; storage is the
//! caller's, behind [`HashReader`].
//!
//! # Model
//!
//! - Leaves are hashed `SHA-256(0x00 || bytes)` ([`leaf_hash`]), interior
//!   nodes `SHA-256(0x01 || left || right)` ([`node_hash`]); the empty tree's
//!   root is `SHA-256("")` ([`empty_root`]). The tree of `n` leaves is RFC
//!   6962's `MTH(D[0:n])`: the left subtree holds the largest power of two
//!   smaller than `n` leaves.
//! - Only *complete* subtrees are stored ([`NodeId`]: `2^level` leaves at
//!   an aligned position). Their hashes never change once the last of
//!   their leaves is appended; every root and proof at any size is a fold
//!   of a few of them.
//! - Stored hashes are addressed by a single `u64`, the stored index
//!   ([`NodeId::stored_index`], the layout of Go's `sumdb/tlog`): a tree of
//!   `n` leaves owns exactly `0..stored_hash_count(n)`, and appending leaf
//!   `n` adds the indexes `stored_hash_count(n)..stored_hash_count(n + 1)`.
//!
//! # Writing
//!
//! Keep a [`Frontier`] (the ≤ 62 hashes of the tree's right edge). For each
//! leaf, [`Frontier::append`] pushes the hashes to store; after a batch,
//! write them at `stored_hash_count(size before the batch)..` in the same
//! transaction as the leaves, and take [`Frontier::root`] as the new root.
//! On restart, [`Frontier::from_reader`] rebuilds it with one read.
//! [`stored_hashes_for_append`] is the same step computed from the store.
//!
//! # Reading
//!
//! [`tree_hash`], [`inclusion_proof`] and [`consistency_proof`] take any
//! size up to the committed one, plan the stored hashes they need, fetch
//! them with one [`HashReader::read_hashes`] call (at most two per tree
//! level: 48 hashes at 10 million leaves) and fold them.
//!
//! # Verifying
//!
//! [`verify_inclusion`] and [`verify_consistency`] implement RFC 9162
//! §2.1.3.2 and §2.1.4.2 and need no store. A rejection says why
//! ([`VerifyError`]): index out of range, old size larger than new, wrong
//! proof length (the sizes fix it), or which root did not match.
//!
//! [`MemoryHashStore`] and [`Tree`] keep everything in memory, for tests
//! and small uses.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod append;
mod error;
mod frontier;
mod hash;
mod memory;
mod node;
mod prove;
mod reader;
mod verify;

pub use append::stored_hashes_for_append;
pub use error::{TreeError, VerifyError};
pub use frontier::Frontier;
pub use hash::{empty_root, leaf_hash, node_hash, Hash, HASH_SIZE};
pub use memory::{MemoryHashStore, MemoryStoreError, Tree};
pub use node::{stored_hash_count, NodeId, MAX_TREE_SIZE};
pub use prove::{consistency_proof, inclusion_proof, tree_hash};
pub use reader::HashReader;
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};
