//! Encoding of sealed block blobs. Every integer is little-endian.
//!
//! - columns: packed arrays (`u32` positions and dictionary ids, `i64` times,
//!   `u64` id hashes);
//! - postings: a tag byte, then either `0` + ascending `u16` offsets, or
//!   `1` + an 8192-byte bitmap (bit `i` of byte `i/8` = relative offset `i`),
//!   whichever is smaller.

/// Column ids within a block (stored in `block_columns.column`).
pub const COL_POSITIONS: i64 = 0;
pub const COL_TIMES: i64 = 1;
pub const COL_ID_HASHES: i64 = 2;
pub const COL_CLIENT_IPS: i64 = 3;
/// Dense column `i` is stored as `COL_DENSE + i`.
pub const COL_DENSE: i64 = 16;

pub fn encode_u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn encode_i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn encode_u64s(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn encode_u128s(v: &[u128]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn decode_u128s(b: &[u8]) -> Vec<u128> {
    b.chunks_exact(16)
        .map(|c| u128::from_le_bytes(c.try_into().unwrap_or([0; 16])))
        .collect()
}

pub fn decode_u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn decode_i64s(b: &[u8]) -> Vec<i64> {
    b.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

pub fn decode_u64s(b: &[u8]) -> Vec<u64> {
    b.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

const BITMAP_BYTES: usize = 8192;

/// Encode ascending block-relative offsets.
pub fn encode_postings(list: &[u16]) -> Vec<u8> {
    if list.len() * 2 > BITMAP_BYTES {
        let mut out = vec![0u8; BITMAP_BYTES + 1];
        out[0] = 1;
        for &r in list {
            let i = usize::from(r);
            if let Some(b) = out.get_mut(1 + i / 8) {
                *b |= 1 << (i % 8);
            }
        }
        out
    } else {
        let mut out = Vec::with_capacity(1 + list.len() * 2);
        out.push(0);
        for r in list {
            out.extend_from_slice(&r.to_le_bytes());
        }
        out
    }
}

/// Decode postings into ascending block-relative offsets.
pub fn decode_postings(b: &[u8]) -> Vec<u16> {
    match b.split_first() {
        Some((0, rest)) => rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect(),
        Some((1, bits)) => {
            let mut out = Vec::new();
            for (byte_i, &byte) in bits.iter().enumerate() {
                let mut b = byte;
                while b != 0 {
                    let bit = b.trailing_zeros() as usize;
                    out.push(u16::try_from(byte_i * 8 + bit).unwrap_or(u16::MAX));
                    b &= b - 1;
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Encode per-value counts: `(id:u32, count:u32)` pairs ascending by id.
pub fn encode_counts(v: &[(u32, u32)]) -> Vec<u8> {
    v.iter()
        .flat_map(|(a, b)| a.to_le_bytes().into_iter().chain(b.to_le_bytes()))
        .collect()
}

/// Decode what [`encode_counts`] wrote.
pub fn decode_counts(b: &[u8]) -> Vec<(u32, u32)> {
    b.chunks_exact(8)
        .map(|c| {
            (
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip() {
        assert_eq!(
            decode_counts(&encode_counts(&[(1, 10), (3, 2)])),
            vec![(1, 10), (3, 2)]
        );
    }

    #[test]
    fn postings_round_trip_in_both_encodings() {
        let sparse: Vec<u16> = vec![0, 5, 65535];
        assert_eq!(encode_postings(&sparse).len(), 7);
        assert_eq!(decode_postings(&encode_postings(&sparse)), sparse);
        let dense: Vec<u16> = (0..65535).step_by(3).collect();
        let enc = encode_postings(&dense);
        assert_eq!(enc.len(), 8193);
        assert_eq!(decode_postings(&enc), dense);
        assert_eq!(decode_u32s(&encode_u32s(&[1, u32::MAX])), vec![1, u32::MAX]);
        assert_eq!(decode_i64s(&encode_i64s(&[i64::MIN, 7])), vec![i64::MIN, 7]);
    }
}
