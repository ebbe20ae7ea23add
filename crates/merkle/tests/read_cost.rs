//! What roots and proofs cost in store reads: one `read_hashes` call each,
//! for O(log size) hashes, at any size up to the maximum. Uses a reader
//! that makes hashes up, so no tree needs building.

use std::cell::Cell;
use std::convert::Infallible;

use auditlog_merkle::{
    consistency_proof, inclusion_proof, stored_hashes_for_append, tree_hash, Frontier, Hash,
    HashReader, MAX_TREE_SIZE,
};

#[derive(Debug, Default)]
struct CountingReader {
    calls: Cell<usize>,
    hashes: Cell<usize>,
    largest: Cell<u64>,
}

impl HashReader for CountingReader {
    type Error = Infallible;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, Infallible> {
        self.calls.set(self.calls.get() + 1);
        self.hashes.set(self.hashes.get() + indexes.len());
        let max = indexes.iter().copied().max().unwrap_or(0);
        self.largest.set(self.largest.get().max(max));
        Ok(indexes.iter().map(|i| [(i % 251) as u8; 32]).collect())
    }
}

impl CountingReader {
    /// Runs `f` and returns (calls, hashes read, largest index read).
    fn measure(f: impl FnOnce(&Self)) -> (usize, usize, u64) {
        let r = Self::default();
        f(&r);
        (r.calls.get(), r.hashes.get(), r.largest.get())
    }
}

fn bits(n: u64) -> usize {
    (64 - n.leading_zeros()) as usize
}

const SIZES: [u64; 7] = [
    10_000_000,
    10_000_001,
    (1 << 24) - 1,
    1 << 24,
    123_456_789_012,
    MAX_TREE_SIZE - 1,
    MAX_TREE_SIZE,
];

#[test]
fn roots_read_one_hash_per_set_bit() {
    for size in SIZES {
        let (calls, hashes, _) = CountingReader::measure(|r| {
            tree_hash(size, r).unwrap();
        });
        assert_eq!(
            (calls, hashes),
            (1, size.count_ones() as usize),
            "size {size}"
        );
        let (calls, hashes, _) = CountingReader::measure(|r| {
            Frontier::from_reader(size, r).unwrap();
        });
        assert_eq!(
            (calls, hashes),
            (1, size.count_ones() as usize),
            "size {size}"
        );
    }
}

#[test]
fn proofs_read_at_most_two_hashes_per_level_in_one_call() {
    for size in SIZES {
        let bound = 2 * bits(size);
        for index in [0, 1, size / 3, size / 2, size - 2, size - 1] {
            let (calls, hashes, largest) = CountingReader::measure(|r| {
                inclusion_proof(index, size, r).unwrap();
            });
            assert!(
                calls <= 1 && hashes <= bound,
                "leaf {index} of {size}: {hashes} hashes"
            );
            // Never asks beyond the tree.
            assert!(largest < auditlog_merkle::stored_hash_count(size));
        }
        for old in [1, 2, 3, size / 3, size / 2, size - 1] {
            let (calls, hashes, largest) = CountingReader::measure(|r| {
                consistency_proof(old, size, r).unwrap();
            });
            assert!(
                calls <= 1 && hashes <= bound,
                "{old} -> {size}: {hashes} hashes"
            );
            assert!(largest < auditlog_merkle::stored_hash_count(size));
        }
    }
}

#[test]
fn an_append_reads_only_the_siblings_it_merges_with() {
    for size in [
        0u64,
        1,
        2,
        3,
        7,
        8,
        10_000_000,
        (1 << 24) - 1,
        MAX_TREE_SIZE - 1,
    ] {
        let (_, hashes, _) = CountingReader::measure(|r| {
            let new = stored_hashes_for_append(size, [0; 32], r).unwrap();
            assert_eq!(new.len(), 1 + size.trailing_ones() as usize);
        });
        assert_eq!(hashes, size.trailing_ones() as usize, "size {size}");
    }
}
