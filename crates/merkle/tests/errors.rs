//! Edge cases and error reasons: empty and single-leaf trees, sizes out of
//! range, a reader that breaks its contract, and the verifiers' rules
//! outside `0 < old < new`.

mod common;

use std::convert::Infallible;

use auditlog_merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, stored_hashes_for_append, tree_hash,
    verify_consistency, verify_inclusion, Frontier, Hash, HashReader, MemoryHashStore,
    MemoryStoreError, Tree, TreeError, VerifyError, MAX_TREE_SIZE,
};
use common::h;

const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

fn tree(n: u64) -> Tree {
    let mut t = Tree::new();
    for i in 0..n {
        t.push(&i.to_be_bytes());
    }
    t
}

#[test]
fn single_leaf_tree_root_is_the_leaf_hash_and_its_proof_is_empty() {
    let t = tree(1);
    let leaf = leaf_hash(&0u64.to_be_bytes());
    assert_eq!(t.root(), leaf);
    let proof = t.inclusion_proof(0, 1).unwrap();
    assert!(proof.is_empty());
    verify_inclusion(&leaf, 0, 1, &proof, &leaf).unwrap();
    assert!(matches!(
        verify_inclusion(&leaf, 0, 1, &proof, &empty_root()),
        Err(VerifyError::RootMismatch { .. })
    ));
}

/// transparency-dev `TestVerifyInclusion`'s probes: no leaf is in an empty
/// tree, and no index past the end.
#[test]
fn inclusion_index_out_of_range() {
    for (index, size) in [(0, 0), (1, 0), (2, 1), (1, 1), (u64::MAX, u64::MAX)] {
        assert_eq!(
            verify_inclusion(&h(SOME_HASH), index, size, &[], &empty_root()),
            Err(VerifyError::IndexOutOfRange { index, size })
        );
    }
    let t = tree(5);
    assert!(matches!(
        t.inclusion_proof(5, 5),
        Err(TreeError::IndexOutOfRange { index: 5, size: 5 })
    ));
    assert!(matches!(
        inclusion_proof(0, 0, t.store()),
        Err(TreeError::IndexOutOfRange { index: 0, size: 0 })
    ));
}

/// transparency-dev `TestVerifyConsistency`'s table, with one deliberate
/// difference: there an old size of 0 accepts any old root; here the old
/// root must be the empty tree's root, as that is the only root size 0 has.
#[test]
fn consistency_outside_the_rfc_range() {
    let e = empty_root();
    let (r1, r2) = (leaf_hash(b"don't care 1"), leaf_hash(b"don't care 2"));
    let proof1: &[Hash] = &[];
    let proof2: &[Hash] = &[e];

    // Sizes that are always consistent.
    verify_consistency(0, 0, proof1, &e, &e).unwrap();
    verify_consistency(0, 1, proof1, &e, &r2).unwrap();
    verify_consistency(1, 1, proof1, &r2, &r2).unwrap();
    verify_consistency(7, 7, proof1, &r1, &r1).unwrap();

    // Same size, different roots.
    assert!(matches!(
        verify_consistency(1, 1, proof1, &r1, &r2),
        Err(VerifyError::RootsDiffer { size: 1, .. })
    ));
    assert!(matches!(
        verify_consistency(1, 1, proof1, &e, &r2),
        Err(VerifyError::RootsDiffer { size: 1, .. })
    ));
    // Size 0 with a root that is not the empty root.
    assert!(matches!(
        verify_consistency(0, 0, proof1, &r1, &r1),
        Err(VerifyError::OldRootMismatch { .. })
    ));
    assert!(matches!(
        verify_consistency(0, 1, proof1, &r1, &r2),
        Err(VerifyError::OldRootMismatch { .. })
    ));
    // Time travel to the past.
    assert_eq!(
        verify_consistency(1, 0, proof1, &r1, &r2),
        Err(VerifyError::OldSizeLarger {
            old_size: 1,
            new_size: 0
        })
    );
    assert_eq!(
        verify_consistency(2, 1, proof1, &r1, &r2),
        Err(VerifyError::OldSizeLarger {
            old_size: 2,
            new_size: 1
        })
    );
    // Empty proof where one is needed.
    assert_eq!(
        verify_consistency(1, 2, proof1, &r1, &r2),
        Err(VerifyError::WrongProofLength { got: 0, want: 1 })
    );
    // Roots match but the proof is not empty.
    for (old, new) in [(0, 0), (0, 1), (1, 1)] {
        assert_eq!(
            verify_consistency(old, new, proof2, &e, &e),
            Err(VerifyError::WrongProofLength { got: 1, want: 0 })
        );
    }
}

#[test]
fn proof_generation_checks_sizes() {
    let t = tree(10);
    assert!(matches!(
        t.consistency_proof(6, 5),
        Err(TreeError::OldSizeLarger {
            old_size: 6,
            new_size: 5
        })
    ));
    assert!(matches!(
        consistency_proof(6, 5, t.store()),
        Err(TreeError::OldSizeLarger {
            old_size: 6,
            new_size: 5
        })
    ));
    assert!(matches!(
        t.root_at(11),
        Err(TreeError::SizeBeyondStored {
            size: 11,
            stored: 10
        })
    ));
    assert!(matches!(
        t.inclusion_proof(0, 11),
        Err(TreeError::SizeBeyondStored {
            size: 11,
            stored: 10
        })
    ));
    assert!(matches!(
        t.consistency_proof(3, 11),
        Err(TreeError::SizeBeyondStored {
            size: 11,
            stored: 10
        })
    ));
    // Without the Tree's own check, the store says what is missing.
    assert!(matches!(
        tree_hash(11, t.store()),
        Err(TreeError::Read(MemoryStoreError::Missing { .. }))
    ));
    for size in [MAX_TREE_SIZE + 1, u64::MAX] {
        assert!(matches!(
            tree_hash(size, t.store()),
            Err(TreeError::SizeTooLarge { .. })
        ));
        assert!(matches!(
            inclusion_proof(0, size, t.store()),
            Err(TreeError::SizeTooLarge { .. })
        ));
        assert!(matches!(
            consistency_proof(1, size, t.store()),
            Err(TreeError::SizeTooLarge { .. })
        ));
        assert!(matches!(
            Frontier::from_reader(size, t.store()),
            Err(TreeError::SizeTooLarge { .. })
        ));
    }
    assert!(matches!(
        stored_hashes_for_append(MAX_TREE_SIZE, [0; 32], t.store()),
        Err(TreeError::SizeTooLarge { .. })
    ));
}

/// A reader that answers with one hash too few.
#[derive(Debug)]
struct ShortReader;

impl HashReader for ShortReader {
    type Error = Infallible;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Infallible> {
        Ok(vec![[0; 32]; indexes.len().saturating_sub(1)])
    }
}

#[test]
fn a_reader_returning_too_few_hashes_is_an_error() {
    assert!(matches!(
        tree_hash(3, &ShortReader),
        Err(TreeError::ReadCount {
            requested: 2,
            returned: 1
        })
    ));
    // Size 0 needs no read, so a bad reader cannot matter.
    assert_eq!(tree_hash(0, &ShortReader).unwrap(), empty_root());
}

#[test]
fn memory_store_refuses_gaps_and_overwrites() {
    let mut s = MemoryHashStore::new();
    s.append(0, &[[1; 32], [2; 32]]).unwrap();
    assert_eq!(
        s.append(3, &[[3; 32]]),
        Err(MemoryStoreError::NotContiguous {
            first_index: 3,
            stored: 2
        })
    );
    assert_eq!(
        s.append(1, &[[3; 32]]),
        Err(MemoryStoreError::NotContiguous {
            first_index: 1,
            stored: 2
        })
    );
    assert_eq!(
        s.read_hashes(&[1, 2]),
        Err(MemoryStoreError::Missing {
            index: 2,
            stored: 2
        })
    );
    assert_eq!(s.read_hashes(&[1, 0]).unwrap(), vec![[2; 32], [1; 32]]);
}

#[test]
fn frontier_from_hashes_checks_the_count() {
    assert!(Frontier::from_hashes(5, vec![[0; 32]]).is_none());
    assert!(Frontier::from_hashes(5, vec![[0; 32]; 3]).is_none());
    assert!(Frontier::from_hashes(MAX_TREE_SIZE + 1, vec![[0; 32]; 2]).is_none());
    let t = tree(5);
    let f = Frontier::from_hashes(5, t.frontier().hashes().to_vec()).unwrap();
    assert_eq!(f.root(), t.root());
}

#[test]
fn error_messages_name_the_reason() {
    let e = VerifyError::WrongProofLength { got: 2, want: 3 };
    assert_eq!(
        e.to_string(),
        "proof has 2 hashes; these sizes need exactly 3"
    );
    let e = VerifyError::RootMismatch {
        computed: [0xab; 32],
        expected: [0x01; 32],
    };
    assert_eq!(
        e.to_string(),
        format!(
            "inclusion proof gives root {}, expected {}",
            "ab".repeat(32),
            "01".repeat(32)
        )
    );
    let e: TreeError<MemoryStoreError> = TreeError::IndexOutOfRange { index: 4, size: 4 };
    assert_eq!(
        e.to_string(),
        "leaf index 4 is out of range for tree size 4"
    );
}
