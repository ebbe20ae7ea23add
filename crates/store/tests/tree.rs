//! The store's Merkle tree: leaves are the stored bytes in offset order, and
//! roots and proofs at every committed size equal those of
//! `auditlog_merkle::Tree` built from the same bytes, through commits,
//! sealing, reopening, read-only opens, and stores that had no tree.
//!
//! Guards against: a leaf hashed from anything but the stored bytes; hashes
//! written at the wrong stored index; a root or proof that is right only at
//! the newest size; a reopen or read-only open that loses or changes the
//! tree; a tree that lags behind what readers see as committed.

mod common;
use common::{prepared, records, small};

use auditlog_merkle::{leaf_hash, verify_consistency, verify_inclusion, Tree};
use auditlog_store::{ConflictPolicy, Options, Store, StoreError, TreeFileError};

fn append_in_uneven_chunks(store: &Store, recs: &[Vec<u8>]) {
    let mut rest = recs;
    for size in [1usize, 2, 5, 97, 3, 64, 250].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        store
            .append(
                chunk
                    .iter()
                    .map(|b| prepared(b, ConflictPolicy::Reject))
                    .collect(),
            )
            .unwrap();
        rest = tail;
    }
}

/// Sizes around powers of two, block and chunk boundaries, and the ends.
fn sizes(n: u64) -> Vec<u64> {
    let mut v = vec![
        0, 1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 99, 100, 101, 255, 256, 257,
    ];
    v.extend([500, 511, 512, 513, n / 3, n - 1, n]);
    v.retain(|s| *s <= n);
    v.sort_unstable();
    v.dedup();
    v
}

/// Every root, and a spread of inclusion and consistency proofs, checked
/// against `want` and the RFC 9162 verifiers.
fn assert_tree_matches(store: &Store, want: &Tree) {
    let n = want.size();
    assert_eq!(store.tree_size(), n);
    for k in sizes(n) {
        let root = store.root_at(k).unwrap();
        assert_eq!(root, want.root_at(k).unwrap(), "root at size {k}");
        for i in [0, 1, k / 2, k.saturating_sub(2), k.saturating_sub(1)] {
            if i >= k {
                continue;
            }
            let proof = store.inclusion_proof(i, k).unwrap();
            assert_eq!(proof, want.inclusion_proof(i, k).unwrap(), "proof {i}@{k}");
            let leaf = store.leaf_hash(i).unwrap();
            verify_inclusion(&leaf, i, k, &proof, &root).unwrap();
        }
        for old in [0, 1, k / 2, k.saturating_sub(1), k] {
            if old > k {
                continue;
            }
            let proof = store.consistency_proof(old, k).unwrap();
            assert_eq!(proof, want.consistency_proof(old, k).unwrap());
            verify_consistency(old, k, &proof, &store.root_at(old).unwrap(), &root).unwrap();
        }
    }
    assert!(matches!(
        store.root_at(n + 1),
        Err(StoreError::Tree(TreeFileError::Beyond { .. }))
    ));
    assert!(store.leaf_hash(n).is_err());
}

#[test]
fn roots_and_proofs_at_every_size_match_an_in_memory_tree() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(21, 1_000);
    let mut want = Tree::new();
    {
        let store = Store::open(dir.path(), small()).unwrap();
        assert_eq!(store.tree_size(), 0);
        assert_eq!(store.root_at(0).unwrap(), auditlog_merkle::empty_root());
        append_in_uneven_chunks(&store, &recs);
        for off in 0..store.committed() {
            // Leaf i is the hash of exactly the bytes stored at offset i.
            let bytes = store.get(off).unwrap().unwrap();
            assert_eq!(store.leaf_hash(off).unwrap(), leaf_hash(&bytes));
            want.push(&bytes);
        }
        assert_tree_matches(&store, &want);
        store.close();
    }
    // Reopening (recovery compares the unsealed tail with the log) and a
    // read-only open (which recomputes that tail in memory) agree.
    let store = Store::open(dir.path(), small()).unwrap();
    assert_tree_matches(&store, &want);
    let ro = Store::open_read_only(dir.path()).unwrap();
    assert_tree_matches(&ro, &want);
    // And the tree keeps growing from where it was.
    let more = records(22, 37);
    append_in_uneven_chunks(&store, &more);
    for off in want.size()..store.committed() {
        want.push(&store.get(off).unwrap().unwrap());
    }
    assert_tree_matches(&store, &want);
}

#[test]
fn readers_see_the_tree_of_every_committed_size_while_writes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(Store::open(dir.path(), small()).unwrap());
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || append_in_uneven_chunks(&store, &records(23, 2_000)))
    };
    let mut last = (0, auditlog_merkle::empty_root());
    while !writer.is_finished() || last.0 < store.committed() {
        let n = store.tree_size();
        assert!(n <= store.committed());
        let root = store.root_at(n).unwrap();
        let proof = store.consistency_proof(last.0, n).unwrap();
        verify_consistency(last.0, n, &proof, &last.1, &root).unwrap();
        if n > 0 {
            let proof = store.inclusion_proof(n - 1, n).unwrap();
            let leaf = leaf_hash(&store.get(n - 1).unwrap().unwrap());
            verify_inclusion(&leaf, n - 1, n, &proof, &root).unwrap();
        }
        last = (n, root);
    }
    writer.join().unwrap();
    assert_eq!(last.0, 2_000);
}

#[test]
fn a_store_without_a_tree_gets_one_on_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(24, 700);
    {
        let store = Store::open(
            dir.path(),
            Options {
                merkle: false,
                ..small()
            },
        )
        .unwrap();
        append_in_uneven_chunks(&store, &recs);
        assert_eq!(store.tree_size(), 0);
        assert!(matches!(
            store.root_at(0),
            Err(StoreError::Tree(TreeFileError::Unavailable(_)))
        ));
        // Let the sealer seal: the tree must then be rebuilt from below the
        // sealed index too, which the log's own recovery does not read.
        for _ in 0..200 {
            if store.stats().sealed_records >= 600 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        store.close();
    }
    assert!(!dir.path().join("tree").exists());
    let ro = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(ro.tree_size(), 0, "read-only opens do not build a tree");
    drop(ro);
    let store = Store::open(dir.path(), small()).unwrap();
    let mut want = Tree::new();
    for r in &recs {
        want.push(r);
    }
    assert_tree_matches(&store, &want);
}
