//! A Bloom filter over the id hashes of every stored record, so the writer
//! can tell a new id from a possible duplicate without touching SQLite.

/// A Bloom filter sized for a capacity at about 1% false positives.
#[derive(Debug, Clone)]
pub struct Bloom {
    bits: Vec<u64>,
    mask: u64,
    count: usize,
    capacity: usize,
}

/// Probes per key; with 10 bits per key this gives about 1% false positives.
const K: u32 = 7;

impl Bloom {
    /// A filter for `capacity` keys.
    pub fn with_capacity(capacity: usize) -> Bloom {
        let bits = (capacity.max(1024) * 10).next_power_of_two();
        Bloom {
            bits: vec![0; bits / 64],
            mask: bits as u64 - 1,
            count: 0,
            capacity: capacity.max(1024),
        }
    }

    fn probes(h: u64) -> impl Iterator<Item = u64> {
        // Double hashing (Kirsch–Mitzenmacher) from one 64-bit hash.
        let h1 = h;
        let h2 = h.rotate_left(32) | 1;
        (0..u64::from(K)).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)))
    }

    /// Add a key.
    pub fn insert(&mut self, h: u64) {
        for p in Self::probes(h) {
            let bit = p & self.mask;
            if let Some(w) = self.bits.get_mut((bit / 64) as usize) {
                *w |= 1 << (bit % 64);
            }
        }
        self.count += 1;
    }

    /// False means certainly absent; true means possibly present.
    pub fn may_contain(&self, h: u64) -> bool {
        Self::probes(h).all(|p| {
            let bit = p & self.mask;
            self.bits
                .get((bit / 64) as usize)
                .is_some_and(|w| w & (1 << (bit % 64)) != 0)
        })
    }

    /// Whether more keys than the filter was sized for have been added.
    pub fn is_overfull(&self) -> bool {
        self.count > self.capacity
    }

    /// Keys added.
    pub fn count(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut b = Bloom::with_capacity(100_000);
        let hash = |i: u64| xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
        for i in 0..100_000 {
            b.insert(hash(i));
        }
        assert!((0..100_000).all(|i| b.may_contain(hash(i))));
        let fp = (100_000..200_000)
            .filter(|&i| b.may_contain(hash(i)))
            .count();
        assert!(fp < 2_000, "false positive rate {fp}/100000");
    }
}
