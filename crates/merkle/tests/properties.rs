//! Properties over random trees (up to 10,000 leaves) and over every
//! (index, size) and (old, new) pair of a small tree: stored-hash roots
//! and proofs equal the naive RFC 6962 reference, every proof verifies,
//! and every corruption of a proof or its claims is rejected.

mod common;

use auditlog_merkle::{
    leaf_hash, root_from_inclusion_proof, stored_hashes_for_append, tree_hash, verify_consistency,
    verify_inclusion, Frontier, Hash, MemoryHashStore, NodeId, Tree, VerifyError,
};
use common::flip;
use proptest::prelude::*;

/// A tree and its root at every size, recorded while appending.
struct Fixture {
    leaves: Vec<Hash>,
    tree: Tree,
    roots: Vec<Hash>,
}

impl Fixture {
    fn new(n: u64, seed: u64) -> Self {
        // Distinct leaf data, so no two leaf hashes coincide.
        let leaves: Vec<Hash> = (0..n)
            .map(|i| {
                let mut data = seed.to_be_bytes().to_vec();
                data.extend_from_slice(&i.to_be_bytes());
                leaf_hash(&data)
            })
            .collect();
        let mut tree = Tree::new();
        let mut roots = vec![tree.root()];
        for &leaf in &leaves {
            tree.push_leaf_hash(leaf);
            roots.push(tree.root());
        }
        Self {
            leaves,
            tree,
            roots,
        }
    }

    fn n(&self) -> u64 {
        self.tree.size()
    }

    fn root(&self, size: u64) -> Hash {
        self.roots[size as usize]
    }

    /// Roots: the frontier's root after each append equals the root read
    /// from stored hashes at that size, and the naive MTH at `sampled`
    /// sizes (all of them would be quadratic).
    fn check_roots(&self, sampled: &[u64]) {
        for size in 0..=self.n() {
            assert_eq!(
                tree_hash(size, self.tree.store()).unwrap(),
                self.root(size),
                "size {size}"
            );
        }
        for &size in sampled.iter().chain([&self.n()]) {
            let want = common::mth(&self.leaves[..size as usize]);
            assert_eq!(self.root(size), want, "naive MTH at size {size}");
            let f = Frontier::from_reader(size, self.tree.store()).unwrap();
            assert_eq!(f.root(), want, "frontier read at size {size}");
        }
    }

    /// `stored_hashes_for_append`, one leaf at a time against the store it
    /// fills, builds the same store as the frontier.
    fn check_stored_append(&self) {
        let mut store = MemoryHashStore::new();
        for (i, &leaf) in self.leaves.iter().enumerate() {
            let hashes = stored_hashes_for_append(i as u64, leaf, &store).unwrap();
            store.append(store.len(), &hashes).unwrap();
        }
        assert_eq!(&store, self.tree.store());
    }

    /// Every complete subtree's stored hash is the naive MTH of its leaves
    /// (checked for the nodes at `sampled` stored indexes).
    fn check_stored_nodes(&self, sampled: &[u64]) {
        for &i in sampled {
            let i = i % self.tree.store().len();
            let node = NodeId::from_stored_index(i).unwrap();
            let r = node.leaves();
            let want = common::mth(&self.leaves[r.start as usize..r.end as usize]);
            assert_eq!(self.tree.store().get(i), Some(want), "{node:?}");
        }
    }

    fn check_inclusion(&self, index: u64, size: u64, reference: bool) {
        let ctx = format!("leaf {index} of {size} (tree of {})", self.n());
        let proof = self.tree.inclusion_proof(index, size).unwrap();
        let leaf = self.leaves[index as usize];
        let root = self.root(size);
        if reference {
            let want = common::path(index as usize, &self.leaves[..size as usize]);
            assert_eq!(proof, want, "{ctx}: differs from the reference PATH");
        }
        verify_inclusion(&leaf, index, size, &proof, &root)
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));

        // Any single proof hash changed.
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i] = flip(&p[i]);
            assert!(
                matches!(
                    verify_inclusion(&leaf, index, size, &p, &root),
                    Err(VerifyError::RootMismatch { .. })
                ),
                "{ctx}: proof[{i}] flipped verified"
            );
        }
        // Truncated, extended, or with a hash prepended.
        let mut wrong_lengths = vec![
            [proof.as_slice(), &[[0; 32]]].concat(),
            [&[root], proof.as_slice()].concat(),
        ];
        if !proof.is_empty() {
            wrong_lengths.push(proof[..proof.len() - 1].to_vec());
            wrong_lengths.push(proof[1..].to_vec());
        }
        for p in wrong_lengths {
            assert!(
                matches!(
                    verify_inclusion(&leaf, index, size, &p, &root),
                    Err(VerifyError::WrongProofLength { .. })
                ),
                "{ctx}: proof of length {} verified",
                p.len()
            );
        }
        // Wrong leaf, wrong root.
        assert!(
            verify_inclusion(&flip(&leaf), index, size, &proof, &root).is_err(),
            "{ctx}: wrong leaf"
        );
        assert!(
            verify_inclusion(&leaf, index, size, &proof, &flip(&root)).is_err(),
            "{ctx}: wrong root"
        );
        // Wrong index in the same tree: a different path shape, or none.
        for other in [
            index.wrapping_sub(1),
            index + 1,
            index ^ 1,
            index ^ 2,
            size,
            u64::MAX,
        ] {
            if other != index {
                assert!(
                    verify_inclusion(&leaf, other, size, &proof, &root).is_err(),
                    "{ctx}: verified as leaf {other}"
                );
            }
        }
        // Wrong size, claimed with that size's real root. (Against the
        // original root a proof can verify under another size with the same
        // path shape: sizes are bound to roots by the signer, not by proofs;
        // see the `verify` module docs.) It may only pass if it is also
        // that size's genuine proof.
        for other in [size - 1, size + 1, size * 2, size / 2] {
            if other != size && other > index && other <= self.n() {
                let ok = verify_inclusion(&leaf, index, other, &proof, &self.root(other)).is_ok();
                let genuine = self.tree.inclusion_proof(index, other).unwrap() == proof;
                assert_eq!(ok, genuine, "{ctx}: under size {other}");
            }
        }
        assert_eq!(
            root_from_inclusion_proof(&leaf, index, size, &proof),
            Ok(root)
        );
    }

    fn check_consistency(&self, old: u64, new: u64, reference: bool) {
        let ctx = format!("{old} -> {new} (tree of {})", self.n());
        let proof = self.tree.consistency_proof(old, new).unwrap();
        let (r1, r2) = (self.root(old), self.root(new));
        if reference {
            let want = common::proof(old as usize, &self.leaves[..new as usize]);
            assert_eq!(proof, want, "{ctx}: differs from the reference PROOF");
        }
        verify_consistency(old, new, &proof, &r1, &r2).unwrap_or_else(|e| panic!("{ctx}: {e}"));

        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i] = flip(&p[i]);
            assert!(
                matches!(
                    verify_consistency(old, new, &p, &r1, &r2),
                    Err(VerifyError::OldRootMismatch { .. } | VerifyError::NewRootMismatch { .. })
                ),
                "{ctx}: proof[{i}] flipped verified"
            );
        }
        let mut wrong_lengths = vec![
            [proof.as_slice(), &[r2]].concat(),
            [&[r1], proof.as_slice()].concat(),
        ];
        if !proof.is_empty() {
            wrong_lengths.push(proof[..proof.len() - 1].to_vec());
            wrong_lengths.push(proof[1..].to_vec());
        }
        for p in wrong_lengths {
            assert!(
                matches!(
                    verify_consistency(old, new, &p, &r1, &r2),
                    Err(VerifyError::WrongProofLength { .. })
                ),
                "{ctx}: proof of length {} verified",
                p.len()
            );
        }
        // Wrong roots.
        assert!(
            verify_consistency(old, new, &proof, &flip(&r1), &r2).is_err(),
            "{ctx}: wrong old root"
        );
        if old > 0 {
            // (The new root of a proof from size 0 is tied to nothing.)
            assert!(
                verify_consistency(old, new, &proof, &r1, &flip(&r2)).is_err(),
                "{ctx}: wrong new root"
            );
        }
        if r1 != r2 {
            assert!(
                verify_consistency(old, new, &proof, &r2, &r1).is_err(),
                "{ctx}: swapped roots"
            );
        }
        // Wrong sizes, each claimed with its real root: may only pass if
        // the proof is also the genuine proof for those sizes.
        for other in [old.wrapping_sub(1), old + 1, old ^ 2, old * 2, old / 2] {
            if other != old && other <= new {
                let ok = verify_consistency(other, new, &proof, &self.root(other), &r2).is_ok();
                let genuine = self.tree.consistency_proof(other, new).unwrap() == proof;
                assert_eq!(ok, genuine, "{ctx}: claimed as {other} -> {new}");
            }
        }
        for other in [new.wrapping_sub(1), new + 1, new * 2, new / 2] {
            if other != new && other >= old && other <= self.n() {
                let ok = verify_consistency(old, other, &proof, &r1, &self.root(other)).is_ok();
                let genuine = self.tree.consistency_proof(old, other).unwrap() == proof;
                assert_eq!(ok, genuine, "{ctx}: claimed as {old} -> {other}");
            }
        }
        // Old size past new size.
        if old < new {
            assert!(matches!(
                verify_consistency(new, old, &proof, &r2, &r1),
                Err(VerifyError::OldSizeLarger { .. })
            ));
        }
    }
}

/// Every (index, size) and (old, new) pair of a 70-leaf tree, against the
/// reference.
#[test]
fn every_proof_of_a_small_tree() {
    let fx = Fixture::new(70, 7);
    let all: Vec<u64> = (0..=70).collect();
    fx.check_roots(&all);
    fx.check_stored_append();
    fx.check_stored_nodes(&(0..fx.tree.store().len()).collect::<Vec<_>>());
    for size in 1..=70 {
        for index in 0..size {
            fx.check_inclusion(index, size, true);
        }
    }
    for new in 0..=70 {
        for old in 0..=new {
            fx.check_consistency(old, new, true);
        }
    }
}

/// Random choices, mapped into a tree of `n` leaves by the test.
fn picks() -> impl Strategy<Value = Vec<(u64, u64)>> {
    prop::collection::vec((any::<u64>(), any::<u64>()), 12)
}

/// Picks `(a, b)` with `a < b <= n` (for inclusion) or `a <= b <= n` (for
/// consistency), plus the edges: first and last leaf, equal sizes, powers
/// of two.
fn pairs(n: u64, picks: &[(u64, u64)], strict: bool) -> Vec<(u64, u64)> {
    let lo = u64::from(strict);
    let mut out: Vec<(u64, u64)> = picks
        .iter()
        .map(|&(x, y)| {
            let b = lo + y % (n + 1 - lo);
            let a = x % (b + 1 - lo);
            (a, b)
        })
        .collect();
    out.push((0, n));
    out.push((n - 1, n));
    let pow = 1 << (63 - n.leading_zeros());
    out.push((pow - u64::from(strict), pow));
    if !strict {
        out.push((n, n));
        out.push((pow, n));
        out.push((0, 0));
    }
    out
}

fn check_random_tree(n: u64, seed: u64, picks: &[(u64, u64)], reference: bool) {
    let fx = Fixture::new(n, seed);
    let sizes: Vec<u64> = picks.iter().map(|&(_, y)| y % (n + 1)).collect();
    fx.check_roots(&sizes);
    fx.check_stored_append();
    let nodes: Vec<u64> = picks.iter().map(|&(x, _)| x).collect();
    fx.check_stored_nodes(&nodes);
    for (index, size) in pairs(n, picks, true) {
        fx.check_inclusion(index, size, reference);
    }
    for (old, new) in pairs(n, picks, false) {
        fx.check_consistency(old, new, reference);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Large trees: up to 10,000 leaves, a dozen random proofs of each kind.
    #[test]
    fn large_random_trees(n in 1u64..=10_000, seed in any::<u64>(), picks in picks()) {
        check_random_tree(n, seed, &picks, true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Many small trees, where the awkward shapes are.
    #[test]
    fn small_random_trees(n in 1u64..=300, seed in any::<u64>(), picks in picks()) {
        check_random_tree(n, seed, &picks, true);
    }
}
