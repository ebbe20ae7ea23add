//! Known-answer tests: the RFC 6962 reference tree of eight leaves used by
//! the Certificate Transparency implementations, its roots, its stored
//! subtree hashes, and its inclusion and consistency proofs.
//!
//! Sources (values copied verbatim, not produced by this crate):
//! - google/certificate-transparency, `cpp/merkletree/merkle_tree_test.cc`:
//!   `kInputs`, `kSHA256EmptyTreeHash`, `kSHA256Roots`, `kSHA256Paths`,
//!   `kSHA256Proofs`.
//! - transparency-dev/merkle, `proof/verify_test.go`: `inclusionProofs`,
//!   `consistencyProofs` (the same vectors plus the (6, 7) consistency
//!   proof), `sha256SomeHash`, and the corruptions its `verifierCheck` and
//!   `verifierConsistencyCheck` try.
//! - transparency-dev/merkle, `testonly/constants.go`: `LeafInputs`,
//!   `NodeHashes` (every complete subtree by level and index), `RootHashes`,
//!   `CompactTrees`.
//!
//! Both sources number leaves from 1 in their path vectors; this crate
//! numbers them from 0, so `leaf` below is the sources' number and the
//! index used is `leaf - 1`.

mod common;

use auditlog_merkle::{
    empty_root, leaf_hash, verify_consistency, verify_inclusion, Frontier, Hash, NodeId, Tree,
    VerifyError,
};
use common::{h, unhex};

/// `kInputs` / `LeafInputs()`.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// `kSHA256EmptyTreeHash` / `EmptyRootHash()`.
const EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `kSHA256Roots` / `RootHashes()[1..]`: the root at sizes 1..=8.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// `NodeHashes()`: by level, then index within the level.
const NODE_HASHES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// `CompactTrees()`: the frontier at sizes 0..=8, as (level, index) into
/// `NODE_HASHES`.
const COMPACT_TREES: [&[(usize, usize)]; 9] = [
    &[],
    &[(0, 0)],
    &[(1, 0)],
    &[(1, 0), (0, 2)],
    &[(2, 0)],
    &[(2, 0), (0, 4)],
    &[(2, 0), (1, 2)],
    &[(2, 0), (1, 2), (0, 6)],
    &[(3, 0)],
];

/// `kSHA256Paths[1..]` / `inclusionProofs[1..]`: (leaf numbered from 1,
/// tree size, audit path). The sources' first entry, leaf 0 of size 0, is
/// an invalid request they use only to expect an empty answer.
const INCLUSION: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        3,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// `consistencyProofs` (transparency-dev; the first four are also
/// `kSHA256Proofs`): (old size, new size, proof).
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// `sha256SomeHash` (transparency-dev): a hash that is in no tree.
const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

fn hashes(hex: &[&str]) -> Vec<Hash> {
    hex.iter().map(|s| h(s)).collect()
}

fn root(size: u64) -> Hash {
    if size == 0 {
        h(EMPTY_ROOT)
    } else {
        h(ROOTS[size as usize - 1])
    }
}

fn tree() -> Tree {
    let mut t = Tree::new();
    for leaf in LEAVES {
        t.push(&unhex(leaf));
    }
    t
}

#[test]
fn empty_root_is_sha256_of_nothing() {
    assert_eq!(empty_root(), h(EMPTY_ROOT));
    assert_eq!(Tree::new().root(), h(EMPTY_ROOT));
    assert_eq!(Frontier::new().root(), h(EMPTY_ROOT));
}

#[test]
fn leaf_hashes_are_level_zero_node_hashes() {
    for (i, leaf) in LEAVES.iter().enumerate() {
        assert_eq!(leaf_hash(&unhex(leaf)), h(NODE_HASHES[0][i]), "leaf {i}");
    }
}

#[test]
fn roots_while_appending_and_at_every_older_size() {
    let mut t = Tree::new();
    for (i, leaf) in LEAVES.iter().enumerate() {
        t.push(&unhex(leaf));
        assert_eq!(t.root(), h(ROOTS[i]), "current root at size {}", i + 1);
        for size in 0..=t.size() {
            assert_eq!(
                t.root_at(size).unwrap(),
                root(size),
                "root at {size} of {}",
                i + 1
            );
        }
    }
}

#[test]
fn stored_subtree_hashes() {
    let t = tree();
    for (level, row) in NODE_HASHES.iter().enumerate() {
        for (index, want) in row.iter().enumerate() {
            let node = NodeId::new(level as u32, index as u64).unwrap();
            assert_eq!(
                t.store().get(node.stored_index()),
                Some(h(want)),
                "node ({level}, {index})"
            );
        }
    }
    // Nothing else is stored: 8 + 4 + 2 + 1 hashes.
    assert_eq!(t.store().len(), 15);
}

#[test]
fn frontier_at_every_size() {
    let mut f = Frontier::new();
    let mut scratch = Vec::new();
    for (size, want) in COMPACT_TREES.iter().enumerate() {
        let want: Vec<Hash> = want.iter().map(|&(l, i)| h(NODE_HASHES[l][i])).collect();
        assert_eq!(f.hashes(), want.as_slice(), "frontier at size {size}");
        if let Some(leaf) = LEAVES.get(size) {
            f.append(leaf_hash(&unhex(leaf)), &mut scratch);
        }
    }
    // And rebuilt from the store at every size.
    let t = tree();
    for (size, want) in COMPACT_TREES.iter().enumerate() {
        let want: Vec<Hash> = want.iter().map(|&(l, i)| h(NODE_HASHES[l][i])).collect();
        let f = Frontier::from_reader(size as u64, t.store()).unwrap();
        assert_eq!(f.hashes(), want.as_slice(), "frontier read at size {size}");
        assert_eq!(f.root(), root(size as u64));
    }
}

#[test]
fn inclusion_proofs_are_the_known_ones() {
    let t = tree();
    for (leaf, size, want) in INCLUSION {
        let got = t.inclusion_proof(leaf - 1, size).unwrap();
        assert_eq!(got, hashes(want), "leaf {leaf} of {size}");
    }
}

#[test]
fn consistency_proofs_are_the_known_ones() {
    let t = tree();
    for (old, new, want) in CONSISTENCY {
        let got = t.consistency_proof(old, new).unwrap();
        assert_eq!(got, hashes(want), "{old} -> {new}");
    }
}

/// transparency-dev's `verifierCheck`: the known proof verifies, and every
/// corruption it tries is rejected.
#[test]
fn known_inclusion_proofs_verify_and_corruptions_fail() {
    for (leaf, size, proof) in INCLUSION {
        let index = leaf - 1;
        let proof = hashes(proof);
        let root = root(size);
        let leaf_h = leaf_hash(&unhex(LEAVES[index as usize]));
        verify_inclusion(&leaf_h, index, size, &proof, &root).unwrap();

        let mut probes: Vec<(String, u64, u64, Hash, Vec<Hash>, Hash)> = vec![
            (
                "index - 1".into(),
                index.wrapping_sub(1),
                size,
                root,
                proof.clone(),
                leaf_h,
            ),
            (
                "index + 1".into(),
                index + 1,
                size,
                root,
                proof.clone(),
                leaf_h,
            ),
            (
                "index ^ 2".into(),
                index ^ 2,
                size,
                root,
                proof.clone(),
                leaf_h,
            ),
            (
                "size * 2".into(),
                index,
                size * 2,
                root,
                proof.clone(),
                leaf_h,
            ),
            (
                "size / 2".into(),
                index,
                size / 2,
                root,
                proof.clone(),
                leaf_h,
            ),
            (
                "wrong leaf".into(),
                index,
                size,
                root,
                proof.clone(),
                leaf_hash(b"WrongLeaf"),
            ),
            (
                "empty root".into(),
                index,
                size,
                h(EMPTY_ROOT),
                proof.clone(),
                leaf_h,
            ),
            (
                "random root".into(),
                index,
                size,
                h(SOME_HASH),
                proof.clone(),
                leaf_h,
            ),
            (
                "trailing garbage".into(),
                index,
                size,
                root,
                with_last(&proof, [0; 32]),
                leaf_h,
            ),
            (
                "trailing root".into(),
                index,
                size,
                root,
                with_last(&proof, root),
                leaf_h,
            ),
            (
                "preceding garbage".into(),
                index,
                size,
                root,
                with_first(&proof, [0; 32]),
                leaf_h,
            ),
            (
                "preceding root".into(),
                index,
                size,
                root,
                with_first(&proof, root),
                leaf_h,
            ),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 8;
            probes.push((
                format!("modified proof[{i}] bit 3"),
                index,
                size,
                root,
                p,
                leaf_h,
            ));
        }
        if !proof.is_empty() {
            let p = proof[..proof.len() - 1].to_vec();
            probes.push(("removed component".into(), index, size, root, p, leaf_h));
        }
        if proof.len() > 1 {
            let mut p = proof.clone();
            p.insert(1, h(SOME_HASH));
            probes.push(("inserted component".into(), index, size, root, p, leaf_h));
        }
        for (what, index, size, root, proof, leaf_h) in probes {
            assert!(
                verify_inclusion(&leaf_h, index, size, &proof, &root).is_err(),
                "leaf {leaf}: {what} verified"
            );
        }
    }
}

/// transparency-dev's `verifierConsistencyCheck`: the known proof verifies,
/// and (for non-trivial proofs) every corruption it tries is rejected.
#[test]
fn known_consistency_proofs_verify_and_corruptions_fail() {
    for (old, new, proof) in CONSISTENCY {
        let proof = hashes(proof);
        let (r1, r2) = (root(old), root(new));
        verify_consistency(old, new, &proof, &r1, &r2).unwrap();
        if proof.is_empty() {
            continue;
        }
        let wrong = leaf_hash(b"WrongRoot");
        let mut probes: Vec<(String, u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            ("old - 1".into(), old - 1, new, r1, r2, proof.clone()),
            ("old + 1".into(), old + 1, new, r1, r2, proof.clone()),
            ("old ^ 2".into(), old ^ 2, new, r1, r2, proof.clone()),
            ("new * 2".into(), old, new * 2, r1, r2, proof.clone()),
            ("new / 2".into(), old, new / 2, r1, r2, proof.clone()),
            ("wrong old root".into(), old, new, wrong, r2, proof.clone()),
            ("wrong new root".into(), old, new, r1, wrong, proof.clone()),
            ("swapped roots".into(), old, new, r2, r1, proof.clone()),
            ("empty proof".into(), old, new, r1, r2, Vec::new()),
            (
                "trailing garbage".into(),
                old,
                new,
                r1,
                r2,
                with_last(&proof, [0; 32]),
            ),
            (
                "trailing old root".into(),
                old,
                new,
                r1,
                r2,
                with_last(&proof, r1),
            ),
            (
                "trailing new root".into(),
                old,
                new,
                r1,
                r2,
                with_last(&proof, r2),
            ),
            (
                "preceding garbage".into(),
                old,
                new,
                r1,
                r2,
                with_first(&proof, [0; 32]),
            ),
            (
                "preceding old root".into(),
                old,
                new,
                r1,
                r2,
                with_first(&proof, r1),
            ),
            (
                "preceding new root".into(),
                old,
                new,
                r1,
                r2,
                with_first(&proof, r2),
            ),
            (
                "preceding proof[0]".into(),
                old,
                new,
                r1,
                r2,
                with_first(&proof, proof[0]),
            ),
            (
                "truncated".into(),
                old,
                new,
                r1,
                r2,
                proof[..proof.len() - 1].to_vec(),
            ),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 16;
            probes.push((format!("modified proof[{i}] bit 4"), old, new, r1, r2, p));
        }
        for (what, old_p, new_p, r1, r2, proof) in probes {
            assert!(
                verify_consistency(old_p, new_p, &proof, &r1, &r2).is_err(),
                "{old} -> {new}: {what} verified"
            );
        }
    }
}

/// The reasons given for the known vectors' corruptions.
#[test]
fn rejections_say_why() {
    let proof = hashes(INCLUSION[2].2); // leaf 6 of 8
    let leaf = leaf_hash(&unhex(LEAVES[5]));
    let root8 = root(8);
    assert_eq!(
        verify_inclusion(&leaf, 8, 8, &proof, &root8),
        Err(VerifyError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        verify_inclusion(&leaf, 5, 8, &proof[..2], &root8),
        Err(VerifyError::WrongProofLength { got: 2, want: 3 })
    );
    assert!(matches!(
        verify_inclusion(&leaf, 5, 8, &proof, &root(7)),
        Err(VerifyError::RootMismatch { computed, expected }) if computed == root8 && expected == root(7)
    ));

    let proof = hashes(CONSISTENCY[2].2); // 6 -> 8
    assert_eq!(
        verify_consistency(8, 6, &proof, &root(8), &root(6)),
        Err(VerifyError::OldSizeLarger {
            old_size: 8,
            new_size: 6
        })
    );
    assert_eq!(
        verify_consistency(6, 8, &proof[1..], &root(6), &root8),
        Err(VerifyError::WrongProofLength { got: 2, want: 3 })
    );
    assert!(matches!(
        verify_consistency(6, 8, &proof, &root(5), &root8),
        Err(VerifyError::OldRootMismatch { computed, .. }) if computed == root(6)
    ));
    assert!(matches!(
        verify_consistency(6, 8, &proof, &root(6), &root(7)),
        Err(VerifyError::NewRootMismatch { computed, .. }) if computed == root8
    ));
    assert!(matches!(
        verify_consistency(5, 5, &[], &root(5), &root(6)),
        Err(VerifyError::RootsDiffer { size: 5, .. })
    ));
}

fn with_last(proof: &[Hash], extra: Hash) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p.push(extra);
    p
}

fn with_first(proof: &[Hash], extra: Hash) -> Vec<Hash> {
    let mut p = vec![extra];
    p.extend_from_slice(proof);
    p
}
