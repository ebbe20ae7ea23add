//! The free-text word filter of a block: per group of [`GROUP_RECORDS`]
//! records, a partitioned Bloom filter of the words' hashes. A query word
//! selects the groups that may contain it; the records of those groups are
//! then verified against their bytes, so false positives cost time, never
//! correctness. Sized from measurement: generated records have ~54 distinct
//! words and a group of 64 has ~1,000 (most words repeat), ~4 per partition;
//! 128 bits and five probes per partition give ~0.03 % false positives per
//! group and word. Small groups matter more than a lower rate: a rare word
//! spread over many groups costs a verification of each whole group.

/// Records per group.
pub const GROUP_RECORDS: usize = 64;
/// Partitions per group, chosen by the top byte of the word hash. Sealed
/// blocks store one row per partition, so a query reads 1/256 of the filter.
pub const PARTS: usize = 256;
/// Bytes per partition of one group.
pub const PART_BYTES: usize = 16;
/// Bytes of one group's filter.
pub const GROUP_BYTES: usize = PARTS * PART_BYTES;

/// The partition of a word hash.
pub fn part(h: u64) -> usize {
    (h >> 56) as usize
}

/// The four bit positions (0..512) of a word hash within its partition.
fn probes(h: u64) -> [usize; 4] {
    let m = (PART_BYTES * 8 - 1) as u64;
    [
        (h & m) as usize,
        ((h >> 9) & m) as usize,
        ((h >> 18) & m) as usize,
        ((h >> 27) & m) as usize,
    ]
}

/// Whether a partition slice of [`PART_BYTES`] may contain `h`.
pub fn may_contain(slice: &[u8], h: u64) -> bool {
    probes(h).iter().all(|&bit| {
        slice
            .get(bit / 8)
            .is_some_and(|b| b & (1 << (bit % 8)) != 0)
    })
}

/// A block's word filter while the block is being written: group-major,
/// grown one group at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordFilter {
    data: Vec<u8>,
}

impl WordFilter {
    /// Add word hash `h` of the record at block-relative position `rel`.
    pub fn add(&mut self, rel: usize, h: u64) {
        let group = rel / GROUP_RECORDS;
        let need = (group + 1) * GROUP_BYTES;
        if self.data.len() < need {
            self.data.resize(need, 0);
        }
        let base = group * GROUP_BYTES + part(h) * PART_BYTES;
        for bit in probes(h) {
            if let Some(b) = self.data.get_mut(base + bit / 8) {
                *b |= 1 << (bit % 8);
            }
        }
    }

    /// Make room for the groups of `records` records, so that a group with
    /// no words is still present in sealed rows.
    pub fn cover(&mut self, records: usize) {
        let need = records.div_ceil(GROUP_RECORDS) * GROUP_BYTES;
        if self.data.len() < need {
            self.data.resize(need, 0);
        }
    }

    /// Groups held.
    pub fn groups(&self) -> usize {
        self.data.len() / GROUP_BYTES
    }

    /// The sealed row of partition `p`: each group's slice, in group order.
    pub fn row(&self, p: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.groups() * PART_BYTES);
        for g in 0..self.groups() {
            let at = g * GROUP_BYTES + p * PART_BYTES;
            out.extend_from_slice(
                self.data
                    .get(at..at + PART_BYTES)
                    .unwrap_or(&[0; PART_BYTES]),
            );
        }
        out
    }

    /// Groups that may contain `h`.
    pub fn groups_with(&self, h: u64) -> Vec<usize> {
        (0..self.groups())
            .filter(|g| {
                let at = g * GROUP_BYTES + part(h) * PART_BYTES;
                self.data
                    .get(at..at + PART_BYTES)
                    .is_some_and(|s| may_contain(s, h))
            })
            .collect()
    }
}

/// Groups of a sealed row (see [`WordFilter::row`]) that may contain `h`.
pub fn row_groups_with(row: &[u8], h: u64) -> Vec<usize> {
    row.chunks_exact(PART_BYTES)
        .enumerate()
        .filter(|(_, s)| may_contain(s, h))
        .map(|(g, _)| g)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_rows_agree() {
        let mut f = WordFilter::default();
        let hashes: Vec<u64> = (0..3000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i << 7))
            .collect();
        for (i, h) in hashes.iter().enumerate() {
            f.add(i % 700, *h);
        }
        f.cover(1000);
        assert_eq!(f.groups(), 16);
        for (i, h) in hashes.iter().enumerate() {
            let g = (i % 700) / GROUP_RECORDS;
            assert!(f.groups_with(*h).contains(&g));
            assert!(row_groups_with(&f.row(part(*h)), *h).contains(&g));
        }
        assert!(f.groups_with(12345).len() < 16);
    }
}
