//! The RFC 6962 hash functions: leaf hash, interior node hash, empty root.

use sha2::{Digest, Sha256};

/// Length of a [`Hash`](type@Hash) in bytes.
pub const HASH_SIZE: usize = 32;

/// A SHA-256 digest: a leaf hash, an interior node hash or a root.
pub type Hash = [u8; HASH_SIZE];

// Domain-separation prefixes (RFC 6962 §2.1): a leaf hash can never be
// mistaken for an interior node hash, so a proof cannot present an interior
// node as a leaf (the second-preimage attack on plain Merkle trees).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// The hash of a leaf: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(bytes);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // Assembled on the stack and hashed in one call: this runs once per
    // level of every append and proof step, so it should not allocate.
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    let (prefix, rest) = buf.split_at_mut(1);
    let (l, r) = rest.split_at_mut(HASH_SIZE);
    prefix.fill(NODE_PREFIX);
    l.copy_from_slice(left);
    r.copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree: `SHA-256("")` (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}
